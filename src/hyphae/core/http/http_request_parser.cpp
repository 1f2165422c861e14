#include "hyphae/core/http/http_request_parser.hpp"

#include <algorithm>

#include "hyphae/core/http/http_syntax.hpp"

namespace hyphae::http {
namespace {

constexpr std::string_view where = "http request";

bool is_target_char(char c) {
    const auto b = static_cast<unsigned char>(c);
    return b > 0x20 && b < 0x7f;
}

}  // namespace

http_request_parser::http_request_parser(const http_limits& limits)
    : limits_(limits), reader_(std::string(where), "request line", limits) {}

result<void> http_request_parser::failed(error e) {
    error_ = e;
    return tl::unexpected(std::move(e));
}

result<void> http_request_parser::feed(byte_view bytes) {
    if (error_) {
        return tl::unexpected(*error_);
    }
    reader_.append(bytes);
    if (closing_) {
        return check_nothing_after_close();
    }
    return read();
}

result<void> http_request_parser::finish() {
    if (error_) {
        return tl::unexpected(*error_);
    }
    if (closing_) {
        return {};
    }
    auto step = reader_.finish();
    if (!step) {
        return failed(step.error());
    }
    return {};
}

std::optional<http_request> http_request_parser::poll_request() {
    if (ready_.empty()) {
        return std::nullopt;
    }
    http_request request = std::move(ready_.front());
    ready_.pop_front();
    return request;
}

result<void> http_request_parser::check_nothing_after_close() {
    // Stray line ends after a final request are harmless (old clients add CRLF after a body).
    const std::string_view rest = reader_.buffered();
    if (std::all_of(rest.begin(), rest.end(), [](char c) { return c == '\r' || c == '\n'; })) {
        return {};
    }
    return failed(
        error{errc::invalid_input, std::string(where), "bytes after a request that closes the connection"});
}

result<void> http_request_parser::begin(http_head head) {
    const std::string_view line = head.start_line;
    const std::size_t first = line.find(' ');
    const std::size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
    if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos) {
        return fail(errc::invalid_input, std::string(where),
                    "request line is not 'METHOD target HTTP-version'");
    }
    const std::string_view method = line.substr(0, first);
    const std::string_view target = line.substr(first + 1, second - first - 1);
    if (!http_syntax::is_token(method)) {
        return fail(errc::invalid_input, std::string(where), "method is not a token");
    }
    if (target.empty() || !std::all_of(target.begin(), target.end(), is_target_char)) {
        return fail(errc::invalid_input, std::string(where),
                    "request target is empty or has a character outside visible ASCII");
    }
    auto version = read_http_version(line.substr(second + 1), where);
    if (!version) {
        return tl::unexpected(version.error());
    }
    http_request request;
    request.method = std::string(method);
    request.target = std::string(target);
    request.version = *version;
    request.headers = std::move(head.headers);

    const std::size_t hosts = request.headers.find_all("Host").size();
    if (request.version == http_version::http_1_1 && hosts == 0) {
        return fail(errc::invalid_input, std::string(where), "HTTP/1.1 request without a Host field");
    }
    if (hosts > 1) {
        return fail(errc::invalid_input, std::string(where), "more than one Host field");
    }
    if (request.headers.find("Transfer-Encoding")) {
        return fail(errc::unsupported, std::string(where),
                    "request bodies with Transfer-Encoding (chunked) are not supported");
    }
    auto content_length = read_content_length(request.headers, where, limits_.body_size_max);
    if (!content_length) {
        return tl::unexpected(content_length.error());
    }
    const bool close = request.headers.has_token("Connection", "close");
    const bool keep = request.headers.has_token("Connection", "keep-alive");
    request.keep_alive = request.version == http_version::http_1_1 ? !close : keep && !close;
    current_ = std::move(request);
    reader_.begin_body(*content_length ? body_framing::length : body_framing::none,
                       content_length->value_or(0));
    return {};
}

result<void> http_request_parser::read() {
    while (true) {
        auto step = reader_.advance();
        if (!step) {
            return failed(step.error());
        }
        switch (*step) {
            case http_reader::step::need_more:
                return {};
            case http_reader::step::head_ready:
                if (auto begun = begin(reader_.take_head()); !begun) {
                    return failed(begun.error());
                }
                break;
            case http_reader::step::body_ready: {
                current_->body = reader_.take_body();
                if (ready_.size() >= limits_.messages_queued_max) {
                    return failed(error{errc::limit_exceeded, std::string(where),
                                        "more than " + std::to_string(limits_.messages_queued_max) +
                                            " requests waiting to be polled"});
                }
                closing_ = !current_->keep_alive;
                ready_.push_back(std::move(*current_));
                current_.reset();
                if (closing_) {
                    return check_nothing_after_close();
                }
                break;
            }
        }
    }
}

}  // namespace hyphae::http
