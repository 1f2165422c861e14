#include "hyphae/core/http/http_response_parser.hpp"

#include <algorithm>

#include "hyphae/core/http/http_syntax.hpp"

namespace hyphae::http {
namespace {

constexpr std::string_view where = "http response";

}  // namespace

http_response_parser::http_response_parser(const http_limits& limits)
    : limits_(limits), reader_(std::string(where), "status line", limits) {}

result<void> http_response_parser::failed(error e) {
    error_ = e;
    return tl::unexpected(std::move(e));
}

result<void> http_response_parser::feed(byte_view bytes) {
    if (error_) {
        return tl::unexpected(*error_);
    }
    if (closed_) {
        if (bytes.empty()) {
            return {};
        }
        return failed(error{errc::invalid_input, std::string(where), "bytes after the connection closed"});
    }
    reader_.append(bytes);
    return read();
}

result<void> http_response_parser::finish() {
    if (error_) {
        return tl::unexpected(*error_);
    }
    if (closed_) {
        return {};
    }
    closed_ = true;
    auto step = reader_.finish();
    if (!step) {
        return failed(step.error());
    }
    if (*step == http_reader::step::body_ready) {
        return read();
    }
    return {};
}

std::optional<http_response> http_response_parser::poll_response() {
    if (ready_.empty()) {
        return std::nullopt;
    }
    http_response response = std::move(ready_.front());
    ready_.pop_front();
    return response;
}

result<void> http_response_parser::begin(http_head head) {
    const std::string_view line = head.start_line;
    // status-line = HTTP-version SP 3DIGIT SP [reason-phrase]; the SP before an empty reason is
    // often missing, so it is optional here.
    const std::size_t space = line.find(' ');
    auto version = read_http_version(line.substr(0, space), where);
    if (!version) {
        return tl::unexpected(version.error());
    }
    const std::string_view rest =
        space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
    const std::string_view code = rest.substr(0, 3);
    if (code.size() != 3 ||
        !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        code[0] == '0' || (rest.size() > 3 && rest[3] != ' ')) {
        return fail(errc::invalid_input, std::string(where), "status line without a three-digit status code");
    }
    http_response response;
    response.version = *version;
    response.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    response.reason = std::string(rest.size() > 4 ? rest.substr(4) : std::string_view{});
    response.headers = std::move(head.headers);
    if (response.status == 101) {
        return fail(errc::unsupported, std::string(where), "101 Switching Protocols is not supported");
    }

    body_framing framing = body_framing::until_close;
    std::size_t length = 0;
    interim_ = response.status < 200;
    if (interim_ || response.status == 204 || response.status == 304) {
        framing = body_framing::none;
    } else if (response.headers.find("Transfer-Encoding")) {
        // RFC 9112 6.3: Transfer-Encoding overrides Content-Length in a response.
        const auto codings = response.headers.find_all("Transfer-Encoding");
        if (codings.size() != 1 || !equals_ignoring_case(http_syntax::trim(codings[0]), "chunked")) {
            return fail(errc::unsupported, std::string(where),
                        "Transfer-Encoding other than 'chunked' is not supported");
        }
        framing = body_framing::chunked;
    } else {
        auto content_length = read_content_length(response.headers, where, limits_.body_size_max);
        if (!content_length) {
            return tl::unexpected(content_length.error());
        }
        if (*content_length) {
            framing = body_framing::length;
            length = **content_length;
        }
    }
    const bool close = response.headers.has_token("Connection", "close");
    const bool keep = response.headers.has_token("Connection", "keep-alive");
    response.keep_alive = framing != body_framing::until_close &&
                          (response.version == http_version::http_1_1 ? !close : keep && !close);
    current_ = std::move(response);
    reader_.begin_body(framing, length);
    return {};
}

result<void> http_response_parser::read() {
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
                if (!interim_) {
                    if (ready_.size() >= limits_.messages_queued_max) {
                        return failed(error{errc::limit_exceeded, std::string(where),
                                            "more than " + std::to_string(limits_.messages_queued_max) +
                                                " responses waiting to be polled"});
                    }
                    ready_.push_back(std::move(*current_));
                }
                current_.reset();
                interim_ = false;
                break;
            }
        }
    }
}

}  // namespace hyphae::http
