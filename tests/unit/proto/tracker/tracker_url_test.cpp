#include "hyphae/proto/tracker/tracker_url.hpp"

#include <gtest/gtest.h>

namespace hyphae::tracker {
namespace {

TEST(tracker_url, parses_http_https_and_udp_urls) {
    auto http = parse_tracker_url("http://Tracker.Example/announce?passkey=abc#frag");
    ASSERT_TRUE(http) << http.error().message();
    EXPECT_EQ(http->scheme, tracker_scheme::http);
    EXPECT_EQ(http->host, "Tracker.Example");
    EXPECT_EQ(http->port, 80);
    EXPECT_EQ(http->target, "/announce?passkey=abc");
    EXPECT_EQ(http->host_header(), "Tracker.Example");

    auto port = parse_tracker_url("HTTP://10.0.0.1:8080");
    ASSERT_TRUE(port);
    EXPECT_EQ(port->port, 8080);
    EXPECT_EQ(port->target, "/");
    EXPECT_EQ(port->host_header(), "10.0.0.1:8080");

    auto query_only = parse_tracker_url("http://t?x=1");
    ASSERT_TRUE(query_only);
    EXPECT_EQ(query_only->target, "/?x=1");

    auto https = parse_tracker_url("https://t.example/a");
    ASSERT_TRUE(https);
    EXPECT_EQ(https->scheme, tracker_scheme::https);
    EXPECT_EQ(https->port, 443);

    auto udp = parse_tracker_url("udp://[2001:db8::1]:6969/announce");
    ASSERT_TRUE(udp) << udp.error().message();
    EXPECT_EQ(udp->scheme, tracker_scheme::udp);
    EXPECT_EQ(udp->host, "2001:db8::1");
    EXPECT_EQ(udp->port, 6969);
    EXPECT_EQ(udp->host_header(), "[2001:db8::1]:6969");

    auto v6_http = parse_tracker_url("http://[::1]/announce");
    ASSERT_TRUE(v6_http);
    EXPECT_EQ(v6_http->host_header(), "[::1]");
}

TEST(tracker_url, refuses_malformed_and_unsupported_urls) {
    const std::pair<const char*, const char*> cases[] = {
        {"ftp://t/announce", "tracker URL: 'ftp://t/announce' is not an http, https or udp URL"},
        {"udp://t/announce", "tracker URL: udp tracker URL without a port"},
        {"http://t:0/", "tracker URL: port '0' is not in 1..65535"},
        {"http://t:65536/", "tracker URL: port '65536' is not in 1..65535"},
        {"http://t:/", "tracker URL: ':' without a port"},
        {"http://t:80x/", "tracker URL: port '80x' is not in 1..65535"},
        {"http:///announce", "tracker URL: host '' is empty or not a DNS name or address"},
        {"http://t!/", "tracker URL: host 't!' is empty or not a DNS name or address"},
        {"http://user:pw@t/", "tracker URL: user information before the host is not supported"},
        {"http://[::1/", "tracker URL: IPv6 host without a closing ']'"},
        {"http://[::1]x/", "tracker URL: unexpected characters after the IPv6 host"},
        {"http://[zz]/", "tracker URL: malformed IPv6 host"},
        {"http://t/a b", "tracker URL: 'http://t/a b' has a character outside visible ASCII"},
        {"http://t/a\r\nX: 1", "tracker URL: 'http://t/a\r\nX: 1' has a character outside visible ASCII"},
    };
    for (auto [url, message] : cases) {
        auto parsed = parse_tracker_url(url);
        ASSERT_FALSE(parsed) << url;
        EXPECT_EQ(parsed.error().message(), message);
    }
    auto long_url = parse_tracker_url("http://t/" + std::string(tracker_url_length_max, 'a'));
    ASSERT_FALSE(long_url);
    EXPECT_EQ(long_url.error().code, errc::limit_exceeded);
}

TEST(tracker_url, appends_a_query_after_question_mark_or_ampersand) {
    EXPECT_EQ(append_query("http://t/announce", "a=1"), "http://t/announce?a=1");
    EXPECT_EQ(append_query("http://t/announce.php?passkey=k", "a=1"), "http://t/announce.php?passkey=k&a=1");
    EXPECT_EQ(append_query("http://t/announce?", "a=1"), "http://t/announce?a=1");
    EXPECT_EQ(append_query("http://t/announce?k=v&", "a=1"), "http://t/announce?k=v&a=1");
    EXPECT_EQ(append_query("http://t/announce#x", "a=1"), "http://t/announce?a=1");
}

}  // namespace
}  // namespace hyphae::tracker
