#include "hyphae/proto/tracker/scrape.hpp"

#include <gtest/gtest.h>

#include "hyphae/core/bencode_writer.hpp"

namespace hyphae::tracker {
namespace {

TEST(scrape_url, replaces_announce_in_the_last_path_component) {
    EXPECT_EQ(scrape_url("http://t.example/announce"), "http://t.example/scrape");
    EXPECT_EQ(scrape_url("http://t.example:8080/x/announce.php?passkey=k/announce"),
              "http://t.example:8080/x/scrape.php?passkey=k/announce");
    EXPECT_EQ(scrape_url("http://t/announce_v2"), "http://t/scrape_v2");
    EXPECT_EQ(scrape_url("udp://t:80/announce"), "udp://t:80/scrape");
}

TEST(scrape_url, is_empty_for_urls_without_the_convention) {
    EXPECT_FALSE(scrape_url("http://t/a"));
    EXPECT_FALSE(scrape_url("http://t/announce/x"));
    EXPECT_FALSE(scrape_url("http://t/x/annonce"));
    EXPECT_FALSE(scrape_url("http://announce"));
    EXPECT_FALSE(scrape_url("http://t"));
    EXPECT_FALSE(scrape_url("http://t/?announce"));
}

TEST(scrape_url, asks_about_every_info_hash) {
    sha1_hash a;
    a.bytes.fill(0x01);
    sha1_hash b;
    b.bytes.fill('b');
    const std::vector<sha1_hash> hashes{a, b};
    std::string encoded_a;
    for (int i = 0; i < 20; ++i) {
        encoded_a += "%01";
    }
    EXPECT_EQ(scrape_request_url("http://t/scrape?passkey=k", hashes),
              "http://t/scrape?passkey=k&info_hash=" + encoded_a + "&info_hash=" + std::string(20, 'b'));
}

TEST(scrape_response, reads_the_files_dictionary) {
    sha1_hash a;
    a.bytes.fill('a');
    sha1_hash b;
    b.bytes.fill('b');
    const std::string body = bencode(
        bdict{{"files",
               bdict{{std::string(a.chars()), bdict{{"complete", 5}, {"downloaded", 50}, {"incomplete", 3}}},
                     {std::string(b.chars()), bdict{{"complete", 1}, {"name", "ignored"}}}}}});
    auto r = parse_scrape_response(as_bytes(body));
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->files.size(), 2u);
    EXPECT_EQ(r->files[0].info_hash, a);
    EXPECT_EQ(r->files[0].complete, 5);
    EXPECT_EQ(r->files[0].downloaded, 50);
    EXPECT_EQ(r->files[0].incomplete, 3);
    EXPECT_EQ(r->files[1].info_hash, b);
    EXPECT_EQ(r->files[1].complete, 1);
    EXPECT_EQ(r->files[1].downloaded, 0);
}

TEST(scrape_response, refuses_malformed_responses_and_holds_its_bound) {
    const std::string key(20, 'k');
    const std::pair<bvalue, const char*> cases[] = {
        {bdict{}, "scrape response: 'files' is missing"},
        {bdict{{"files", blist{}}}, "scrape response: 'files' is not a dictionary"},
        {bdict{{"files", bdict{{"short", bdict{}}}}},
         "scrape response: a key of 'files' is 5 bytes, not a 20-byte info-hash"},
        {bdict{{"files", bdict{{key, 1}}}},
         "scrape response: the entry for 6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b is not a dictionary"},
        {bdict{{"failure reason", "no scraping here"}}, "scrape response: failure reason: no scraping here"},
    };
    for (const auto& [value, message] : cases) {
        const std::string body = bencode(value);
        auto r = parse_scrape_response(as_bytes(body));
        ASSERT_FALSE(r) << message;
        EXPECT_EQ(r.error().message(), message);
    }
    scrape_limits limits;
    limits.files_max = 1;
    const std::string two =
        bencode(bdict{{"files", bdict{{std::string(20, 'a'), bdict{}}, {std::string(20, 'b'), bdict{}}}}});
    auto r = parse_scrape_response(as_bytes(two), limits);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "scrape response: more than 1 entries in 'files'");
    EXPECT_EQ(r.error().code, errc::limit_exceeded);
}

}  // namespace
}  // namespace hyphae::tracker
