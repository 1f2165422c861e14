#pragma once
// HTTP/1.1 messages as the parsers yield them and the formatters take them (RFC 9110, 9112):
// header fields with case-insensitive lookup, requests, responses, and the limits every parser
// applies to what it reads from the network.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hyphae::http {

enum class http_version { http_1_0, http_1_1 };

std::string_view to_string(http_version version);  // "HTTP/1.0", "HTTP/1.1"

struct http_header {
    std::string name;   // as received; compared without regard to case
    std::string value;  // without leading and trailing whitespace

    friend bool operator==(const http_header&, const http_header&) = default;
};

// Header fields in the order received. Lookups ignore the case of names (RFC 9110 5.1).
class http_headers {
public:
    void add(std::string name, std::string value);

    // The first field with this name.
    std::optional<std::string_view> find(std::string_view name) const;
    // Every field with this name, in order (e.g. Content-Length sent twice).
    std::vector<std::string_view> find_all(std::string_view name) const;
    // True when a comma-separated field (Connection, Transfer-Encoding) lists `token`, in any case.
    bool has_token(std::string_view name, std::string_view token) const;

    std::size_t size() const { return fields_.size(); }
    bool empty() const { return fields_.empty(); }
    const std::vector<http_header>& fields() const { return fields_; }
    auto begin() const { return fields_.begin(); }
    auto end() const { return fields_.end(); }

private:
    std::vector<http_header> fields_;
};

bool equals_ignoring_case(std::string_view a, std::string_view b);

struct http_request {
    std::string method;  // "GET"; methods are case-sensitive
    std::string target;  // "/announce?info_hash=...", as sent (still percent-encoded)
    http_version version = http_version::http_1_1;
    http_headers headers;
    std::string body;
    // Whether the connection may carry another request after this one's response: HTTP/1.1
    // unless "Connection: close", HTTP/1.0 only with "Connection: keep-alive".
    bool keep_alive = true;
};

struct http_response {
    http_version version = http_version::http_1_1;
    int status = 0;  // 200..599 (interim 1xx responses are skipped)
    std::string reason;
    http_headers headers;
    std::string body;
    // Whether the connection may carry another request: false when the body ran until close.
    bool keep_alive = true;
};

struct http_limits {
    std::size_t line_length_max = 8192;        // the start line and each header line, without CRLF
    std::size_t header_count_max = 100;        // fields in one head (and in a chunked trailer)
    std::size_t header_bytes_max = 64 * 1024;  // all lines of one head together
    std::size_t body_size_max = 4u << 20;      // decoded body bytes
    std::size_t messages_queued_max = 16;      // complete messages parsed but not yet polled
};

}  // namespace hyphae::http
