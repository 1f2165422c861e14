#include "hyphae/proto/tracker/tracker_server.hpp"

#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "hyphae/core/encoding.hpp"
#include "hyphae/core/http/http_response_parser.hpp"
#include "hyphae/host/host.hpp"
#include "hyphae/proto/tracker/announce.hpp"
#include "hyphae/proto/tracker/scrape.hpp"
#include "hyphae/proto/tracker/udp_tracker_codec.hpp"

namespace hyphae::tracker {
namespace {

using namespace std::chrono_literals;

sha1_hash hash_of(int n) {
    sha1_hash h;
    h.bytes.fill(static_cast<std::uint8_t>(n));
    return h;
}

announce_request request_for(int swarm, int peer, std::int64_t left = 100) {
    announce_request r;
    r.info_hash = hash_of(swarm);
    r.peer_id.bytes.fill(static_cast<std::uint8_t>(peer));
    r.port = static_cast<std::uint16_t>(6000 + peer);
    r.left = left;
    r.numwant = -1;
    return r;
}

// A tracker core on a virtual clock, with clients that speak to it the way real ones do.
struct tracker_fixture : ::testing::Test {
    time_point now = time_point(100s);
    tracker_config config = [] {
        tracker_config c;
        c.interval = 60s;
        c.min_interval = 30s;
        c.report_refusals = true;
        return c;
    }();
    std::unique_ptr<tracker_server> tracker;
    std::uint64_t next_connection = 1;

    void SetUp() override { remake(); }
    void remake() { tracker = std::make_unique<tracker_server>(config, 42, now); }

    void advance(duration d) {
        const time_point end = now + d;
        while (tracker->next_timer() && *tracker->next_timer() <= end) {
            now = std::max(now, *tracker->next_timer());
            tracker->on_timer(now);
        }
        now = end;
    }

    std::vector<transmit> drain() {
        std::vector<transmit> out;
        while (auto t = tracker->poll_transmit()) {
            out.push_back(std::move(*t));
        }
        return out;
    }

    std::vector<std::string> notices() {
        std::vector<std::string> out;
        while (auto e = tracker->poll_event()) {
            out.push_back(e->text);
        }
        return out;
    }

    // UDP: one datagram in, the replies out.
    std::vector<byte_buffer> udp(const endpoint& from, const byte_buffer& datagram) {
        tracker->on_datagram(now, from, datagram);
        std::vector<byte_buffer> replies;
        for (auto& t : drain()) {
            auto& d = std::get<io::datagram>(t);
            EXPECT_EQ(d.to, from);
            replies.push_back(std::move(d.bytes));
        }
        return replies;
    }

    std::uint64_t udp_connect(const endpoint& from) {
        auto replies = udp(from, encode_udp_connect(1));
        EXPECT_EQ(replies.size(), 1u);
        auto r = decode_udp_tracker_response(replies.at(0));
        EXPECT_TRUE(r);
        return std::get<udp_connect_response>(*r).connection_id;
    }

    udp_tracker_response udp_announce(const endpoint& from, const announce_request& request) {
        const std::uint64_t id = udp_connect(from);
        auto replies = udp(from, encode_udp_announce(id, 2, request));
        EXPECT_EQ(replies.size(), 1u);
        udp_tracker_limits limits;
        limits.ipv6_peers = from.address.unmapped().is_v6();
        auto r = decode_udp_tracker_response(replies.at(0), limits);
        EXPECT_TRUE(r) << r.error().message();
        EXPECT_EQ(transaction_id_of(*r), 2u);
        return *r;
    }

    // HTTP: a connection, bytes in, what comes back parsed.
    std::uint64_t open(const endpoint& from) {
        const std::uint64_t id = next_connection++;
        tracker->on_accepted(now, id, from);
        return id;
    }

    struct http_reply {
        std::vector<http::http_response> responses;
        bool closed = false;
        bool flushed = false;  // closed once the answer is written
    };

    http_reply send(std::uint64_t connection, std::string_view bytes) {
        tracker->on_stream_bytes(now, connection, as_bytes(bytes));
        http::http_response_parser parser;
        http_reply out;
        for (auto& t : drain()) {
            if (auto* w = std::get_if<io::send>(&t)) {
                EXPECT_EQ(w->conn, connection);
                EXPECT_FALSE(out.closed);  // nothing is written after a close
                for (const out_buffer& b : w->data) {
                    EXPECT_TRUE(parser.feed(b.bytes));
                }
            } else if (auto* c = std::get_if<io::close>(&t)) {
                EXPECT_EQ(c->conn, connection);
                out.closed = true;
                out.flushed = c->flush;
            }
        }
        while (auto r = parser.poll_response()) {
            out.responses.push_back(std::move(*r));
        }
        return out;
    }

