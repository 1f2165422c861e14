#include "hyphae/proto/tracker/tracker_client.hpp"

#include <gtest/gtest.h>

#include "hyphae/core/bencode_writer.hpp"

namespace hyphae::tracker {
namespace {

using namespace std::chrono_literals;

sha1_hash test_hash() {
    sha1_hash hash;
    hash.bytes.fill(0xab);
    return hash;
}

id160 test_peer_id() {
    return *id160::from_bytes(std::string_view("-HY0001-0123456789ab"));
}

// A tracker client on a virtual clock, with the outputs collected as they are drained.
struct harness {
    explicit harness(std::vector<std::vector<std::string>> tiers, tracker_client_config config = {},
                     std::uint64_t seed = 1)
        : client(std::move(tiers), test_hash(), test_peer_id(), 6881, config, seed) {}

    std::vector<tracker_request> requests() {
        std::vector<tracker_request> out;
        while (auto request = client.poll_request()) {
            out.push_back(std::move(*request));
        }
        return out;
    }

    // The requests that send something (http_get or udp_datagram); releases are checked apart.
    std::vector<tracker_request> sends() {
        std::vector<tracker_request> out;
        for (tracker_request& request : requests()) {
            if (!std::holds_alternative<request_release>(request.action)) {
                out.push_back(std::move(request));
            } else {
                released.push_back(request.request_id);
            }
        }
        return out;
    }

    tracker_request one_send() {
        auto out = sends();
        EXPECT_EQ(out.size(), 1u);
        return out.empty() ? tracker_request{} : out.front();
    }

    std::vector<tracker_event> events() {
        std::vector<tracker_event> out;
        while (auto event = client.poll_event()) {
            out.push_back(std::move(*event));
        }
        return out;
    }

    // Moves the clock to the next timer and fires it.
    void fire_timer() {
        auto at = client.next_timer();
        ASSERT_TRUE(at);
        ASSERT_GE(*at, now);
        now = *at;
        client.on_timer(now);
    }

    void advance(duration d) {
        now += d;
        client.on_timer(now);
    }

    duration until_timer() const {
        return client.next_timer() ? *client.next_timer() - now : duration::max();
    }

    time_point now{};
    tracker_client client;
    std::vector<std::uint64_t> released;
};

const http_get& as_http(const tracker_request& request) {
    return std::get<http_get>(request.action);
}

const byte_buffer& as_udp(const tracker_request& request) {
    return std::get<udp_datagram>(request.action).payload;
}

std::string announce_body(std::int64_t interval, std::vector<endpoint> peers = {}, bdict extra = {}) {
    std::string compact;
    for (const endpoint& peer : peers) {
        append_compact(compact, peer);
    }
    extra["interval"] = bvalue(interval);
    extra["peers"] = bvalue(compact);
    return bencode(bvalue(std::move(extra)));
}

void answer_http(harness& h, const tracker_request& request, const std::string& body, int status = 200) {
    h.client.on_http_response(h.now, request.request_id, status, as_bytes(body));
}

bool has_param(const tracker_request& request, std::string_view param) {
    const std::string& target = as_http(request).target;
    return target.find("?" + std::string(param)) != std::string::npos ||
           target.find("&" + std::string(param)) != std::string::npos;
}

template <class T>
std::vector<T> events_of(const std::vector<tracker_event>& events) {
    std::vector<T> out;
    for (const tracker_event& event : events) {
        if (const T* typed = std::get_if<T>(&event)) {
            out.push_back(*typed);
        }
    }
    return out;
}

// ---- UDP tracker side

std::uint32_t read32(const byte_buffer& bytes, std::size_t at) {
    return static_cast<std::uint32_t>(bytes.at(at)) << 24 |
           static_cast<std::uint32_t>(bytes.at(at + 1)) << 16 |
           static_cast<std::uint32_t>(bytes.at(at + 2)) << 8 | bytes.at(at + 3);
}

std::uint64_t read64(const byte_buffer& bytes, std::size_t at) {
    return static_cast<std::uint64_t>(read32(bytes, at)) << 32 | read32(bytes, at + 4);
}

void write32(byte_buffer& out, std::uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(value >> shift));
    }
}

std::uint32_t action_of_request(const byte_buffer& packet) {
    return read32(packet, 8);
}

std::uint32_t transaction_of_request(const byte_buffer& packet) {
    return read32(packet, 12);
}

