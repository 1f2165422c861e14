#include "hyphae/core/http/http_message.hpp"

#include <gtest/gtest.h>

namespace hyphae::http {
namespace {

TEST(http_headers, finds_fields_without_regard_to_case) {
    http_headers headers;
    headers.add("Content-Length", "5");
    headers.add("X-Many", "a");
    headers.add("x-many", "b");
    EXPECT_EQ(headers.find("content-length"), "5");
    EXPECT_EQ(headers.find("X-MANY"), "a");
    EXPECT_EQ(headers.find_all("x-Many"), (std::vector<std::string_view>{"a", "b"}));
    EXPECT_FALSE(headers.find("Content-Lengt"));
    EXPECT_EQ(headers.size(), 3u);
}

TEST(http_headers, finds_tokens_in_comma_separated_fields) {
    http_headers headers;
    headers.add("Connection", "Upgrade,  Keep-Alive ");
    headers.add("Connection", "close");
    EXPECT_TRUE(headers.has_token("connection", "keep-alive"));
    EXPECT_TRUE(headers.has_token("Connection", "upgrade"));
    EXPECT_TRUE(headers.has_token("Connection", "CLOSE"));
    EXPECT_FALSE(headers.has_token("Connection", "keep"));
    EXPECT_FALSE(headers.has_token("Upgrade", "close"));
}

TEST(http_version, prints_its_name) {
    EXPECT_EQ(to_string(http_version::http_1_0), "HTTP/1.0");
    EXPECT_EQ(to_string(http_version::http_1_1), "HTTP/1.1");
}

}  // namespace
}  // namespace hyphae::http
