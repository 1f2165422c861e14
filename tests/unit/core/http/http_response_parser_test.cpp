#include "hyphae/core/http/http_response_parser.hpp"

#include <gtest/gtest.h>

namespace hyphae::http {
namespace {

struct outcome {
    std::vector<http_response> responses;
    std::optional<error> failure;
};

// Feeds `parts` one after the other, then finish() when `eof`, and collects what comes out.
outcome run(const std::vector<std::string_view>& parts, bool eof, const http_limits& limits = {}) {
    http_response_parser parser(limits);
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
    while (auto response = parser.poll_response()) {
        out.responses.push_back(std::move(*response));
    }
    return out;
}

void expect_same(const outcome& a, const outcome& b, const std::string& label) {
    ASSERT_EQ(a.failure.has_value(), b.failure.has_value()) << label;
    if (a.failure) {
        EXPECT_EQ(a.failure->message(), b.failure->message()) << label;
    }
    ASSERT_EQ(a.responses.size(), b.responses.size()) << label;
    for (std::size_t i = 0; i < a.responses.size(); ++i) {
        EXPECT_EQ(a.responses[i].status, b.responses[i].status) << label;
        EXPECT_EQ(a.responses[i].reason, b.responses[i].reason) << label;
        EXPECT_EQ(a.responses[i].headers.fields(), b.responses[i].headers.fields()) << label;
        EXPECT_EQ(a.responses[i].body, b.responses[i].body) << label;
        EXPECT_EQ(a.responses[i].keep_alive, b.responses[i].keep_alive) << label;
    }
}

// Parses `text` whole, then split at every byte position, then one byte at a time, and checks
// that every split gives the same outcome; returns it.
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

http_response parse_one(std::string_view text, bool eof = false) {
    outcome out = parse_every_split(text, eof);
    EXPECT_FALSE(out.failure) << out.failure->message();
    EXPECT_EQ(out.responses.size(), 1u);
    return out.responses.empty() ? http_response{} : out.responses.front();
}

void expect_error(std::string_view text, std::string_view message, errc code = errc::invalid_input,
                  bool eof = false, const http_limits& limits = {}) {
    outcome out = parse_every_split(text, eof, limits);
    ASSERT_TRUE(out.failure) << text;
    EXPECT_EQ(out.failure->code, code) << out.failure->message();
    EXPECT_EQ(out.failure->message(), message);
}

TEST(http_response_parser, reads_a_content_length_body_and_looks_headers_up_in_any_case) {
    const http_response r = parse_one(
        "HTTP/1.1 200 OK Fine\r\nContent-Type: text/plain\r\ncontent-length: 5\r\nX-A:  spaced "
        "\t\r\n\r\nhello");
    EXPECT_EQ(r.version, http_version::http_1_1);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.reason, "OK Fine");
    EXPECT_EQ(r.body, "hello");
    EXPECT_EQ(r.headers.size(), 3u);
    EXPECT_EQ(r.headers.find("CONTENT-TYPE"), "text/plain");
    EXPECT_EQ(r.headers.find("Content-Length"), "5");
    EXPECT_EQ(r.headers.find("x-a"), "spaced");
    EXPECT_FALSE(r.headers.find("missing"));
    EXPECT_TRUE(r.keep_alive);
}

TEST(http_response_parser, reads_chunked_bodies_with_extensions_and_trailers) {
    const http_response r = parse_one(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nContent-Length: 999\r\n\r\n"
        "5;name=value\r\nhello\r\nA \r\n, chunked!\r\n0\r\nX-Trailer: t\r\n\r\n");
    EXPECT_EQ(r.body, "hello, chunked!");
    EXPECT_TRUE(r.keep_alive);
    EXPECT_FALSE(r.headers.find("X-Trailer"));  // trailers are checked, then dropped
}

TEST(http_response_parser, reads_a_body_until_the_connection_closes) {
    const std::string_view text = "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nd8:intervali1800ee";
    const outcome open = run({text}, false);
    EXPECT_FALSE(open.failure);
    EXPECT_TRUE(open.responses.empty());  // no end yet: the body may go on
    const http_response r = parse_one(text, true);
    EXPECT_EQ(r.version, http_version::http_1_0);
    EXPECT_EQ(r.body, "d8:intervali1800ee");
    EXPECT_FALSE(r.keep_alive);
}

TEST(http_response_parser, gives_no_body_to_204_304_and_skips_interim_responses) {
    const outcome out = parse_every_split(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"
        "HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    ASSERT_FALSE(out.failure) << out.failure->message();
    ASSERT_EQ(out.responses.size(), 3u);
    EXPECT_EQ(out.responses[0].status, 204);
    EXPECT_EQ(out.responses[0].body, "");
    EXPECT_EQ(out.responses[1].status, 304);
    EXPECT_EQ(out.responses[2].body, "ok");
}

TEST(http_response_parser, accepts_bare_lf_leading_empty_lines_and_a_missing_reason) {
    const http_response r = parse_one("\r\n\nHTTP/1.1 404\nContent-Length: 0\n\n");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.reason, "");
    EXPECT_EQ(r.body, "");
}

TEST(http_response_parser, decides_keep_alive_from_version_and_connection) {
    EXPECT_FALSE(parse_one("HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n").keep_alive);
    EXPECT_TRUE(
        parse_one("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n").keep_alive);
    EXPECT_FALSE(parse_one("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
    EXPECT_TRUE(
        parse_one("HTTP/1.1 200 OK\r\nConnection: foo, keep-alive\r\nContent-Length: 0\r\n\r\n").keep_alive);
}

TEST(http_response_parser, accepts_repeated_equal_content_lengths) {
    EXPECT_EQ(parse_one("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc").body,
              "abc");
    EXPECT_EQ(parse_one("HTTP/1.1 200 OK\r\nContent-Length: 0003\r\n\r\nabc").body, "abc");
}

TEST(http_response_parser, refuses_malformed_status_lines) {
    expect_error("HTTP/2.0 200 OK\r\n\r\n", "http response: version 'HTTP/2.0' is not supported",
                 errc::unsupported);
    expect_error("ICY 200 OK\r\n\r\n", "http response: no HTTP version where one was expected");
    for (const char* bad : {"HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
                            "HTTP/1.1 099 Low\r\n\r\n", "HTTP/1.1\r\n\r\n"}) {
        expect_error(bad, "http response: status line without a three-digit status code");
    }
    expect_error("HTTP/1.1 200 O\x01K\r\n\r\n", "http response: control character in the status line");
    expect_error("HTTP/1.1 101 Switching Protocols\r\n\r\n",
                 "http response: 101 Switching Protocols is not supported", errc::unsupported);
}

TEST(http_response_parser, refuses_malformed_header_fields) {
    expect_error("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",
                 "http response: obsolete line folding (a line starting with whitespace)");
    expect_error("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "http response: header field without ':'");
    expect_error("HTTP/1.1 200 OK\r\n: empty\r\n\r\n", "http response: header field with an empty name");
    expect_error("HTTP/1.1 200 OK\r\nName : v\r\n\r\n",
                 "http response: whitespace between field name 'Name' and ':'");
    expect_error("HTTP/1.1 200 OK\r\nNa(me: v\r\n\r\n",
                 "http response: header field name with a character outside a token");
    expect_error(std::string_view("HTTP/1.1 200 OK\r\nName: a\0b\r\n\r\n", 30),
                 "http response: control character in the value of 'Name'");
    expect_error("HTTP/1.1 200 OK\r\nName: a\rb\r\n\r\n",
                 "http response: control character in the value of 'Name'");
}

TEST(http_response_parser, refuses_bad_framing) {
    expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                 "http response: Transfer-Encoding other than 'chunked' is not supported", errc::unsupported);
    expect_error("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
                 "http response: Content-Length '1x' is not a number");
    expect_error("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                 "http response: Content-Length '-1' is not a number");
    expect_error("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
                 "http response: conflicting Content-Length values");
    const std::string_view chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    expect_error(std::string(chunked) + "xyz\r\n",
                 "http response: chunk size line does not start with a hexadecimal size");
    expect_error(std::string(chunked) + "5 x\r\n",
                 "http response: unexpected characters after the chunk size");
    expect_error(std::string(chunked) + "3\r\nabcX\r\n",
                 "http response: chunk data not followed by a line end");
    expect_error(std::string(chunked) + "0\r\nbad trailer\r\n\r\n",
                 "http response: trailer field without ':'");
}

TEST(http_response_parser, holds_its_limits) {
    expect_error("HTTP/1.1 200 OK\r\nX: " + std::string(8200, 'a') + "\r\n\r\n",
                 "http response: header line longer than 8192 bytes", errc::limit_exceeded);
    // Found before the line ends, so a peer cannot make the buffer grow.
    expect_error("HTTP/1.1 200 OK\r\nX: " + std::string(8200, 'a'),
                 "http response: header line longer than 8192 bytes", errc::limit_exceeded);
    http_limits small;
    small.line_length_max = 30;
    small.header_count_max = 2;
    small.header_bytes_max = 72;
    small.body_size_max = 4;
    // A line of exactly the limit passes.
    EXPECT_EQ(
        run({"HTTP/1.1 200 OK\r\nA: 123456789012345678901234567\r\nContent-Length: 0\r\n\r\n"}, false, small)
            .responses.size(),
        1u);
    expect_error("HTTP/1.1 200 OK\r\nA: 1234567890123456789012345678\r\n\r\n",
                 "http response: header line longer than 30 bytes", errc::limit_exceeded, false, small);
    expect_error("HTTP/1.1 200 OK, but longer than that\r\n\r\n",
                 "http response: status line longer than 30 bytes", errc::limit_exceeded, false, small);
    expect_error("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
                 "http response: more than 2 header fields", errc::limit_exceeded, false, small);
    expect_error(
        "HTTP/1.1 200 OK\r\nA: 123456789012345678901234567\r\nB: 123456789012345678901234567\r\n\r\n",
        "http response: header section longer than 72 bytes", errc::limit_exceeded, false, small);
    expect_error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
                 "http response: body of 5 bytes is longer than 4 bytes", errc::limit_exceeded, false, small);
    expect_error("HTTP/1.1 200 OK\r\n\r\nhello", "http response: body longer than 4 bytes",
                 errc::limit_exceeded, true, small);
    expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n",
                 "http response: chunked body longer than 4 bytes", errc::limit_exceeded, false, small);
    expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffff\r\n",
                 "http response: chunked body longer than 4 bytes", errc::limit_exceeded, false, small);
    expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
                 "http response: more than 2 trailer fields", errc::limit_exceeded, false, small);
}