byte_buffer connect_reply(std::uint32_t transaction_id, std::uint64_t connection_id) {
    byte_buffer out;
    write32(out, 0);
    write32(out, transaction_id);
    write32(out, static_cast<std::uint32_t>(connection_id >> 32));
    write32(out, static_cast<std::uint32_t>(connection_id));
    return out;
}

byte_buffer announce_reply(std::uint32_t transaction_id, std::uint32_t interval,
                           std::vector<endpoint> peers = {}) {
    byte_buffer out;
    write32(out, 1);
    write32(out, transaction_id);
    write32(out, interval);
    write32(out, 4);  // leechers
    write32(out, 2);  // seeders
    std::string compact;
    for (const endpoint& peer : peers) {
        append_compact(compact, peer);
    }
    out.insert(out.end(), compact.begin(), compact.end());
    return out;
}

byte_buffer error_reply(std::uint32_t transaction_id, std::string_view message) {
    byte_buffer out;
    write32(out, 3);
    write32(out, transaction_id);
    out.insert(out.end(), message.begin(), message.end());
    return out;
}

const std::string http_a = "http://a.example/announce";
const std::string http_b = "http://b.example:8080/announce";
const std::string http_c = "http://10.0.0.3/x/announce.php?passkey=k";
const std::string udp_a = "udp://u.example:6969/announce";

// ---- HTTP announces

TEST(tracker_client, announces_started_over_http_and_reports_peers) {
    harness h({{http_b}});
    h.client.start(h.now, {.uploaded = 1, .downloaded = 2, .left = 3});
    const tracker_request request = h.one_send();
    const http_get& get = as_http(request);
    EXPECT_EQ(get.host, "b.example");
    EXPECT_EQ(get.port, 8080);
    EXPECT_EQ(get.host_header, "b.example:8080");
    EXPECT_TRUE(get.target.starts_with("/announce?info_hash=%AB%AB")) << get.target;
    for (const char* param : {"peer_id=-HY0001-0123456789ab", "port=6881", "uploaded=1", "downloaded=2",
                              "left=3", "event=started", "numwant=50", "compact=1"}) {
        EXPECT_TRUE(has_param(request, param)) << param << " in " << get.target;
    }
    EXPECT_EQ(h.until_timer(), 30s);  // the HTTP timeout

    answer_http(h, request, announce_body(1800, {*endpoint::parse("10.1.1.1:1000")}, bdict{{"complete", 9}}));
    EXPECT_EQ(h.released, std::vector<std::uint64_t>{});
    EXPECT_TRUE(h.sends().empty());
    EXPECT_EQ(h.released, std::vector<std::uint64_t>{request.request_id});
    const auto events = h.events();
    ASSERT_EQ(events.size(), 2u);
    const auto& ok = std::get<announce_succeeded>(events[0]);
    EXPECT_EQ(ok.url, http_b);
    EXPECT_EQ(ok.event, announce_event::started);
    EXPECT_EQ(ok.interval, 1800s);
    EXPECT_EQ(ok.complete, 9);
    EXPECT_FALSE(ok.incomplete);
    const auto& found = std::get<peers_found>(events[1]);
    EXPECT_EQ(found.url, http_b);
    ASSERT_EQ(found.peers.size(), 1u);
    EXPECT_EQ(found.peers[0].to_string(), "10.1.1.1:1000");

    // The regular announce after the interval carries no event and the latest stats.
    EXPECT_EQ(h.until_timer(), 1800s);
    h.client.set_stats({.uploaded = 100, .downloaded = 200, .left = 0});
    h.advance(1799s);
    EXPECT_TRUE(h.sends().empty());
    h.advance(1s);
    const tracker_request again = h.one_send();
    EXPECT_FALSE(has_param(again, "event="));
    EXPECT_TRUE(has_param(again, "uploaded=100"));
    EXPECT_TRUE(has_param(again, "left=0"));
    EXPECT_NE(again.request_id, request.request_id);
}

TEST(tracker_client, honours_the_interval_within_its_bounds) {
    struct scenario {
        bdict response;
        duration expected;
    };
    const scenario scenarios[] = {
        {bdict{{"interval", 900}}, 900s},
        {bdict{{"interval", 10}}, 60s},                          // raised to interval_min
        {bdict{{"interval", 30}, {"min interval", 120}}, 120s},  // raised to 'min interval'
        {bdict{{"interval", 86400}}, 3h},                        // lowered to interval_max
        {bdict{}, 30min},                                        // none given: interval_default
    };
    for (const scenario& s : scenarios) {
        harness h({{http_a}});
        h.client.start(h.now, {});
        const tracker_request request = h.one_send();
        answer_http(h, request, bencode(bvalue(s.response)));
        EXPECT_EQ(std::get<announce_succeeded>(h.events().at(0)).interval, s.expected);
        EXPECT_EQ(h.until_timer(), s.expected);
    }
}

