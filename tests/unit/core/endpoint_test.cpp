#include "hyphae/core/endpoint.hpp"

#include <unordered_set>

#include <gtest/gtest.h>

namespace hyphae {
namespace {

TEST(ip_address, parses_and_prints_ipv4) {
    auto a = ip_address::parse("192.168.1.20");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->is_v4());
    EXPECT_EQ(a->v4_host_order(), 0xc0a80114u);
    EXPECT_EQ(a->to_string(), "192.168.1.20");
    EXPECT_EQ(ip_address::v4(0x7f000001).to_string(), "127.0.0.1");
    EXPECT_TRUE(ip_address::v4(0x7f000001).is_loopback());
    EXPECT_TRUE(ip_address{}.is_unspecified());
    for (const char* bad :
         {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1..2.3", "a.b.c.d", "1.2.3.4 "}) {
        EXPECT_FALSE(ip_address::parse(bad)) << bad;
    }
}

TEST(ip_address, parses_and_prints_ipv6_in_rfc_5952_form) {
    const std::pair<const char*, const char*> cases[] = {
        {"::1", "::1"},
        {"::", "::"},
        {"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
        {"2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"},
        {"fe80::1:2", "fe80::1:2"},
        {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
        {"::ffff:1.2.3.4", "::ffff:102:304"},
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
    };
    for (auto [in, out] : cases) {
        auto a = ip_address::parse(in);
        ASSERT_TRUE(a) << in;
        EXPECT_TRUE(a->is_v6());
        EXPECT_EQ(a->to_string(), out) << in;
        EXPECT_EQ(ip_address::parse(a->to_string()), a);
    }
    EXPECT_TRUE(ip_address::parse("::1")->is_loopback());
    for (const char* bad :
         {":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "g::1", "1::2:3:4:5:6:7:8"}) {
        EXPECT_FALSE(ip_address::parse(bad)) << bad;
    }
}

TEST(ip_address, unmaps_ipv4_mapped_ipv6) {
    EXPECT_EQ(ip_address::parse("::ffff:1.2.3.4")->unmapped(), *ip_address::parse("1.2.3.4"));
    EXPECT_TRUE(ip_address::parse("::ffff:1.2.3.4")->unmapped().is_v4());
    EXPECT_EQ(ip_address::parse("::1")->unmapped(), *ip_address::parse("::1"));
    EXPECT_EQ(ip_address::parse("::fffe:1.2.3.4")->unmapped(), *ip_address::parse("::fffe:1.2.3.4"));
    EXPECT_EQ(ip_address::parse("1.2.3.4")->unmapped(), *ip_address::parse("1.2.3.4"));
}

TEST(endpoint, parses_text_and_compact_forms) {
    auto v4 = endpoint::parse("10.0.0.1:6881");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->port, 6881);
    EXPECT_EQ(v4->to_string(), "10.0.0.1:6881");
    auto v6 = endpoint::parse("[2001:db8::1]:80");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->to_string(), "[2001:db8::1]:80");
    for (const char* bad :
         {"10.0.0.1", "10.0.0.1:", "10.0.0.1:70000", "[::1]", "::1:80", "[1.2.3.4]:80", "host:80"}) {
        EXPECT_FALSE(endpoint::parse(bad)) << bad;
    }
    for (const endpoint& ep : {*v4, *v6}) {
        std::string compact;
        append_compact(compact, ep);
        EXPECT_EQ(compact.size(), ep.address.is_v4() ? compact_v4_size : compact_v6_size);
        EXPECT_EQ(parse_compact(as_bytes(compact)), ep);
    }
    EXPECT_EQ(parse_compact(as_bytes(std::string("\x7f\x00\x00\x01\x1a\xe1", 6)))->to_string(),
              "127.0.0.1:6881");
    EXPECT_FALSE(parse_compact(as_bytes("12345")));
    std::unordered_set<endpoint> set{*v4, *v6, *v4};
    EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace hyphae