TEST(http_response_parser, bounds_the_responses_waiting_to_be_polled) {
    http_limits limits;
    limits.messages_queued_max = 2;
    const std::string one = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
    const outcome out = run({one + one + one}, false, limits);
    ASSERT_TRUE(out.failure);
    EXPECT_EQ(out.failure->message(), "http response: more than 2 responses waiting to be polled");
    EXPECT_EQ(out.responses.size(), 2u);  // those parsed before the error are kept

    http_response_parser parser(limits);
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(parser.feed(as_bytes(one)));
        ASSERT_TRUE(parser.poll_response());  // draining as it goes never hits the bound
    }
}

TEST(http_response_parser, reports_responses_cut_short_by_the_end_of_the_connection) {
    EXPECT_FALSE(run({""}, true).failure);  // closed before anything: no response, no error
    expect_error("HTTP/1.1 2", "http response: connection closed inside the status line", errc::invalid_input,
                 true);
    expect_error("HTTP/1.1 200 OK\r\nA: b\r\n", "http response: connection closed inside the header section",
                 errc::invalid_input, true);
    expect_error("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
                 "http response: connection closed 7 bytes before the end of the body", errc::invalid_input,
                 true);
    expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
                 "http response: connection closed inside the chunked body", errc::invalid_input, true);
}

TEST(http_response_parser, keeps_an_error_and_refuses_bytes_after_the_end) {
    http_response_parser parser;
    ASSERT_FALSE(parser.feed(as_bytes(std::string_view("BAD\r\n\r\n"))));
    auto again = parser.feed(as_bytes(std::string_view("HTTP/1.1 200 OK\r\n\r\n")));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().what, "no HTTP version where one was expected");
    EXPECT_FALSE(parser.finish());

    http_response_parser closed;
    ASSERT_TRUE(closed.feed(as_bytes(std::string_view("HTTP/1.1 200 OK\r\n\r\nbody"))));
    ASSERT_TRUE(closed.finish());
    ASSERT_TRUE(closed.finish());  // idempotent
    EXPECT_EQ(closed.poll_response()->body, "body");
    auto late = closed.feed(as_bytes(std::string_view("more")));
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().message(), "http response: bytes after the connection closed");
}

}  // namespace
}  // namespace hyphae::http