TEST(tracker_client, echoes_the_tracker_id) {
    harness h({{http_a}});
    h.client.start(h.now, {});
    answer_http(h, h.one_send(), announce_body(60, {}, bdict{{"tracker id", "T 1"}}));
    h.fire_timer();
    EXPECT_TRUE(has_param(h.one_send(), "trackerid=T%201"));
}

TEST(tracker_client, reports_a_failure_reason_and_a_bad_status) {
    harness h({{http_a}, {http_b}, {http_c}, {"http://d.example/announce"}});
    h.client.start(h.now, {});
    answer_http(h, h.one_send(), bencode(bdict{{"failure reason", "unregistered torrent"}}));
    answer_http(h, h.one_send(), "<html>oops</html>", 500);
    answer_http(h, h.one_send(), "<html>not bencode</html>");
    answer_http(h, h.one_send(), "d14:failure reason6:bannede", 403);
    const auto failures = events_of<announce_failed>(h.events());
    ASSERT_EQ(failures.size(), 4u);
    EXPECT_EQ(failures[3].reason, "HTTP status 403: banned");
    EXPECT_EQ(failures[0].url, http_a);
    EXPECT_EQ(failures[0].event, announce_event::started);
    EXPECT_EQ(failures[0].reason, "tracker response: failure reason: unregistered torrent");
    EXPECT_EQ(failures[1].reason, "HTTP status 500");
    EXPECT_TRUE(failures[2].reason.starts_with("tracker response: not bencoded")) << failures[2].reason;
}

TEST(tracker_client, times_out_http_requests_and_ignores_late_answers) {
    harness h({{http_a, http_b}});
    h.client.start(h.now, {});
    const tracker_request first = h.one_send();
    h.advance(29s);
    EXPECT_TRUE(h.sends().empty());
    h.advance(1s);
    const tracker_request second = h.one_send();
    EXPECT_EQ(h.released, std::vector<std::uint64_t>{first.request_id});  // the runtime drops the connection
    const auto failures = events_of<announce_failed>(h.events());
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].url, as_http(first).host == "a.example" ? http_a : http_b);
    EXPECT_EQ(failures[0].reason, "no HTTP response within 30 s");

    answer_http(h, first, announce_body(60));  // too late: ignored
    EXPECT_TRUE(h.events().empty());
    EXPECT_TRUE(h.requests().empty());
    h.client.on_http_response(h.now, 999, 200, as_bytes(announce_body(60)));  // never issued
    EXPECT_TRUE(h.events().empty());
    answer_http(h, second, announce_body(60));
    EXPECT_EQ(events_of<announce_succeeded>(h.events()).size(), 1u);
}

// ---- BEP 12 tiers

TEST(tracker_client, shuffles_tiers_once_and_deterministically) {
    const std::vector<std::string> five{"http://t1/announce", "http://t2/announce", "http://t3/announce",
                                        "http://t4/announce", "http://t5/announce"};
    harness a({five, {http_a}}, {}, 7);
    harness b({five, {http_a}}, {}, 7);
    EXPECT_EQ(a.client.tiers(), b.client.tiers());
    EXPECT_EQ(a.client.tiers().at(1), std::vector<std::string>{http_a});
    bool some_differ = false;
    for (std::uint64_t seed = 1; seed < 20; ++seed) {
        harness other({five}, {}, seed);
        auto tier = other.client.tiers().at(0);
        some_differ = some_differ || tier != five;
        std::sort(tier.begin(), tier.end());
        EXPECT_EQ(tier, five);  // a permutation
    }
    EXPECT_TRUE(some_differ);
    // Empty URLs, duplicates and empty tiers are dropped.
    harness dedup({{http_a, "", http_a}, {}, {http_a, http_b}});
    EXPECT_EQ(dedup.client.tiers(), (std::vector<std::vector<std::string>>{{http_a}, {http_b}}));
}