    http::http_response get(const endpoint& from, const std::string& target) {
        const std::uint64_t c = open(from);
        auto reply = send(c, "GET " + target + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        EXPECT_EQ(reply.responses.size(), 1u);
        EXPECT_TRUE(reply.closed);
        tracker->on_closed(now, c, "closed by the client");
        return reply.responses.empty() ? http::http_response{} : reply.responses[0];
    }

    std::string announce_target(const announce_request& r) {
        std::string url = announce_url("http://t/announce", r);
        return url.substr(url.find("/announce"));
    }

    result<announce_response> http_announce(const endpoint& from, const announce_request& r) {
        const http::http_response response = get(from, announce_target(r));
        EXPECT_EQ(response.status, 200);
        return parse_announce_response(as_bytes(response.body));
    }
};

const endpoint alice = *endpoint::parse("10.0.0.1:40000");
const endpoint bob = *endpoint::parse("10.0.0.2:40001");
const endpoint carol6 = *endpoint::parse("[2001:db8::3]:40002");

TEST_F(tracker_fixture, udp_peers_find_each_other) {
    auto first = std::get<udp_announce_response>(udp_announce(alice, request_for(1, 1)));
    EXPECT_TRUE(first.peers.empty());
    EXPECT_EQ(first.leechers, 1u);
    EXPECT_EQ(first.interval, 60s);
    auto second = std::get<udp_announce_response>(udp_announce(bob, request_for(1, 2, 0)));
    EXPECT_EQ(second.seeders, 1u);
    EXPECT_EQ(second.leechers, 1u);
    // The address is the datagram's source, the port the announced one.
    EXPECT_EQ(second.peers, std::vector<endpoint>{*endpoint::parse("10.0.0.1:6001")});
    const tracker_figures f = tracker->figures(now);
    EXPECT_EQ(f.counters.udp_connects, 2u);
    EXPECT_EQ(f.counters.udp_announces, 2u);
    EXPECT_EQ(f.swarms, 1u);
    EXPECT_EQ(f.peers, 2u);
}

TEST_F(tracker_fixture, udp_answers_ipv6_peers_over_ipv6_only) {
    udp_announce(alice, request_for(1, 1));
    auto v6 = std::get<udp_announce_response>(udp_announce(carol6, request_for(1, 3)));
    EXPECT_TRUE(v6.peers.empty());
    EXPECT_EQ(v6.leechers, 2u);
    auto v6_again =
        std::get<udp_announce_response>(udp_announce(*endpoint::parse("[2001:db8::4]:1"), request_for(1, 4)));
    EXPECT_EQ(v6_again.peers, std::vector<endpoint>{*endpoint::parse("[2001:db8::3]:6003")});
    // An IPv4-mapped source is IPv4.
    auto mapped = std::get<udp_announce_response>(
        udp_announce(*endpoint::parse("[::ffff:10.0.0.9]:5"), request_for(1, 9)));
    EXPECT_EQ(mapped.peers, std::vector<endpoint>{*endpoint::parse("10.0.0.1:6001")});
}

TEST_F(tracker_fixture, udp_scrape_reports_counts_in_order) {
    udp_announce(alice, request_for(1, 1, 0));
    udp_announce(bob, request_for(1, 2));
    const std::uint64_t id = udp_connect(alice);
    const std::vector<sha1_hash> hashes{hash_of(9), hash_of(1)};
    auto replies = udp(alice, *encode_udp_scrape(id, 3, hashes));
    ASSERT_EQ(replies.size(), 1u);
    auto s = std::get<udp_scrape_response>(*decode_udp_tracker_response(replies[0]));
    ASSERT_EQ(s.entries.size(), 2u);
    EXPECT_EQ(s.entries[0].seeders + s.entries[0].leechers, 0u);
    EXPECT_EQ(s.entries[1].seeders, 1u);
    EXPECT_EQ(s.entries[1].leechers, 1u);
}

TEST_F(tracker_fixture, udp_refuses_forged_and_expired_connection_ids) {
    const std::uint64_t id = udp_connect(alice);
    const byte_buffer packet = encode_udp_announce(id, 5, request_for(1, 1));
    // Someone else using alice's id.
    auto forged = udp(bob, packet);
    ASSERT_EQ(forged.size(), 1u);
    auto error = decode_udp_tracker_response(forged[0]);
    ASSERT_TRUE(error);
    EXPECT_EQ(std::get<udp_error_response>(*error).message, "connection id expired or invalid");
    EXPECT_EQ(std::get<udp_error_response>(*error).transaction_id, 5u);
    // Alice within two minutes, then after.
    advance(119s);
    auto ok = udp(alice, packet);
    ASSERT_EQ(ok.size(), 1u);
    EXPECT_EQ(action_of(*decode_udp_tracker_response(ok[0])), udp_tracker_action::announce);
    advance(2s);
    auto late = udp(alice, packet);
    ASSERT_EQ(late.size(), 1u);
    EXPECT_EQ(action_of(*decode_udp_tracker_response(late[0])), udp_tracker_action::error);
    EXPECT_EQ(tracker->figures(now).counters.udp_bad_connection_ids, 2u);
}

TEST_F(tracker_fixture, udp_never_answers_with_more_bytes_than_came_in) {
    // 16 bytes with a random connection id: the error would be longer, so it is cut to 8 bytes of text.
    byte_buffer small = encode_udp_connect(7);
    small[0] = 0x99;
    small[11] = 1;  // action announce
    auto replies = udp(alice, small);
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_LE(replies[0].size(), small.size());
    // Too short to carry a transaction id: dropped.
    EXPECT_TRUE(udp(alice, byte_buffer(15, 0)).empty());
    // A connect without the protocol id: dropped (not a BEP 15 client).
    byte_buffer no_magic = encode_udp_connect(7);
    no_magic[7] ^= 1;
    EXPECT_TRUE(udp(alice, no_magic).empty());
    // Every reply to bad input, at every size, is no larger than its datagram.
    rng random(9);
    const std::uint64_t id = udp_connect(alice);
    for (int i = 0; i < 2000; ++i) {
        byte_buffer junk(16 + random.uniform(120));
        for (auto& b : junk) {
            b = static_cast<std::uint8_t>(random());
        }
        if (i % 2 == 0) {
            for (int k = 0; k < 8; ++k) {
                junk[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(id >> (56 - 8 * k));
            }
        }
        for (const auto& reply : udp(alice, junk)) {
            const auto action = decode_udp_tracker_response(reply);
            if (action && action_of(*action) == udp_tracker_action::error) {
                EXPECT_LE(reply.size(), junk.size());
            }
        }
    }
}

TEST_F(tracker_fixture, udp_errors_for_malformed_requests_and_unknown_actions) {
    const std::uint64_t id = udp_connect(alice);
    byte_buffer unknown = encode_udp_announce(id, 4, request_for(1, 1));
    unknown[11] = 9;
    auto r = decode_udp_tracker_response(udp(alice, unknown).at(0));
    EXPECT_EQ(std::get<udp_error_response>(*r).message, "unknown action 9");
    byte_buffer bad_event = encode_udp_announce(id, 4, request_for(1, 1));
    bad_event[83] = 7;
    r = decode_udp_tracker_response(udp(alice, bad_event).at(0));
    EXPECT_EQ(std::get<udp_error_response>(*r).message, "udp tracker announce: unknown event 7");
    announce_request no_port = request_for(1, 1);
    no_port.port = 0;
    r = decode_udp_tracker_response(udp(alice, encode_udp_announce(id, 4, no_port)).at(0));
    EXPECT_EQ(std::get<udp_error_response>(*r).message, "announce: port 0");
    EXPECT_EQ(tracker->figures(now).peers, 0u);
    EXPECT_FALSE(notices().empty());
}

TEST_F(tracker_fixture, http_peers_find_each_other_in_both_families) {
    auto a = http_announce(alice, request_for(1, 1));
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_TRUE(a->peers.empty());
    EXPECT_EQ(a->interval, 60s);
    EXPECT_EQ(a->min_interval, 30s);
    http_announce(carol6, request_for(1, 3));
    auto b = http_announce(bob, request_for(1, 2, 0));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->complete, 1);
    EXPECT_EQ(b->incomplete, 2);
    EXPECT_EQ(
        std::set<endpoint>(b->peers.begin(), b->peers.end()),
        (std::set<endpoint>{*endpoint::parse("10.0.0.1:6001"), *endpoint::parse("[2001:db8::3]:6003")}));
    EXPECT_EQ(tracker->figures(now).counters.http_announces, 3u);
}

TEST_F(tracker_fixture, http_takes_the_address_from_the_connection_unless_told_otherwise) {
    const std::string spoof = announce_target(request_for(1, 1)) + "&ip=9.9.9.9";
    get(alice, spoof);
    auto b = http_announce(bob, request_for(1, 2));
    EXPECT_EQ(b->peers, std::vector<endpoint>{*endpoint::parse("10.0.0.1:6001")});

    config.trust_ip_param = true;
    remake();
    get(alice, spoof);
    b = http_announce(bob, request_for(1, 2));
    EXPECT_EQ(b->peers, std::vector<endpoint>{*endpoint::parse("9.9.9.9:6001")});

    config.trust_ip_param = false;
    config.ip_header = "X-Forwarded-For";
    remake();
    const std::uint64_t c = open(*endpoint::parse("127.0.0.1:1"));
    send(c, "GET " + announce_target(request_for(1, 1)) +
                " HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 1.1.1.1, 8.8.4.4\r\n\r\n");
    b = http_announce(bob, request_for(1, 2));
    EXPECT_EQ(b->peers, std::vector<endpoint>{*endpoint::parse("8.8.4.4:6001")});
}

TEST_F(tracker_fixture, http_non_compact_answers_list_dictionaries) {
    http_announce(alice, request_for(1, 1));
    std::string target = announce_target(request_for(1, 2));
    target.replace(target.find("compact=1"), 9, "compact=0");
    const http::http_response r = get(bob, target);
    EXPECT_NE(r.body.find("2:ip8:10.0.0.1"), std::string::npos) << r.body;
    auto parsed = parse_announce_response(as_bytes(r.body));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->peers, std::vector<endpoint>{*endpoint::parse("10.0.0.1:6001")});
}

TEST_F(tracker_fixture, http_refuses_bad_announces_with_a_failure_reason) {
    const http::http_response missing =
        get(alice, "/announce?info_hash=" + percent_encode(hash_of(1).chars()));
    EXPECT_EQ(missing.status, 200);
    EXPECT_EQ(missing.body, "d14:failure reason25:announce: missing peer_ide");
    const http::http_response bad = get(alice, "/announce?info_hash=%zz");
    EXPECT_EQ(bad.body, "d14:failure reason47:announce: info_hash: malformed percent-encodinge");
    EXPECT_EQ(tracker->figures(now).counters.announce_failures, 2u);
    EXPECT_EQ(tracker->figures(now).peers, 0u);
}

TEST_F(tracker_fixture, http_scrape_and_its_limits) {
    http_announce(alice, request_for(1, 1, 0));
    http_announce(bob, request_for(1, 2));
    const std::string target = "/scrape?info_hash=" + percent_encode(hash_of(1).chars()) +
                               "&info_hash=" + percent_encode(hash_of(2).chars()) +
                               "&info_hash=" + percent_encode(hash_of(1).chars());
    auto s = parse_scrape_response(as_bytes(get(alice, target).body));
    ASSERT_TRUE(s) << s.error().message();
    ASSERT_EQ(s->files.size(), 2u);
    EXPECT_EQ(s->files[0].info_hash, hash_of(1));
    EXPECT_EQ(s->files[0].complete, 1);
    EXPECT_EQ(s->files[0].incomplete, 1);
    EXPECT_EQ(s->files[1].complete + s->files[1].incomplete, 0);
    EXPECT_EQ(get(alice, "/scrape").body,
              "d14:failure reason59:scrape: full scrape is not supported: name info_hash valuese");
}

TEST_F(tracker_fixture, http_keeps_connections_alive_and_answers_pipelined_requests_in_order) {
    const std::uint64_t c = open(alice);
    const std::string one = "GET /stats HTTP/1.1\r\nHost: t\r\n\r\n";
    const std::string two = "GET /nothing HTTP/1.1\r\nHost: t\r\n\r\n";
    auto reply = send(c, one + two + one.substr(0, 10));
    ASSERT_EQ(reply.responses.size(), 2u);
    EXPECT_FALSE(reply.closed);
    EXPECT_EQ(reply.responses[0].status, 200);
    EXPECT_EQ(reply.responses[1].status, 404);
    reply = send(c, one.substr(10));
    ASSERT_EQ(reply.responses.size(), 1u);
    EXPECT_EQ(reply.responses[0].status, 200);
    reply = send(c, "POST /announce HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(reply.responses.at(0).status, 405);
    EXPECT_FALSE(reply.closed);
    // Malformed: 400 and closed.
    reply = send(c, "GET /x HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n");
    ASSERT_EQ(reply.responses.size(), 1u);
    EXPECT_EQ(reply.responses[0].status, 400);
    EXPECT_TRUE(reply.closed);
    EXPECT_TRUE(reply.flushed);  // the 400 is written first
    EXPECT_EQ(tracker->figures(now).counters.http_malformed, 1u);
    EXPECT_EQ(tracker->figures(now).http_connections_open, 0u);
    // Bytes for a connection already closed are ignored.
    EXPECT_TRUE(send(c, one).responses.empty());
}

TEST_F(tracker_fixture, http_bounds_connections_and_closes_idle_ones) {
    config.http_connections_max = 3;
    config.http_idle_timeout = 10s;
    remake();
    for (int i = 0; i < 3; ++i) {
        open(alice);
    }
    EXPECT_TRUE(drain().empty());
    const std::uint64_t refused = open(alice);
    auto out = drain();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(std::get<io::close>(out[0]).conn, refused);
    EXPECT_FALSE(std::get<io::close>(out[0]).flush);
    EXPECT_EQ(tracker->figures(now).counters.http_connections_refused, 1u);
    advance(5s);
    send(1, "GET /stats HTTP/1.1\r\nHost: t\r\n\r\n");  // keeps connection 1 busy
    advance(8s);
    out = drain();
    ASSERT_EQ(out.size(), 2u);
    std::set<std::uint64_t> closed;
    for (auto& t : out) {
        closed.insert(std::get<io::close>(t).conn);
    }
    EXPECT_EQ(closed, (std::set<std::uint64_t>{2, 3}));
    EXPECT_EQ(tracker->figures(now).http_connections_open, 1u);
    EXPECT_EQ(tracker->figures(now).counters.http_connections_timed_out, 2u);
}

TEST_F(tracker_fixture, rate_limits_floods_from_one_address_and_keeps_serving_others) {
    config.rate_per_address = 5;
    config.burst_per_address = 10;
    remake();
    int answered = 0;
    for (int i = 0; i < 100; ++i) {
        answered += udp(alice, encode_udp_connect(static_cast<std::uint32_t>(i))).size();
    }
    EXPECT_EQ(answered, 10);
    EXPECT_EQ(tracker->figures(now).counters.rate_limited, 90u);
    EXPECT_EQ(udp(bob, encode_udp_connect(1)).size(), 1u);
    // Over HTTP: 429 and the connection closes.
    const std::uint64_t c = open(alice);
    auto reply = send(c, "GET /stats HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_EQ(reply.responses.size(), 1u);
    EXPECT_EQ(reply.responses[0].status, 429);
    EXPECT_TRUE(reply.closed);
    advance(1s);
    EXPECT_EQ(udp(alice, encode_udp_connect(1)).size(), 1u);
}

TEST_F(tracker_fixture, allow_list_refuses_unknown_torrents_and_drops_their_swarms) {
    http_announce(alice, request_for(1, 1));
    http_announce(alice, request_for(2, 1));
    EXPECT_EQ(tracker->set_allow_list(now, std::vector<sha1_hash>{hash_of(2)}), 1u);
    EXPECT_EQ(tracker->figures(now).swarms, 1u);
    auto refused = http_announce(bob, request_for(1, 2));
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message().find("unregistered torrent"), std::string::npos);
    auto udp_refused = udp_announce(bob, request_for(1, 2));
    EXPECT_EQ(std::get<udp_error_response>(udp_refused).message, "unregistered torrent");
    auto ok = http_announce(bob, request_for(2, 2));
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->peers.size(), 1u);
    EXPECT_EQ(tracker->figures(now).counters.unknown_torrents, 2u);
    EXPECT_EQ(tracker->set_allow_list(now, std::nullopt), 0u);
    EXPECT_TRUE(http_announce(bob, request_for(1, 2)));
}

TEST_F(tracker_fixture, peers_expire_after_the_configured_intervals) {
    config.expire_intervals = 3;  // 3 * 60 s
    config.sweep_period = 10s;
    remake();
    udp_announce(alice, request_for(1, 1));
    advance(100s);
    udp_announce(bob, request_for(1, 2));
    advance(90s);  // alice at 190 s: gone
    auto seen =
        std::get<udp_announce_response>(udp_announce(*endpoint::parse("10.0.0.3:1"), request_for(1, 3)));
    EXPECT_EQ(seen.peers, std::vector<endpoint>{*endpoint::parse("10.0.0.2:6002")});
    advance(11s);  // a full sweep since
    EXPECT_EQ(tracker->figures(now).peers, 2u);
    EXPECT_EQ(tracker->figures(now).peers_expired, 1u);
}

TEST_F(tracker_fixture, numwant_defaults_and_is_capped) {
    config.numwant_default = 5;
    config.numwant_max = 8;
    remake();
    for (int i = 1; i <= 20; ++i) {
        udp_announce(*endpoint::parse("10.0.1." + std::to_string(i) + ":1"), request_for(1, i));
    }
    EXPECT_EQ(std::get<udp_announce_response>(udp_announce(alice, request_for(1, 30))).peers.size(), 5u);
    announce_request many = request_for(1, 30);
    many.numwant = 1000;
    EXPECT_EQ(std::get<udp_announce_response>(udp_announce(alice, many)).peers.size(), 8u);
    many.numwant = 2;
    EXPECT_EQ(http_announce(alice, many)->peers.size(), 2u);
}

TEST_F(tracker_fixture, stats_and_metrics_show_the_same_figures) {
    udp_announce(alice, request_for(1, 1, 0));
    http_announce(bob, request_for(1, 2));
    const http::http_response stats = get(alice, "/stats");
    EXPECT_EQ(stats.headers.find("Content-Type"), "application/json");
    const auto json = nlohmann::json::parse(stats.body);
    EXPECT_EQ(json["swarms"], 1);
    EXPECT_EQ(json["peers"], 2);
    EXPECT_EQ(json["seeders"], 1);
    EXPECT_EQ(json["leechers"], 1);
    EXPECT_EQ(json["udp"]["announces"], 1);
    EXPECT_EQ(json["http"]["announces"], 1);
    EXPECT_GT(json["memory_bytes"].get<std::uint64_t>(), 0u);
    const http::http_response metrics = get(alice, "/metrics");
    EXPECT_NE(metrics.body.find("\nhyphae_tracker_peers 2\n"), std::string::npos) << metrics.body;
    EXPECT_NE(
        metrics.body.find(
            "# TYPE hyphae_tracker_udp_announces_total counter\nhyphae_tracker_udp_announces_total 1\n"),
        std::string::npos);
    EXPECT_NE(metrics.body.find("hyphae_tracker_http_requests_total 3\n"), std::string::npos);
}

TEST_F(tracker_fixture, state_survives_a_restart) {
    udp_announce(alice, request_for(1, 1, 0));
    udp_announce(bob, request_for(1, 2));
    announce_request done = request_for(2, 3, 0);
    done.event = announce_event::completed;
    udp_announce(carol6, done);
    const byte_buffer state = tracker->export_state(now, 1'000'000);
    remake();
    auto summary = tracker->import_state(now, 1'000'030, state);
    ASSERT_TRUE(summary) << summary.error().message();
    EXPECT_EQ(summary->swarms, 2u);
    EXPECT_EQ(summary->peers, 3u);
    EXPECT_EQ(summary->downtime_seconds, 30);
    auto again =
        std::get<udp_announce_response>(udp_announce(*endpoint::parse("10.0.0.9:1"), request_for(1, 9)));
    EXPECT_EQ(again.seeders, 1u);
    EXPECT_EQ(again.leechers, 2u);
    EXPECT_EQ(again.peers.size(), 2u);
    const std::uint64_t id = udp_connect(alice);
    auto scrape = decode_udp_tracker_response(
        udp(alice, *encode_udp_scrape(id, 1, std::vector<sha1_hash>{hash_of(2)})).at(0));
    EXPECT_EQ(std::get<udp_scrape_response>(*scrape).entries.at(0).completed, 1u);
    // A downtime longer than the expiry leaves the swarms (with their counts) but no peers.
    remake();
    summary = tracker->import_state(now, 1'000'000 + 121, state);
    ASSERT_TRUE(summary);
    EXPECT_EQ(summary->peers, 0u);
    EXPECT_EQ(summary->peers_expired, 3u);
    EXPECT_EQ(tracker->figures(now).swarms, 2u);
}

TEST_F(tracker_fixture, refusals_are_reported_only_when_asked_and_bounded) {
    config.events_queued_max = 4;
    remake();
    for (int i = 0; i < 10; ++i) {
        get(alice, "/announce?x=" + std::to_string(i));
    }
    const auto texts = notices();
    ASSERT_EQ(texts.size(), 4u);
    EXPECT_EQ(texts.back(), "announce: missing info_hash");
    config.report_refusals = false;
    remake();
    get(alice, "/announce");
    EXPECT_TRUE(notices().empty());
}

TEST_F(tracker_fixture, bounds_its_output_queue) {
    config.transmits_queued_max = 8;
    remake();
    for (int i = 0; i < 20; ++i) {
        tracker->on_datagram(now, alice, encode_udp_connect(static_cast<std::uint32_t>(i)));
    }
    EXPECT_EQ(drain().size(), 8u);
    EXPECT_EQ(tracker->figures(now).counters.replies_dropped, 12u);
}

// ---- as a service of the host, sharing its ports

TEST_F(tracker_fixture, claims_connects_and_requests_with_its_ids_only) {
    auto claims = [&](byte_view bytes) {
        return tracker->claims_datagram(bytes);
    };
    EXPECT_TRUE(claims(encode_udp_connect(1)));
    byte_buffer magic_announce = encode_udp_connect(1);
    magic_announce[11] = 1;  // the protocol id with another action than connect
    EXPECT_FALSE(claims(magic_announce));
    EXPECT_FALSE(claims(byte_view(encode_udp_connect(1)).first(15)));
    const std::uint64_t id = udp_connect(alice);
    EXPECT_TRUE(claims(encode_udp_announce(id, 2, request_for(1, 1))));
    const std::vector<sha1_hash> hashes{hash_of(1)};
    EXPECT_TRUE(claims(*encode_udp_scrape(id, 3, hashes)));
    // An id with our mark that we never issued is claimed, and answered with an error.
    const byte_buffer forged = encode_udp_announce(connection_ids::mark | 5, 4, request_for(1, 1));
    EXPECT_TRUE(claims(forged));
    EXPECT_EQ(action_of(*decode_udp_tracker_response(udp(alice, forged).at(0))), udp_tracker_action::error);
    // Another tracker's ids (top bit clear), BEP 15 answers, KRPC and uTP are someone else's.
    EXPECT_FALSE(claims(encode_udp_announce(0x1234'5678, 2, request_for(1, 1))));
    EXPECT_FALSE(claims(encode_udp_connect_response(1, id)));
    EXPECT_FALSE(claims(encode_udp_announce_response(1, 60s, 1, 1, {}, false)));
    EXPECT_FALSE(claims(encode_udp_error_response(1, "connection id expired or invalid")));
    EXPECT_FALSE(claims(as_bytes("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe")));
    for (std::uint8_t type = 0; type <= 4; ++type) {
        byte_buffer utp(20, 0xff);
        utp[0] = static_cast<std::uint8_t>(type << 4 | 1);
        EXPECT_FALSE(claims(utp)) << int(type);
    }
}

TEST_F(tracker_fixture, claims_http_requests_for_its_paths) {
    auto claims = [&](std::string_view bytes) {
        return tracker->claims_stream(as_bytes(bytes));
    };
    for (const char* path : {"/announce?info_hash=x", "/scrape?info_hash=x", "/stats", "/metrics"}) {
        EXPECT_EQ(claims("GET " + std::string(path) + " HTTP/1.1\r\n"), claim::yes) << path;
    }
    EXPECT_EQ(claims("GET /announce"), claim::yes);
    for (const char* prefix :
         {"", "G", "GET", "GET ", "GET /", "GET /s", "GET /sta", "GET /announc", "GET /m"}) {
        EXPECT_EQ(claims(prefix), claim::need_more) << prefix;
    }
    for (const char* other : {"\x13"
                              "BitTorrent protocol",
                              "POST /announce HTTP/1.1\r\n", "GET /other HTTP/1.1\r\n", "GET / HTTP/1.1\r\n",
                              "GNUTELLA CONNECT/0.6\r\n", "HEAD /announce", "get /announce"}) {
        EXPECT_EQ(claims(other), claim::no) << other;
    }
}

TEST_F(tracker_fixture, alone_on_its_port_it_claims_every_connection) {
    config.claims_every_connection = true;
    remake();
    for (const char* any : {"POST /announce HTTP/1.1\r\n", "GET /other HTTP/1.1\r\n", "x"}) {
        EXPECT_EQ(tracker->claims_stream(as_bytes(any)), claim::yes) << any;
    }
}

// A stand-in for another protocol's service: claims what starts with its prefix.
class prefix_service final : public service {
public:
    explicit prefix_service(std::string prefix) : prefix_(std::move(prefix)) {}
    std::string_view name() const override { return prefix_; }
    bool claims_datagram(byte_view bytes) const override { return as_chars(bytes).starts_with(prefix_); }
    claim claims_stream(byte_view first) const override {
        const std::string_view seen = as_chars(first);
        if (seen.size() < prefix_.size()) {
            return std::string_view(prefix_).starts_with(seen) ? claim::need_more : claim::no;
        }
        return seen.starts_with(prefix_) ? claim::yes : claim::no;
    }
    void on_datagram(time_point, const endpoint&, byte_view) override { ++datagrams; }
    void on_accepted(time_point, conn_id, const endpoint&) override { ++connections; }
    void on_timer(time_point) override {}
    std::optional<transmit> poll_transmit() override { return std::nullopt; }
    std::optional<time_point> next_timer() const override { return std::nullopt; }
    bool has_events() const override { return false; }

    int datagrams = 0;
    int connections = 0;

private:
    std::string prefix_;
};

TEST(tracker_server_on_a_host, shares_the_ports_with_the_dht_and_bittorrent) {
    const time_point now(100s);
    host h;
    auto dht = std::make_unique<prefix_service>("d1:");
    auto bittorrent = std::make_unique<prefix_service>(
        "\x13"
        "BitTorrent protocol");
    prefix_service& d = *dht;
    prefix_service& bt = *bittorrent;
    h.add(now, std::move(dht));
    tracker_config config;
    config.rate_per_address = 0;
    const service_id tracker_id = h.add(now, std::make_unique<tracker_server>(config, 3, now));
    h.add(now, std::move(bittorrent));

    // UDP: a connect and an announce reach the tracker, KRPC the DHT, an answer nobody.
    h.on_datagram(now, alice, encode_udp_connect(9));
    auto reply = h.poll_transmit();
    ASSERT_TRUE(reply);
    const auto& connected = std::get<io::datagram>(*reply);
    EXPECT_EQ(connected.to, alice);
    const auto id =
        std::get<udp_connect_response>(*decode_udp_tracker_response(connected.bytes)).connection_id;
    h.on_datagram(now, alice, encode_udp_announce(id, 10, request_for(1, 1)));
    ASSERT_TRUE(h.poll_transmit());
    h.on_datagram(now, alice, as_bytes("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"));
    h.on_datagram(now, alice, encode_udp_connect_response(9, id));
    EXPECT_EQ(d.datagrams, 1);
    EXPECT_EQ(h.counters().datagrams_unclaimed, 1u);
    EXPECT_EQ(h.get<tracker_server>(tracker_id).figures(now).counters.udp_announces, 1u);

    // TCP: an HTTP announce to the tracker, answered and closed once written; a handshake to
    // BitTorrent; anything else closed unclaimed.
    const auto web = h.on_accepted(now, bob);
    ASSERT_TRUE(web);
    h.on_stream_bytes(now, *web, as_bytes("GET /st"));
    EXPECT_FALSE(h.owner_of(*web));
    h.on_stream_bytes(now, *web, as_bytes("ats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    EXPECT_EQ(h.owner_of(*web), std::nullopt);  // closed already: answered
    auto send = h.poll_transmit();
    ASSERT_TRUE(send);
    EXPECT_EQ(std::get<io::send>(*send).conn, *web);
    auto close = h.poll_transmit();
    ASSERT_TRUE(close);
    EXPECT_EQ(std::get<io::close>(*close).conn, *web);
    EXPECT_TRUE(std::get<io::close>(*close).flush);
    const auto peer = h.on_accepted(now, bob);
    h.on_stream_bytes(now, *peer,
                      as_bytes("\x13"
                               "BitTorrent protocol"));
    EXPECT_EQ(bt.connections, 1);
    const auto stranger = h.on_accepted(now, bob);
    h.on_stream_bytes(now, *stranger, as_bytes("GET /index.html HTTP/1.1\r\n"));
    EXPECT_EQ(h.counters().streams_unclaimed, 1u);
    EXPECT_EQ(h.get<tracker_server>(tracker_id).figures(now).counters.http_requests, 1u);
}

}  // namespace
}  // namespace hyphae::tracker
