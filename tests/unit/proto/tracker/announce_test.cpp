#include "hyphae/proto/tracker/announce.hpp"

#include <gtest/gtest.h>

#include "hyphae/core/bencode_writer.hpp"

namespace hyphae::tracker {
namespace {

announce_request sample_request() {
    announce_request request;
    for (std::uint8_t i = 0; i < 20; ++i) {
        request.info_hash.bytes[i] = static_cast<std::uint8_t>(i * 13);
    }
    request.peer_id = *id160::from_bytes(std::string_view("-HY0001-abcdefghijk "));
    request.port = 6881;
    request.uploaded = 10;
    request.downloaded = 20;
    request.left = 30;
    request.key = 0xdeadbeef;
    request.numwant = 50;
    return request;
}

constexpr std::string_view sample_query =
    "info_hash=%00%0D%1A%274AN%5Bhu%82%8F%9C%A9%B6%C3%D0%DD%EA%F7&peer_id=-HY0001-abcdefghijk%20"
    "&port=6881&uploaded=10&downloaded=20&left=30";

TEST(announce_url, encodes_every_parameter) {
    announce_request request = sample_request();
    request.event = announce_event::started;
    EXPECT_EQ(announce_url("http://t/announce", request),
              "http://t/announce?" + std::string(sample_query) +
                  "&event=started&numwant=50&key=DEADBEEF&compact=1&no_peer_id=1");
}

TEST(announce_url, leaves_out_event_none_and_negative_numwant_and_echoes_the_tracker_id) {
    announce_request request = sample_request();
    request.numwant = -1;
    request.tracker_id = "id 1";
    request.left = -5;  // unknown sizes are never sent negative
    const std::string url = announce_url("http://t/announce", request);
    EXPECT_EQ(url.find("event="), std::string::npos);
    EXPECT_EQ(url.find("numwant="), std::string::npos);
    EXPECT_NE(url.find("&left=0&"), std::string::npos);
    EXPECT_TRUE(url.ends_with("&compact=1&no_peer_id=1&trackerid=id%201")) << url;
}

TEST(announce_url, appends_to_passkey_urls) {
    const announce_request request = sample_request();
    EXPECT_TRUE(announce_url("http://t/announce.php?passkey=0123", request)
                    .starts_with("http://t/announce.php?passkey=0123&info_hash=%00"));
    EXPECT_TRUE(announce_url("http://t/0123abcd/announce", request)
                    .starts_with("http://t/0123abcd/announce?info_hash="));
}

result<announce_response> parse(const bvalue& value, const announce_limits& limits = {}) {
    const std::string body = bencode(value);
    return parse_announce_response(as_bytes(body), limits);
}

TEST(announce_response, reads_compact_peers_peers6_and_every_field) {
    std::string peers;
    append_compact(peers, *endpoint::parse("10.0.0.1:6881"));
    append_compact(peers, *endpoint::parse("192.168.1.2:51413"));
    append_compact(peers, *endpoint::parse("10.0.0.9:0"));  // no port to reach: skipped
    std::string peers6;
    append_compact(peers6, *endpoint::parse("[2001:db8::1]:6881"));
    auto r = parse(bdict{{"interval", 1800},
                         {"min interval", 900},
                         {"complete", 5},
                         {"incomplete", 7},
                         {"downloaded", 100},
                         {"tracker id", "tid"},
                         {"warning message", "be nice"},
                         {"external ip", std::string("\x01\x02\x03\x04")},
                         {"peers", peers},
                         {"peers6", peers6}});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->interval, std::chrono::seconds(1800));
    EXPECT_EQ(r->min_interval, std::chrono::seconds(900));
    EXPECT_EQ(r->complete, 5);
    EXPECT_EQ(r->incomplete, 7);
    EXPECT_EQ(r->downloaded, 100);
    EXPECT_EQ(r->tracker_id, "tid");
    EXPECT_EQ(r->warning_message, "be nice");
    EXPECT_EQ(r->external_ip, ip_address::parse("1.2.3.4"));
    ASSERT_EQ(r->peers.size(), 3u);
    EXPECT_EQ(r->peers[0].to_string(), "10.0.0.1:6881");
    EXPECT_EQ(r->peers[1].to_string(), "192.168.1.2:51413");
    EXPECT_EQ(r->peers[2].to_string(), "[2001:db8::1]:6881");
}

TEST(announce_response, reads_a_list_of_peer_dictionaries) {
    auto r =
        parse(bdict{{"interval", 60},
                    {"peers", blist{bdict{{"ip", "10.0.0.1"}, {"peer id", std::string(20, 'p')}, {"port", 1}},
                                    bdict{{"ip", "::1"}, {"port", 65535}},
                                    bdict{{"ip", "tracker.example"}, {"port", 80}},  // DNS name: skipped
                                    bdict{{"ip", "10.0.0.2"}, {"port", 70000}},      // bad port: skipped
                                    bdict{{"ip", "10.0.0.3"}}}}});                   // no port: skipped
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->peers.size(), 2u);
    EXPECT_EQ(r->peers[0].to_string(), "10.0.0.1:1");
    EXPECT_EQ(r->peers[1].to_string(), "[::1]:65535");
    EXPECT_FALSE(r->min_interval);
    EXPECT_FALSE(r->complete);
}