TEST(tracker_client, falls_to_the_next_tier_only_when_a_whole_tier_failed) {
    harness h({{http_a, http_b}, {http_c}});
    const auto tier0 = h.client.tiers()[0];
    h.client.start(h.now, {});
    const tracker_request first = h.one_send();
    EXPECT_EQ("http://" + as_http(first).host_header + "/announce", tier0[0]);
    h.client.on_request_failed(h.now, first.request_id, "connection refused");
    const tracker_request second = h.one_send();
    EXPECT_EQ("http://" + as_http(second).host_header + "/announce", tier0[1]);
    h.client.on_request_failed(h.now, second.request_id, "host not found");
    const tracker_request third = h.one_send();
    EXPECT_EQ(as_http(third).host, "10.0.0.3");
    EXPECT_EQ(as_http(third).target.substr(0, 32), "/x/announce.php?passkey=k&info_h");
    EXPECT_TRUE(has_param(third, "event=started"));
    answer_http(h, third, announce_body(600));
    const auto events = h.events();
    const auto failures = events_of<announce_failed>(events);
    ASSERT_EQ(failures.size(), 2u);
    EXPECT_EQ(failures[0].reason, "connection refused");
    EXPECT_EQ(failures[1].reason, "host not found");
    EXPECT_EQ(events_of<announce_succeeded>(events).at(0).url, http_c);

    // The next announce starts from the first tier again; its trackers never accepted 'started'.
    h.fire_timer();
    EXPECT_EQ(h.until_timer(), 30s);
    const tracker_request next = h.one_send();
    EXPECT_EQ("http://" + as_http(next).host_header + "/announce", tier0[0]);
    EXPECT_TRUE(has_param(next, "event=started"));
}

TEST(tracker_client, moves_a_tracker_that_answers_to_the_front_of_its_tier) {
    harness h({{http_a, http_b}});
    const auto before = h.client.tiers()[0];
    h.client.start(h.now, {});
    h.client.on_request_failed(h.now, h.one_send().request_id, "refused");
    answer_http(h, h.one_send(), announce_body(60));
    const auto after = h.client.tiers()[0];
    EXPECT_EQ(after, (std::vector<std::string>{before[1], before[0]}));
    h.fire_timer();
    EXPECT_EQ("http://" + as_http(h.one_send()).host_header + "/announce", after[0]);
}

TEST(tracker_client, backs_off_when_every_tracker_failed) {
    harness h({{http_a}, {http_b}});
    h.client.start(h.now, {});
    const duration expected[] = {1min, 2min, 4min, 8min};
    for (duration delay : expected) {
        h.client.on_request_failed(h.now, h.one_send().request_id, "refused");
        h.client.on_request_failed(h.now, h.one_send().request_id, "refused");
        EXPECT_EQ(h.until_timer(), delay);
        h.fire_timer();
    }
    answer_http(h, h.one_send(), announce_body(600));
    EXPECT_EQ(h.until_timer(), 600s);
    h.fire_timer();
    h.client.on_request_failed(h.now, h.one_send().request_id, "refused");
    h.client.on_request_failed(h.now, h.one_send().request_id, "refused");
    EXPECT_EQ(h.until_timer(), 1min);  // a success resets the back-off

    tracker_client_config capped;
    capped.retry_delay_max = 3min;
    harness c({{http_a}}, capped);
    c.client.start(c.now, {});
    for (duration delay : {1min, 2min, 3min, 3min}) {
        c.client.on_request_failed(c.now, c.one_send().request_id, "refused");
        EXPECT_EQ(c.until_timer(), delay);
        c.fire_timer();
    }
}

TEST(tracker_client, reports_https_and_malformed_trackers_once_then_skips_them) {
    harness h({{"https://secure.example/announce"}, {"ftp://odd/announce"}, {http_a}});
    h.client.start(h.now, {});
    const tracker_request request = h.one_send();
    EXPECT_EQ(as_http(request).host, "a.example");
    auto failures = events_of<announce_failed>(h.events());
    ASSERT_EQ(failures.size(), 2u);
    EXPECT_EQ(failures[0].url, "https://secure.example/announce");
    EXPECT_EQ(failures[0].reason, "https trackers are not supported");
    EXPECT_EQ(failures[1].reason, "tracker URL: 'ftp://odd/announce' is not an http, https or udp URL");
    h.client.on_request_failed(h.now, request.request_id, "refused");
    EXPECT_EQ(events_of<announce_failed>(h.events()).size(), 1u);
    h.fire_timer();
    h.one_send();
    EXPECT_TRUE(h.events().empty());  // not reported again

    harness none({{"https://only.example/announce"}});
    none.client.start(none.now, {});
    EXPECT_TRUE(none.sends().empty());
    EXPECT_EQ(events_of<announce_failed>(none.events()).size(), 1u);
    EXPECT_FALSE(none.client.next_timer());  // nothing could ever succeed
}

// ---- events: completed and stopped

