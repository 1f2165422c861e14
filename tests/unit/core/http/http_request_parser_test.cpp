#include "hyphae/core/http/http_request_parser.hpp"

#include <gtest/gtest.h>

namespace hyphae::http {
namespace {

struct outcome {
    std::vector<http_request> requests;
    std::optional<error> failure;
    bool keep_alive = true;
};

outcome run(const std::vector<std::string_view>& parts, bool eof, const http_limits& limits = {}) {
    http_request_parser parser(limits);
    outcome out;
    for (std::string_view part : parts) {
        if (auto fed = parser.feed(as_bytes(part)); !fed) {
            out.failure = fed.error();
            break;
        }
    }
    if (!out.failure && eof) {
        if (auto done = parser.finish(); !done) {
            out.failure = done.error();
        }
    }
    while (auto request = parser.poll_request()) {
        out.requests.push_back(std::move(*request));
    }
    out.keep_alive = parser.keep_alive();
    return out;
}

void expect_same(const outcome& a, const outcome& b, const std::string& label) {
    ASSERT_EQ(a.failure.has_value(), b.failure.has_value()) << label;
    if (a.failure) {
        EXPECT_EQ(a.failure->message(), b.failure->message()) << label;
    }
    EXPECT_EQ(a.keep_alive, b.keep_alive) << label;
    ASSERT_EQ(a.requests.size(), b.requests.size()) << label;
    for (std::size_t i = 0; i < a.requests.size(); ++i) {
        EXPECT_EQ(a.requests[i].method, b.requests[i].method) << label;
        EXPECT_EQ(a.requests[i].target, b.requests[i].target) << label;
        EXPECT_EQ(a.requests[i].version, b.requests[i].version) << label;
        EXPECT_EQ(a.requests[i].headers.fields(), b.requests[i].headers.fields()) << label;
        EXPECT_EQ(a.requests[i].body, b.requests[i].body) << label;
        EXPECT_EQ(a.requests[i].keep_alive, b.requests[i].keep_alive) << label;
    }
}

outcome parse_every_split(std::string_view text, bool eof = false, const http_limits& limits = {}) {
    const outcome whole = run({text}, eof, limits);
    for (std::size_t i = 0; i <= text.size(); ++i) {
        expect_same(whole, run({text.substr(0, i), text.substr(i)}, eof, limits),
                    "split at " + std::to_string(i));
    }
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < text.size(); ++i) {
        bytes.push_back(text.substr(i, 1));
    }
    expect_same(whole, run(bytes, eof, limits), "one byte at a time");
    return whole;
}

std::vector<http_request> parse_ok(std::string_view text) {
    outcome out = parse_every_split(text, true);
    EXPECT_FALSE(out.failure) << out.failure->message();
    return out.requests;
}

void expect_error(std::string_view text, std::string_view message, errc code = errc::invalid_input,
                  bool eof = false, const http_limits& limits = {}) {
    outcome out = parse_every_split(text, eof, limits);
    ASSERT_TRUE(out.failure) << text;
    EXPECT_EQ(out.failure->code, code) << out.failure->message();
    EXPECT_EQ(out.failure->message(), message);
}

TEST(http_request_parser, reads_a_get_request) {
    const auto requests = parse_ok(
        "GET /announce?info_hash=%12%34&port=6881 HTTP/1.1\r\nHost: tracker.example:8080\r\nUser-Agent: "
        "Hyphae\r\n\r\n");
    ASSERT_EQ(requests.size(), 1u);
    const http_request& r = requests[0];
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.target, "/announce?info_hash=%12%34&port=6881");
    EXPECT_EQ(r.version, http_version::http_1_1);
    EXPECT_EQ(r.headers.find("host"), "tracker.example:8080");
    EXPECT_EQ(r.headers.find("USER-AGENT"), "Hyphae");
    EXPECT_EQ(r.body, "");
    EXPECT_TRUE(r.keep_alive);
}

TEST(http_request_parser, reads_a_content_length_body) {
    const auto requests =
        parse_ok("POST /rpc HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n{\"a\": true}");
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, "POST");
    EXPECT_EQ(requests[0].body, "{\"a\": true}");
}

