#include "hyphae/core/http/http_format.hpp"

#include <gtest/gtest.h>

#include "hyphae/core/http/http_request_parser.hpp"
#include "hyphae/core/http/http_response_parser.hpp"

namespace hyphae::http {
namespace {

TEST(http_format, writes_a_request_that_parses_back) {
    auto bytes = format_request("GET", "tracker.example:8080", "/announce?info_hash=%00%FF",
                                {{"User-Agent", "Hyphae/0.1"}, {"Accept-Encoding", "identity"}});
    ASSERT_TRUE(bytes) << bytes.error().message();
    EXPECT_EQ(*bytes,
              "GET /announce?info_hash=%00%FF HTTP/1.1\r\nHost: tracker.example:8080\r\n"
              "User-Agent: Hyphae/0.1\r\nAccept-Encoding: identity\r\n\r\n");
    http_request_parser parser;
    ASSERT_TRUE(parser.feed(as_bytes(*bytes)));
    auto request = parser.poll_request();
    ASSERT_TRUE(request);
    EXPECT_EQ(request->target, "/announce?info_hash=%00%FF");
    EXPECT_EQ(request->headers.find("host"), "tracker.example:8080");
    EXPECT_EQ(request->headers.size(), 3u);
}

TEST(http_format, writes_a_request_body_with_its_length) {
    auto bytes = format_request("POST", "h", "/rpc", {}, "{}");
    ASSERT_TRUE(bytes);
    EXPECT_EQ(*bytes, "POST /rpc HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}");
}

TEST(http_format, writes_a_response_that_parses_back) {
    auto bytes = format_response(200, "OK", {{"Content-Type", "text/plain"}}, "d5:filesdee");
    ASSERT_TRUE(bytes);
    EXPECT_EQ(*bytes, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nd5:filesdee");
    http_response_parser parser;
    ASSERT_TRUE(parser.feed(as_bytes(*bytes)));
    auto response = parser.poll_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "d5:filesdee");

    auto empty = format_response(404, "Not Found");
    ASSERT_TRUE(empty);
    EXPECT_EQ(*empty, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    auto no_content = format_response(204, "No Content");
    ASSERT_TRUE(no_content);
    EXPECT_EQ(*no_content, "HTTP/1.1 204 No Content\r\n\r\n");
}

TEST(http_format, refuses_parts_that_would_inject_fields_or_messages) {
    const auto request_error = [](std::string_view method, std::string_view host, std::string_view target,
                                  std::vector<http_header> headers = {}) {
        auto bytes = format_request(method, host, target, headers);
        EXPECT_FALSE(bytes) << *bytes;
        return bytes ? std::string() : bytes.error().message();
    };
    EXPECT_EQ(request_error("GET", "h", "/a\r\nX-Injected: 1"),
              "http request: request target is empty or has a character outside visible ASCII");
    EXPECT_EQ(request_error("GET", "h", "/a b"),
              "http request: request target is empty or has a character outside visible ASCII");
    EXPECT_EQ(request_error("GET", "h", ""),
              "http request: request target is empty or has a character outside visible ASCII");
    EXPECT_EQ(request_error("GET", "h\r\nX: 1", "/"),
              "http request: host is empty or has whitespace or a control character");
    EXPECT_EQ(request_error("GET", "", "/"),
              "http request: host is empty or has whitespace or a control character");
    EXPECT_EQ(request_error("G T", "h", "/"), "http request: method is not a token");
    EXPECT_EQ(request_error("GET", "h", "/", {{"X", "a\r\nY: b"}}),
              "http request: control character in the value of 'X'");
    EXPECT_EQ(request_error("GET", "h", "/", {{"X:Y", "a"}}),
              "http request: header name 'X:Y' is not a token");
    EXPECT_EQ(request_error("GET", "h", "/", {{"content-length", "9"}}),
              "http request: 'content-length' is written by the formatter, not taken from the headers");
    EXPECT_EQ(request_error("GET", "h", "/", {{"Host", "other"}}),
              "http request: 'Host' is written by the formatter, not taken from the headers");

    EXPECT_EQ(format_response(200, "OK\r\nX: 1").error().message(),
              "http response: control character in the reason phrase");
    EXPECT_EQ(format_response(99, "Low").error().message(), "http response: status 99 is not three digits");
    EXPECT_EQ(format_response(1000, "High").error().message(),
              "http response: status 1000 is not three digits");
    EXPECT_EQ(format_response(304, "Not Modified", {}, "x").error().message(),
              "http response: a 304 response cannot carry a body");
    EXPECT_EQ(format_response(200, "OK", {{"Transfer-Encoding", "chunked"}}).error().message(),
              "http response: 'Transfer-Encoding' is written by the formatter, not taken from the headers");
}

}  // namespace
}  // namespace hyphae::http