TEST(tracker_client, announces_completed_once) {
    harness h({{http_a}});
    h.client.start(h.now, {.left = 10});
    answer_http(h, h.one_send(), announce_body(1800));
    h.events();
    h.advance(10s);
    h.client.completed(h.now, {.downloaded = 10, .left = 0});
    const tracker_request done = h.one_send();
    EXPECT_TRUE(has_param(done, "event=completed"));
    EXPECT_TRUE(has_param(done, "left=0"));
    answer_http(h, done, announce_body(1800));
    EXPECT_EQ(std::get<announce_succeeded>(h.events().at(0)).event, announce_event::completed);
    h.client.completed(h.now, {});
    EXPECT_TRUE(h.sends().empty());
    h.fire_timer();
    EXPECT_FALSE(has_param(h.one_send(), "event="));
}

TEST(tracker_client, sends_completed_after_the_announce_under_way) {
    harness h({{http_a}});
    h.client.start(h.now, {.left = 10});
    const tracker_request started = h.one_send();
    h.client.completed(h.now, {.left = 0});
    EXPECT_TRUE(h.sends().empty());  // one announce at a time
    answer_http(h, started, announce_body(1800));
    const tracker_request done = h.one_send();
    EXPECT_TRUE(has_param(done, "event=completed"));
    // A failed 'completed' is retried with the next round.
    h.client.on_request_failed(h.now, done.request_id, "refused");
    h.fire_timer();
    EXPECT_TRUE(has_param(h.one_send(), "event=completed"));
}

TEST(tracker_client, stops_with_one_attempt_then_idles) {
    harness h({{http_a}, {http_b}});
    h.client.start(h.now, {});
    const tracker_request first = h.one_send();
    h.client.on_request_failed(h.now, first.request_id, "refused");
    answer_http(h, h.one_send(), announce_body(1800));
    h.events();
    h.advance(100s);
    h.client.stop(h.now, {.uploaded = 5});
    EXPECT_FALSE(h.client.running());
    const tracker_request stop = h.one_send();  // only the tracker that accepted 'started'
    EXPECT_EQ(as_http(stop).host, "b.example");
    EXPECT_TRUE(has_param(stop, "event=stopped"));
    EXPECT_TRUE(has_param(stop, "numwant=0"));
    EXPECT_TRUE(has_param(stop, "uploaded=5"));
    answer_http(h, stop, announce_body(1800));
    const auto events = h.events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(std::get<announce_succeeded>(events[0]).event, announce_event::stopped);
    EXPECT_FALSE(h.client.next_timer());
    h.advance(10h);
    EXPECT_TRUE(h.sends().empty());
    h.client.stop(h.now, {});  // stopping twice does nothing
    EXPECT_TRUE(h.sends().empty());

    // A stop that gets no answer is not retried.
    harness t({{http_a}});
    t.client.start(t.now, {});
    answer_http(t, t.one_send(), announce_body(1800));
    t.client.stop(t.now, {});
    t.one_send();
    t.fire_timer();
    EXPECT_TRUE(t.sends().empty());
    EXPECT_EQ(events_of<announce_failed>(t.events()).at(0).event, announce_event::stopped);
    EXPECT_FALSE(t.client.next_timer());
}

TEST(tracker_client, stop_abandons_the_announce_under_way) {
    harness h({{http_a}});
    h.client.start(h.now, {});
    const tracker_request started = h.one_send();
    h.client.stop(h.now, {});
    EXPECT_TRUE(h.sends().empty());  // the tracker never accepted 'started': nothing to stop
    EXPECT_EQ(h.released, std::vector<std::uint64_t>{started.request_id});
    answer_http(h, started, announce_body(60));
    EXPECT_TRUE(h.events().empty());
    EXPECT_FALSE(h.client.next_timer());
    h.client.start(h.now, {});  // and may start again
    EXPECT_TRUE(has_param(h.one_send(), "event=started"));
}

// ---- scrape

