#include "hyphae/proto/tracker/announce_query.hpp"

#include <gtest/gtest.h>

#include "hyphae/core/encoding.hpp"

namespace hyphae::tracker {
namespace {

sha1_hash filled(std::uint8_t b) {
    sha1_hash h;
    h.bytes.fill(b);
    return h;
}

// What a client sends: announce_url()'s query, which the tracker must read back whole.
std::string client_query(const announce_request& r) {
    return std::string(split_target(announce_url("http://t/announce", r)).query);
}

TEST(announce_query, reads_what_announce_url_writes) {
    announce_request r;
    r.info_hash = filled(0x2b);  // '+' as a raw byte: escaped by clients, so literal '+' never appears
    r.peer_id = filled(0x00);
    r.port = 6881;
    r.uploaded = 12;
    r.downloaded = 34;
    r.left = 0;
    r.event = announce_event::completed;
    r.numwant = 80;
    r.key = 0xdeadbeef;
    auto q = parse_announce_query(client_query(r));
    ASSERT_TRUE(q) << q.error().message();
    EXPECT_EQ(q->info_hash, r.info_hash);
    EXPECT_EQ(q->peer_id, r.peer_id);
    EXPECT_EQ(q->port, 6881);
    EXPECT_EQ(q->uploaded, 12);
    EXPECT_EQ(q->downloaded, 34);
    EXPECT_EQ(q->left, 0);
    EXPECT_EQ(q->event, announce_event::completed);
    EXPECT_EQ(q->numwant, 80);
    EXPECT_TRUE(q->compact);
    EXPECT_EQ(q->key, "DEADBEEF");
}

TEST(announce_query, reads_events_compact_ip_and_ignores_unknown_parameters) {
    const std::string base = "info_hash=" + percent_encode(filled(1).chars()) +
                             "&peer_id=" + percent_encode(filled(2).chars()) + "&port=1";
    auto q = parse_announce_query(
        base + "&event=started&compact=0&ip=10.0.0.1&ipv6=%5B2001%3Adb8%3A%3A1%5D%3A5&x=y&&");
    ASSERT_TRUE(q) << q.error().message();
    EXPECT_EQ(q->event, announce_event::started);
    EXPECT_FALSE(q->compact);
    EXPECT_EQ(q->ip, ip_address::parse("10.0.0.1"));
    EXPECT_EQ(q->ipv6, ip_address::parse("2001:db8::1"));
    EXPECT_FALSE(q->left);
    EXPECT_FALSE(q->numwant);
    // A DNS name is no address: left out, not an error.
    q = parse_announce_query(base + "&ip=tracker.example&event=paused");
    ASSERT_TRUE(q);
    EXPECT_FALSE(q->ip);
    EXPECT_EQ(q->event, announce_event::none);
    q = parse_announce_query(base + "&event=stopped&numwant=-1");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->event, announce_event::stopped);
    EXPECT_EQ(q->numwant, -1);
}

TEST(announce_query, refuses_bad_queries_with_a_reason_naming_the_parameter) {
    const std::string hash = percent_encode(filled(1).chars());
    const std::string id = percent_encode(filled(2).chars());
    struct bad_case {
        std::string query;
        std::string reason;
    };
    const bad_case cases[] = {
        {"peer_id=" + id + "&port=1", "announce: missing info_hash"},
        {"info_hash=" + hash + "&port=1", "announce: missing peer_id"},
        {"info_hash=" + hash + "&peer_id=" + id, "announce: missing port"},
        {"info_hash=abc&peer_id=" + id + "&port=1", "announce: info_hash: is 3 bytes, not 20"},
        {"info_hash=" + hash + "%zz&peer_id=" + id + "&port=1",
         "announce: info_hash: malformed percent-encoding"},
        {"info_hash=" + hash + "%4&peer_id=" + id + "&port=1",
         "announce: info_hash: malformed percent-encoding"},
        {"info_hash=" + hash + "&peer_id=" + id + "&port=0",
         "announce: port: '0' is not an integer in 1..65535"},
        {"info_hash=" + hash + "&peer_id=" + id + "&port=65536",
         "announce: port: '65536' is not an integer in 1..65535"},
        {"info_hash=" + hash + "&peer_id=" + id + "&port=1&left=-5",
         "announce: left: '-5' is not an integer in 0..9223372036854775807"},
        {"info_hash=" + hash + "&peer_id=" + id + "&port=1&uploaded=1e3",
         "announce: uploaded: '1e3' is not an integer in 0..9223372036854775807"},
        {"info_hash=" + hash + "&peer_id=" + id + "&port=1&event=finished",
         "announce: event: unknown event 'finished'"},
        {"info_hash=" + hash + "&info_hash=" + hash + "&peer_id=" + id + "&port=1",
         "announce: info_hash: given twice"},
        {"info_hash=" + hash + "&peer_id=" + id + "&port=1&port=2", "announce: port: given twice"},
        {"info_hash=" + hash + "&peer_id=" + id + "&port=1&numwant=99999999999",
         "announce: numwant: '99999999999' is not an integer in -2147483648..2147483647"},
    };
    for (const auto& c : cases) {
        auto q = parse_announce_query(c.query);
        ASSERT_FALSE(q) << c.query;
        EXPECT_EQ(q.error().message(), c.reason) << c.query;
    }
}

TEST(announce_query, bounds_parameters_and_values) {
    query_limits limits;
    limits.parameters_max = 5;
    std::string query;
    for (int i = 0; i < 6; ++i) {
        query += "x" + std::to_string(i) + "=1&";
    }
    auto q = parse_announce_query(query, limits);
    ASSERT_FALSE(q);
    EXPECT_EQ(q.error().code, errc::limit_exceeded);
    EXPECT_EQ(q.error().message(), "announce: more than 5 parameters");

    const std::string base = "info_hash=" + percent_encode(filled(1).chars()) +
                             "&peer_id=" + percent_encode(filled(2).chars()) + "&port=1";
    q = parse_announce_query(base + "&key=" + std::string(257, 'k'));
    ASSERT_FALSE(q);
    EXPECT_EQ(q.error().message(), "announce: key: value longer than 256 bytes");
    q = parse_announce_query(base + "&key=" + std::string(256, 'k'));
    EXPECT_TRUE(q);
}

TEST(scrape_query, reads_every_info_hash_up_to_the_bound) {
    std::string query;
    for (std::uint8_t i = 0; i < 3; ++i) {
        query += "info_hash=" + percent_encode(filled(i).chars()) + "&other=1&";
    }
    auto hashes = parse_scrape_query(query);
    ASSERT_TRUE(hashes) << hashes.error().message();
    EXPECT_EQ(*hashes, (std::vector<sha1_hash>{filled(0), filled(1), filled(2)}));
    EXPECT_TRUE(parse_scrape_query("")->empty());

    query_limits limits;
    limits.scrape_hashes_max = 2;
    auto over = parse_scrape_query(query, limits);
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().message(), "scrape: more than 2 info_hash values");
    auto bad = parse_scrape_query("info_hash=short");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message(), "scrape: info_hash: is 5 bytes, not 20");
}

TEST(request_target, splits_path_and_query_and_drops_a_fragment) {
    EXPECT_EQ(split_target("/announce?a=b&c").path, "/announce");
    EXPECT_EQ(split_target("/announce?a=b&c").query, "a=b&c");
    EXPECT_EQ(split_target("/stats").query, "");
    EXPECT_EQ(split_target("/scrape?x=1#frag").query, "x=1");
    EXPECT_EQ(split_target("/p#f?x").path, "/p");
}

}  // namespace
}  // namespace hyphae::tracker
