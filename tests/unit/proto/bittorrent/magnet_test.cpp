#include "hyphae/proto/bittorrent/magnet.hpp"

#include <gtest/gtest.h>

namespace hyphae::bittorrent {
namespace {

constexpr std::string_view hex = "0123456789abcdef0123456789abcdef01234567";

void expect_error(std::string_view uri, std::string_view part, errc code = errc::invalid_input) {
    auto link = parse_magnet(uri);
    ASSERT_FALSE(link) << uri;
    EXPECT_EQ(link.error().code, code) << link.error().message();
    EXPECT_NE(link.error().message().find(part), std::string::npos) << link.error().message();
}

TEST(magnet, parses_hex_info_hash_name_trackers_and_peers) {
    auto link = parse_magnet(
        "magnet:?xt=urn:btih:0123456789ABCDEF0123456789abcdef01234567&dn=My+File%20%C3%A9&tr=http%3A%2F%2Ft1%"
        "2Fa"
        "&tr=udp://t2:80&tr.1=http%3A%2F%2Ft1%2Fa&x.pe=127.0.0.1:6881&x.pe=%5B%3A%3A1%5D:51413&ws=http://w/"
        "&zz=1");
    ASSERT_TRUE(link) << link.error().message();
    EXPECT_EQ(link->info_hash.to_hex(), hex);
    EXPECT_EQ(link->name, "My File \xc3\xa9");
    EXPECT_EQ(link->trackers, (std::vector<std::string>{"http://t1/a", "udp://t2:80"}));
    EXPECT_EQ(link->peers, (std::vector<std::string>{"127.0.0.1:6881", "[::1]:51413"}));
    EXPECT_EQ(link->web_seeds, std::vector<std::string>{"http://w/"});
    EXPECT_FALSE(link->info_hash_v2);
}

TEST(magnet, parses_base32_info_hash_in_either_case) {
    const sha1_hash h = *sha1_hash::from_hex(hex);
    auto upper = parse_magnet("magnet:?xt=urn:btih:" + h.to_base32());
    ASSERT_TRUE(upper);
    EXPECT_EQ(upper->info_hash, h);
    std::string lower = h.to_base32();
    for (char& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    auto lowered = parse_magnet("MAGNET:?xt=URN:BTIH:" + lower);
    ASSERT_TRUE(lowered);
    EXPECT_EQ(lowered->info_hash, h);
}

TEST(magnet, reads_hybrid_links_and_refuses_v2_only) {
    const std::string v2(64, 'a');
    auto hybrid = parse_magnet("magnet:?xt=urn:btih:" + std::string(hex) + "&xt=urn:btmh:1220" + v2);
    ASSERT_TRUE(hybrid) << hybrid.error().message();
    ASSERT_TRUE(hybrid->info_hash_v2);
    EXPECT_EQ(hybrid->info_hash_v2->to_hex(), v2);
    expect_error("magnet:?xt=urn:btmh:1220" + v2, "v2-only magnet", errc::unsupported);
    expect_error("magnet:?xt=urn:btmh:1114" + v2, "not a SHA-256 multihash");
}

TEST(magnet, format_round_trips) {
    magnet_link link;
    link.info_hash = *sha1_hash::from_hex(hex);
    link.name = "a name & more/100%";
    link.trackers = {"http://t/announce?x=1&y=2", "udp://u:6969"};
    link.peers = {"10.0.0.1:1"};
    link.web_seeds = {"http://w/f"};
    const std::string uri = format_magnet(link);
    EXPECT_EQ(uri.rfind("magnet:?xt=urn:btih:" + std::string(hex), 0), 0u);
    auto back = parse_magnet(uri);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->info_hash, link.info_hash);
    EXPECT_EQ(back->name, link.name);
    EXPECT_EQ(back->trackers, link.trackers);
    EXPECT_EQ(back->peers, link.peers);
    EXPECT_EQ(back->web_seeds, link.web_seeds);
}

TEST(magnet, rejects_malformed_links) {
    expect_error("http://x", "does not start with 'magnet:?'");
    expect_error("magnet:?dn=x", "no 'xt=urn:btih:' info-hash");
    expect_error("magnet:?xt=urn:btih:0123", "neither 40 hex nor 32 base32");
    expect_error("magnet:?xt=urn:btih:" + std::string(39, 'a') + "g", "neither 40 hex");
    expect_error("magnet:?xt=urn:btih:" + std::string(hex) + "&dn=%4", "malformed percent-encoding");
    expect_error("magnet:?xt=urn:btih:" + std::string(hex) + "&dn=%zz", "malformed percent-encoding");
    expect_error("magnet:?xt=urn:btih:" + std::string(hex) + "&xt=urn:btih:" + std::string(40, 'f'),
                 "two different btih");
    expect_error("magnet:?xt=urn:btih:" + std::string(hex) + "&x.pe=nope", "is not host:port");
    expect_error("magnet:?xt=urn:btih:" + std::string(hex) + "&x.pe=1.2.3.4:70000", "is not host:port");
    expect_error("magnet:?xt=urn:btih:" + std::string(hex) + std::string(70000, 'x'), "longer than",
                 errc::limit_exceeded);
    std::string many = "magnet:?xt=urn:btih:" + std::string(hex);
    for (int i = 0; i < 300; ++i) {
        many += "&tr=http://t" + std::to_string(i);
    }
    expect_error(many, "more than 200 parameters", errc::limit_exceeded);
}

TEST(magnet, ignores_empty_and_bare_parameters_and_other_urns) {
    auto link = parse_magnet("magnet:?&&xt=urn:ed2k:abc&flag&xt=urn:btih:" + std::string(hex) + "&tr=&");
    ASSERT_TRUE(link) << link.error().message();
    EXPECT_TRUE(link->trackers.empty());
}

TEST(host_port, accepts_names_ipv4_and_bracketed_ipv6) {
    EXPECT_TRUE(is_host_port("example.org:80"));
    EXPECT_TRUE(is_host_port("1.2.3.4:65535"));
    EXPECT_TRUE(is_host_port("[2001:db8::1]:1"));
    EXPECT_FALSE(is_host_port(":80"));
    EXPECT_FALSE(is_host_port("host:0"));
    EXPECT_FALSE(is_host_port("host:"));
    EXPECT_FALSE(is_host_port("host:12x"));
    EXPECT_FALSE(is_host_port("2001:db8::1:80x"));
    EXPECT_FALSE(is_host_port("[zz]:80"));
    EXPECT_FALSE(is_host_port("a b:80"));
}

}  // namespace
}  // namespace hyphae::bittorrent