TEST(tracker_client, scrapes_over_http) {
    harness h({{http_c}});
    h.client.scrape(h.now);
    const tracker_request request = h.one_send();
    EXPECT_EQ(
        as_http(request).target,
        "/x/scrape.php?passkey=k&info_hash=%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB");
    h.client.scrape(h.now);  // one at a time
    EXPECT_TRUE(h.sends().empty());
    const std::string body =
        bencode(bdict{{"files", bdict{{std::string(test_hash().chars()),
                                       bdict{{"complete", 3}, {"downloaded", 7}, {"incomplete", 2}}}}}});
    answer_http(h, request, body);
    const auto results = events_of<scrape_result>(h.events());
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].url, http_c);
    EXPECT_EQ(results[0].complete, 3);
    EXPECT_EQ(results[0].downloaded, 7);
    EXPECT_EQ(results[0].incomplete, 2);

    h.client.scrape(h.now);
    answer_http(h, h.one_send(), bencode(bdict{{"files", bdict{}}}));
    EXPECT_EQ(events_of<scrape_failed>(h.events()).at(0).reason, "the tracker has no entry for this torrent");

    harness odd({{"http://t.example/tracker"}});
    odd.client.scrape(odd.now);
    EXPECT_TRUE(odd.sends().empty());
    EXPECT_EQ(events_of<scrape_failed>(odd.events()).size(), 1u);
}

// ---- UDP (BEP 15)

// Answers the connect datagram of `request` and returns the announce (or scrape) it leads to.
tracker_request connect(harness& h, const tracker_request& request, std::uint64_t connection_id) {
    const byte_buffer& packet = as_udp(request);
    EXPECT_EQ(packet.size(), 16u);
    EXPECT_EQ(read64(packet, 0), udp_tracker_protocol_id);
    EXPECT_EQ(action_of_request(packet), 0u);
    h.client.on_udp_datagram(h.now, request.request_id,
                             connect_reply(transaction_of_request(packet), connection_id));
    return h.one_send();
}

TEST(tracker_client, connects_then_announces_over_udp) {
    harness h({{udp_a}});
    h.client.start(h.now, {.uploaded = 1, .downloaded = 2, .left = 3});
    const tracker_request connect_request = h.one_send();
    const auto& datagram = std::get<udp_datagram>(connect_request.action);
    EXPECT_EQ(datagram.host, "u.example");
    EXPECT_EQ(datagram.port, 6969);
    EXPECT_EQ(h.until_timer(), 15s);

    h.advance(2s);
    const tracker_request announce = connect(h, connect_request, 0x1122334455667788);
    EXPECT_EQ(announce.request_id, connect_request.request_id);  // one exchange, one id
    const byte_buffer& packet = as_udp(announce);
    ASSERT_EQ(packet.size(), 98u);
    EXPECT_EQ(read64(packet, 0), 0x1122334455667788u);
    EXPECT_EQ(action_of_request(packet), 1u);
    EXPECT_NE(transaction_of_request(packet), transaction_of_request(as_udp(connect_request)));
    EXPECT_EQ(read64(packet, 56), 2u);   // downloaded
    EXPECT_EQ(read64(packet, 64), 3u);   // left
    EXPECT_EQ(read64(packet, 72), 1u);   // uploaded
    EXPECT_EQ(read32(packet, 80), 2u);   // started
    EXPECT_EQ(read32(packet, 92), 50u);  // num_want
    EXPECT_EQ(h.until_timer(), 15s);     // n starts again at 0 for the announce

    h.client.on_udp_datagram(
        h.now, announce.request_id,
        announce_reply(transaction_of_request(packet), 120, {*endpoint::parse("10.9.9.9:7000")}));
    EXPECT_TRUE(h.sends().empty());
    EXPECT_EQ(h.released, std::vector<std::uint64_t>{announce.request_id});
    const auto events = h.events();
    ASSERT_EQ(events.size(), 2u);
    const auto& ok = std::get<announce_succeeded>(events[0]);
    EXPECT_EQ(ok.url, udp_a);
    EXPECT_EQ(ok.interval, 120s);
    EXPECT_EQ(ok.complete, 2);
    EXPECT_EQ(ok.incomplete, 4);
    EXPECT_EQ(std::get<peers_found>(events[1]).peers.at(0).to_string(), "10.9.9.9:7000");
    EXPECT_EQ(h.until_timer(), 120s);
}