TEST(announce_response, accepts_a_response_without_interval_or_peers_and_unsorted_keys) {
    auto empty = parse(bdict{});
    ASSERT_TRUE(empty);
    EXPECT_FALSE(empty->interval);
    EXPECT_TRUE(empty->peers.empty());
    auto unsorted =
        parse_announce_response(as_bytes(std::string_view("d8:intervali60e5:peers0:8:completei1ee")));
    ASSERT_TRUE(unsorted) << unsorted.error().message();
    EXPECT_EQ(unsorted->complete, 1);
}

TEST(announce_response, turns_a_failure_reason_into_an_error_with_the_trackers_text) {
    auto r = parse(bdict{{"failure reason", "torrent not registered"}, {"interval", 60}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what, "torrent not registered");
    EXPECT_EQ(r.error().message(), "tracker response: failure reason: torrent not registered");
}

TEST(announce_response, refuses_malformed_responses) {
    const std::pair<bvalue, const char*> cases[] = {
        {blist{}, "tracker response: not a dictionary"},
        {bdict{{"failure reason", 1}}, "tracker response: 'failure reason' is not a string"},
        {bdict{{"interval", "1800"}}, "tracker response: 'interval' is not a non-negative integer"},
        {bdict{{"interval", -1}}, "tracker response: 'interval' is not a non-negative integer"},
        {bdict{{"min interval", "x"}}, "tracker response: 'min interval' is not a non-negative integer"},
        {bdict{{"peers", 5}}, "tracker response: 'peers' is neither a string nor a list"},
        {bdict{{"peers", std::string(7, 'x')}}, "tracker response: 'peers' is 7 bytes, not a multiple of 6"},
        {bdict{{"peers", blist{5}}}, "tracker response: 'peers[0]' is not a dictionary"},
        {bdict{{"peers6", std::string(20, 'x')}},
         "tracker response: 'peers6' is 20 bytes, not a multiple of 18"},
        {bdict{{"peers6", blist{}}}, "tracker response: 'peers6' is not a string"},
    };
    for (const auto& [value, message] : cases) {
        auto r = parse(value);
        ASSERT_FALSE(r) << message;
        EXPECT_EQ(r.error().message(), message);
    }
    auto garbage = parse_announce_response(as_bytes(std::string_view("<html>")));
    ASSERT_FALSE(garbage);
    EXPECT_TRUE(garbage.error().message().starts_with("tracker response: not bencoded: "))
        << garbage.error().message();
}

TEST(announce_response, bounds_the_number_of_peers) {
    std::string peers;
    for (std::uint32_t i = 1; i <= 10; ++i) {
        append_compact(peers, endpoint{ip_address::v4(0x0a000000 + i), 6881});
    }
    std::string peers6;
    append_compact(peers6, *endpoint::parse("[::2]:1"));
    announce_limits limits;
    limits.peers_max = 4;
    auto r = parse(bdict{{"peers", peers}, {"peers6", peers6}}, limits);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->peers.size(), 4u);
    EXPECT_EQ(r->peers[3].to_string(), "10.0.0.4:6881");

    limits.bencode.values_max = 8;
    const bvalue peer = bdict{{"ip", "10.0.0.1"}, {"port", 1}};
    const blist many(10, peer);
    auto too_many = parse(bdict{{"peers", many}}, limits);
    ASSERT_FALSE(too_many);
    EXPECT_EQ(too_many.error().code, errc::limit_exceeded);
}

TEST(announce_event, prints_its_name) {
    EXPECT_EQ(to_string(announce_event::none), "");
    EXPECT_EQ(to_string(announce_event::started), "started");
    EXPECT_EQ(to_string(announce_event::completed), "completed");
    EXPECT_EQ(to_string(announce_event::stopped), "stopped");
}

}  // namespace
}  // namespace hyphae::tracker
