#include "hyphae/proto/tracker/tracker_reply.hpp"

#include <gtest/gtest.h>

#include "hyphae/proto/tracker/announce.hpp"
#include "hyphae/proto/tracker/scrape.hpp"

namespace hyphae::tracker {
namespace {

TEST(tracker_reply, writes_a_compact_announce_with_sorted_keys) {
    const std::vector<endpoint> peers{*endpoint::parse("1.2.3.4:258"), *endpoint::parse("[::1]:1")};
    announce_reply reply;
    reply.interval = std::chrono::seconds(1800);
    reply.min_interval = std::chrono::seconds(900);
    reply.complete = 3;
    reply.incomplete = 4;
    reply.downloaded = 5;
    reply.peers = peers;
    EXPECT_EQ(format_announce_reply(reply),
              std::string("d8:completei3e10:downloadedi5e10:incompletei4e8:intervali1800e12:min intervali900e"
                          "5:peers6:\x01\x02\x03\x04\x01\x02"
                          "6:peers618:") +
                  std::string(15, '\0') + std::string("\x01\x00\x01", 3) + "e");
}

TEST(tracker_reply, is_read_back_by_the_client_parser) {
    const std::vector<endpoint> peers{*endpoint::parse("10.0.0.1:6881"), *endpoint::parse("10.0.0.2:6882"),
                                      *endpoint::parse("[2001:db8::7]:51413")};
    for (const bool compact : {true, false}) {
        announce_reply reply;
        reply.complete = 7;
        reply.incomplete = 1;
        reply.downloaded = 9;
        reply.peers = peers;
        reply.compact = compact;
        auto parsed = parse_announce_response(as_bytes(format_announce_reply(reply)));
        ASSERT_TRUE(parsed) << parsed.error().message();
        EXPECT_EQ(parsed->interval, std::chrono::seconds(1800));
        EXPECT_EQ(parsed->min_interval, std::chrono::seconds(900));
        EXPECT_EQ(parsed->complete, 7);
        EXPECT_EQ(parsed->incomplete, 1);
        EXPECT_EQ(parsed->downloaded, 9);
        EXPECT_EQ(parsed->peers, peers) << "compact " << compact;
    }
}

TEST(tracker_reply, writes_an_empty_peer_string_and_no_peers6_without_ipv6_peers) {
    announce_reply reply;
    EXPECT_EQ(format_announce_reply(reply),
              "d8:completei0e10:downloadedi0e10:incompletei0e8:intervali1800e12:min intervali900e5:peers0:e");
}

TEST(tracker_reply, writes_failures_and_scrapes) {
    EXPECT_EQ(format_failure_reply("unregistered torrent"), "d14:failure reason20:unregistered torrente");
    auto parsed = parse_announce_response(as_bytes(format_failure_reply("unregistered torrent")));
    ASSERT_FALSE(parsed);
    EXPECT_NE(parsed.error().message().find("unregistered torrent"), std::string::npos);

    sha1_hash a;
    a.bytes.fill(1);
    sha1_hash b;
    b.bytes.fill(2);
    const std::vector<scrape_entry> files{{a, 5, 6, 7}, {b, 0, 0, 0}};
    const std::string body = format_scrape_reply(files);
    EXPECT_EQ(body.substr(0, 12), "d5:filesd20:");
    auto scrape = parse_scrape_response(as_bytes(body));
    ASSERT_TRUE(scrape) << scrape.error().message();
    ASSERT_EQ(scrape->files.size(), 2u);
    EXPECT_EQ(scrape->files[0].info_hash, a);
    EXPECT_EQ(scrape->files[0].complete, 5);
    EXPECT_EQ(scrape->files[0].downloaded, 6);
    EXPECT_EQ(scrape->files[0].incomplete, 7);
    EXPECT_EQ(scrape->files[1].info_hash, b);
}

}  // namespace
}  // namespace hyphae::tracker