TEST(tracker_client, reuses_a_connection_id_for_a_minute_then_reconnects) {
    tracker_client_config config;
    config.interval_min = 30s;
    harness h({{udp_a}}, config);
    h.client.start(h.now, {});
    const tracker_request announce = connect(h, h.one_send(), 42);
    h.client.on_udp_datagram(h.now, announce.request_id,
                             announce_reply(transaction_of_request(as_udp(announce)), 30));
    h.events();

    h.advance(20s);
    h.client.scrape(h.now);
    const tracker_request scrape = h.one_send();
    const byte_buffer& packet = as_udp(scrape);
    ASSERT_EQ(packet.size(), 36u);  // straight to the scrape: the connection id is 20 s old
    EXPECT_EQ(read64(packet, 0), 42u);
    EXPECT_EQ(action_of_request(packet), 2u);
    byte_buffer reply;
    write32(reply, 2);
    write32(reply, transaction_of_request(packet));
    write32(reply, 5);
    write32(reply, 6);
    write32(reply, 7);
    h.client.on_udp_datagram(h.now, scrape.request_id, reply);
    const auto results = events_of<scrape_result>(h.events());
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].complete, 5);
    EXPECT_EQ(results[0].downloaded, 6);
    EXPECT_EQ(results[0].incomplete, 7);

    h.fire_timer();  // 30 s after the announce: the id is 30 s old, still good
    const tracker_request second = h.one_send();
    EXPECT_EQ(action_of_request(as_udp(second)), 1u);
    EXPECT_EQ(read64(as_udp(second), 0), 42u);
    h.client.on_udp_datagram(h.now, second.request_id,
                             announce_reply(transaction_of_request(as_udp(second)), 30));
    h.fire_timer();  // 60 s after the id arrived: connect again
    const tracker_request third = h.one_send();
    EXPECT_EQ(as_udp(third).size(), 16u);
    EXPECT_EQ(read64(as_udp(third), 0), udp_tracker_protocol_id);
}

TEST(tracker_client, drops_datagrams_with_another_transaction_id_or_action) {
    harness h({{udp_a}});
    h.client.start(h.now, {});
    const tracker_request request = h.one_send();
    const std::uint32_t tid = transaction_of_request(as_udp(request));
    h.client.on_udp_datagram(h.now, request.request_id, connect_reply(tid + 1, 5));  // another transaction
    h.client.on_udp_datagram(h.now, request.request_id, announce_reply(tid, 60));    // not a connect
    h.client.on_udp_datagram(h.now, request.request_id, byte_buffer{1, 2, 3});       // not a response
    h.client.on_udp_datagram(h.now, request.request_id + 1, connect_reply(tid, 5));  // another request
    h.client.on_udp_datagram(h.now, request.request_id, error_reply(tid + 1, "not yours"));
    EXPECT_TRUE(h.requests().empty());
    EXPECT_TRUE(h.events().empty());
    const tracker_request announce = connect(h, request, 5);
    const std::uint32_t announce_tid = transaction_of_request(as_udp(announce));
    h.client.on_udp_datagram(h.now, announce.request_id, connect_reply(announce_tid, 6));  // connect again?
    h.client.on_udp_datagram(h.now, announce.request_id, announce_reply(tid, 60));  // the old transaction
    EXPECT_TRUE(h.requests().empty());
    EXPECT_TRUE(h.events().empty());
    h.client.on_udp_datagram(h.now, announce.request_id, announce_reply(announce_tid, 60));
    EXPECT_EQ(events_of<announce_succeeded>(h.events()).size(), 1u);
}

TEST(tracker_client, retransmits_after_15_30_60_seconds_and_gives_up_after_the_ninth_send) {
    harness h({{udp_a}, {http_a}});
    h.client.start(h.now, {});
    const tracker_request first = h.one_send();
    duration waited{};
    duration wait = 15s;
    for (int n = 0; n < 8; ++n) {
        EXPECT_EQ(h.until_timer(), wait) << "n = " << n;
        h.advance(wait - 1s);
        EXPECT_TRUE(h.sends().empty());
        h.advance(1s);
        const tracker_request again = h.one_send();
        EXPECT_EQ(again.request_id, first.request_id);
        EXPECT_EQ(as_udp(again), as_udp(first));  // the same connect, same transaction id
        waited += wait;
        wait *= 2;
    }
    EXPECT_EQ(waited, 15s * 255);
    EXPECT_EQ(h.until_timer(), 3840s);
    EXPECT_TRUE(h.events().empty());
    h.advance(3840s);
    // Given up: the next tracker is tried.
    const tracker_request next = h.one_send();
    EXPECT_EQ(as_http(next).host, "a.example");
    EXPECT_EQ(h.released, std::vector<std::uint64_t>{first.request_id});
    const auto failures = events_of<announce_failed>(h.events());
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].reason, "no answer from the UDP tracker after 9 attempts");
}