TEST(http_request_parser, reads_pipelined_requests_in_order) {
    const auto requests = parse_ok(
        "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
        "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
        "\r\nGET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[0].target, "/a");
    EXPECT_EQ(requests[1].target, "/b");
    EXPECT_EQ(requests[1].body, "xyz");
    EXPECT_EQ(requests[2].target, "/c");
    EXPECT_TRUE(requests[1].keep_alive);
    EXPECT_FALSE(requests[2].keep_alive);
}

TEST(http_request_parser, applies_keep_alive_rules_per_version) {
    const auto old_default = parse_every_split("GET / HTTP/1.0\r\n\r\n", true);
    ASSERT_EQ(old_default.requests.size(), 1u);  // HTTP/1.0 needs no Host
    EXPECT_FALSE(old_default.requests[0].keep_alive);
    EXPECT_FALSE(old_default.keep_alive);

    const auto old_kept =
        parse_every_split("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n", true);
    ASSERT_EQ(old_kept.requests.size(), 2u);
    EXPECT_TRUE(old_kept.requests[0].keep_alive);
    EXPECT_FALSE(old_kept.requests[1].keep_alive);

    const auto closing =
        parse_every_split("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, CLOSE\r\n\r\n\r\n", true);
    ASSERT_FALSE(closing.failure);
    ASSERT_EQ(closing.requests.size(), 1u);
    EXPECT_FALSE(closing.requests[0].keep_alive);
    EXPECT_FALSE(closing.keep_alive);
}

TEST(http_request_parser, refuses_requests_after_one_that_closes_the_connection) {
    const auto out =
        parse_every_split("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\n", false);
    ASSERT_TRUE(out.failure);
    EXPECT_EQ(out.failure->message(), "http request: bytes after a request that closes the connection");
    ASSERT_EQ(out.requests.size(), 1u);  // the request before the error is still served
    EXPECT_EQ(out.requests[0].target, "/");
}

TEST(http_request_parser, refuses_chunked_bodies) {
    expect_error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                 "http request: request bodies with Transfer-Encoding (chunked) are not supported",
                 errc::unsupported);
}

TEST(http_request_parser, refuses_malformed_request_lines) {
    for (const char* bad :
         {"GET /\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1 extra\r\n\r\n", "GET\r\n\r\n"}) {
        expect_error(bad, "http request: request line is not 'METHOD target HTTP-version'");
    }
    expect_error("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", "http request: method is not a token");
    expect_error("GET /\x80 HTTP/1.1\r\nHost: h\r\n\r\n",
                 "http request: request target is empty or has a character outside visible ASCII");
    expect_error("GET / HTTP/2.0\r\n\r\n", "http request: version 'HTTP/2.0' is not supported",
                 errc::unsupported);
    expect_error("GET / FTP/1.0\r\n\r\n", "http request: no HTTP version where one was expected");
    expect_error("GET / HTTP/1.1\r\n\r\n", "http request: HTTP/1.1 request without a Host field");
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", "http request: more than one Host field");
    expect_error("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n",
                 "http request: Content-Length 'x' is not a number");
    expect_error("GET / HTTP/1.1\r\nHost: h\r\nBad Name: v\r\n\r\n",
                 "http request: header field name with a character outside a token");
}

TEST(http_request_parser, holds_its_limits) {
    http_limits small;
    small.line_length_max = 24;
    small.header_count_max = 2;
    small.header_bytes_max = 60;
    small.body_size_max = 4;
    small.messages_queued_max = 2;
    expect_error("GET /a-long-target-here HTTP/1.1\r\n", "http request: request line longer than 24 bytes",
                 errc::limit_exceeded, false, small);
    expect_error("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n",
                 "http request: more than 2 header fields", errc::limit_exceeded, false, small);
    expect_error("GET / HTTP/1.1\r\nHost: hhhhhhhhhhhhhhhhhh\r\nA: 111111111111111111111\r\n\r\n",
                 "http request: header section longer than 60 bytes", errc::limit_exceeded, false, small);
    expect_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
                 "http request: body of 5 bytes is longer than 4 bytes", errc::limit_exceeded, false, small);
    const std::string one = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    const auto out = run({one + one + one}, false, small);
    ASSERT_TRUE(out.failure);
    EXPECT_EQ(out.failure->message(), "http request: more than 2 requests waiting to be polled");
    EXPECT_EQ(out.requests.size(), 2u);
}

TEST(http_request_parser, reports_a_request_cut_short) {
    EXPECT_FALSE(run({"GET / HTTP/1.1\r\nHost: h\r\n\r\n"}, true).failure);
    expect_error("GET / HT", "http request: connection closed inside the request line", errc::invalid_input,
                 true);
    expect_error("GET / HTTP/1.1\r\nHost: h\r\n", "http request: connection closed inside the header section",
                 errc::invalid_input, true);
    expect_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab",
                 "http request: connection closed 2 bytes before the end of the body", errc::invalid_input,
                 true);
}

}  // namespace
}  // namespace hyphae::http