TEST(tracker_client, reconnects_when_the_connection_id_expires_during_retransmissions) {
    harness h({{udp_a}});
    h.client.start(h.now, {});
    const tracker_request announce = connect(h, h.one_send(), 77);
    h.fire_timer();  // 15 s
    EXPECT_EQ(read64(as_udp(h.one_send()), 0), 77u);
    h.fire_timer();  // 45 s
    EXPECT_EQ(read64(as_udp(h.one_send()), 0), 77u);
    h.fire_timer();  // 105 s: the connection id is older than a minute
    const tracker_request reconnect = h.one_send();
    EXPECT_EQ(reconnect.request_id, announce.request_id);
    EXPECT_EQ(as_udp(reconnect).size(), 16u);
    EXPECT_EQ(h.until_timer(), 120s);  // the schedule goes on: n = 3
    const tracker_request again = connect(h, reconnect, 78);
    EXPECT_EQ(read64(as_udp(again), 0), 78u);
    EXPECT_EQ(action_of_request(as_udp(again)), 1u);
}

TEST(tracker_client, fails_the_tracker_on_an_error_action) {
    harness h({{udp_a, http_a}});
    const auto order = h.client.tiers()[0];
    h.client.start(h.now, {});
    tracker_request request = h.one_send();
    if (order[0] != udp_a) {
        h.client.on_request_failed(h.now, request.request_id, "refused");
        request = h.one_send();
    }
    h.events();
    const tracker_request announce = connect(h, request, 9);
    h.client.on_udp_datagram(h.now, announce.request_id,
                             error_reply(transaction_of_request(as_udp(announce)), "torrent not allowed"));
    const auto failures = events_of<announce_failed>(h.events());
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].url, udp_a);
    EXPECT_EQ(failures[0].reason, "tracker error: torrent not allowed");
    h.sends();
    EXPECT_EQ(std::count(h.released.begin(), h.released.end(), announce.request_id), 1);
}

TEST(tracker_client, stops_a_udp_tracker_with_one_attempt) {
    harness h({{udp_a}});
    h.client.start(h.now, {});
    const tracker_request announce = connect(h, h.one_send(), 3);
    h.client.on_udp_datagram(h.now, announce.request_id,
                             announce_reply(transaction_of_request(as_udp(announce)), 1800));
    h.events();
    h.advance(10s);
    h.client.stop(h.now, {});
    const tracker_request stop = h.one_send();
    EXPECT_EQ(action_of_request(as_udp(stop)), 1u);  // the id is 10 s old: no connect needed
    EXPECT_EQ(read32(as_udp(stop), 80), 3u);         // stopped
    EXPECT_EQ(read32(as_udp(stop), 92), 0u);         // num_want 0
    h.fire_timer();
    EXPECT_TRUE(h.sends().empty());
    const auto failures = events_of<announce_failed>(h.events());
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].event, announce_event::stopped);
    EXPECT_EQ(failures[0].reason, "no answer from the UDP tracker after 1 attempt");
    EXPECT_FALSE(h.client.next_timer());
}

TEST(tracker_client, reads_ipv6_peers_from_a_tracker_reached_over_ipv6) {
    harness h({{"udp://[2001:db8::5]:6969"}});
    h.client.start(h.now, {});
    const tracker_request announce = connect(h, h.one_send(), 1);
    h.client.on_udp_datagram(h.now, announce.request_id,
                             announce_reply(transaction_of_request(as_udp(announce)), 60,
                                            {*endpoint::parse("[2001:db8::9]:6881")}));
    const auto found = events_of<peers_found>(h.events());
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].peers.at(0).to_string(), "[2001:db8::9]:6881");
}

// ---- bounds

TEST(tracker_client, bounds_its_queues) {
    tracker_client_config config;
    config.requests_queued_max = 2;
    config.events_queued_max = 2;
    harness h({{"https://1/announce"}, {"https://2/announce"}, {"https://3/announce"}, {http_a}}, config);
    h.client.start(h.now, {});
    h.client.scrape(h.now);
    h.client.on_request_failed(h.now, 1, "refused");  // the announce fails: release + next round later
    const auto requests = h.requests();
    EXPECT_EQ(requests.size(), 2u);  // announce, scrape; the release was dropped
    const auto events = h.events();
    ASSERT_EQ(events.size(), 2u);  // the oldest were dropped
    EXPECT_EQ(std::get<announce_failed>(events[0]).url, "https://3/announce");
    EXPECT_EQ(std::get<announce_failed>(events[1]).url, http_a);

    tracker_client_config few;
    few.trackers_max = 2;
    harness bounded({{http_a, http_b, http_c}, {udp_a}}, few);
    std::size_t count = 0;
    for (const auto& tier : bounded.client.tiers()) {
        count += tier.size();
    }
    EXPECT_EQ(count, 2u);
}

}  // namespace
}  // namespace hyphae::tracker
