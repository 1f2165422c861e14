#include "hyphae/core/http/http_reader.hpp"

#include <algorithm>

#include "hyphae/core/encoding.hpp"
#include "hyphae/core/http/http_syntax.hpp"

namespace hyphae::http {

result<http_version> read_http_version(std::string_view text, std::string_view where) {
    if (text == "HTTP/1.1") {
        return http_version::http_1_1;
    }
    if (text == "HTTP/1.0") {
        return http_version::http_1_0;
    }
    if (text.starts_with("HTTP/")) {
        return fail(errc::unsupported, std::string(where),
                    "version '" + std::string(text.substr(0, 16)) + "' is not supported");
    }
    return fail(errc::invalid_input, std::string(where), "no HTTP version where one was expected");
}

result<std::optional<std::size_t>> read_content_length(const http_headers& headers, std::string_view where,
                                                       std::size_t body_size_max) {
    std::optional<std::string_view> agreed;
    for (std::string_view value : headers.find_all("Content-Length")) {
        // "5, 5" is a list of one repeated value, which RFC 9112 6.3 lets a recipient accept.
        while (true) {
            const std::size_t comma = value.find(',');
            const std::string_view item = http_syntax::trim(value.substr(0, comma));
            if (item.empty() ||
                !std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; })) {
                return fail(errc::invalid_input, std::string(where),
                            "Content-Length '" + std::string(item.substr(0, 32)) + "' is not a number");
            }
            if (agreed && *agreed != item) {
                return fail(errc::invalid_input, std::string(where), "conflicting Content-Length values");
            }
            agreed = item;
            if (comma == std::string_view::npos) {
                break;
            }
            value.remove_prefix(comma + 1);
        }
    }
    if (!agreed) {
        return std::optional<std::size_t>{};
    }
    std::string_view digits = *agreed;
    while (digits.size() > 1 && digits.front() == '0') {
        digits.remove_prefix(1);
    }
    std::size_t length = 0;
    for (char c : digits) {
        length = length * 10 + static_cast<std::size_t>(c - '0');
        // Checked per digit, so the length never overflows.
        if (length > body_size_max) {
            return fail(errc::limit_exceeded, std::string(where),
                        "body of " + std::string(digits.substr(0, 32)) + " bytes is longer than " +
                            std::to_string(body_size_max) + " bytes");
        }
    }
    return std::optional<std::size_t>{length};
}

http_reader::http_reader(std::string where, std::string start_line_name, const http_limits& limits)
    : where_(std::move(where)), start_line_name_(std::move(start_line_name)), limits_(limits) {}

tl::unexpected<error> http_reader::failure(errc code, std::string what) const {
    return fail(code, where_, std::move(what));
}

void http_reader::append(byte_view bytes) {
    compact();
    buffer_.append(as_chars(bytes));
}

void http_reader::compact() {
    // Dropping read bytes only once they are half the buffer keeps the cost linear in the input.
    if (pos_ > 0 && pos_ * 2 >= buffer_.size()) {
        buffer_.erase(0, pos_);
        pos_ = 0;
    }
}

bool http_reader::idle() const {
    return state_ == state::start_line && pos_ == buffer_.size();
}

result<std::optional<std::string_view>> http_reader::next_line(std::string_view line_name) {
    const std::size_t newline = buffer_.find('\n', pos_ + scan_);
    if (newline == std::string::npos) {
        scan_ = buffer_.size() - pos_;
        // One byte more than the limit may be the CR of a line that is exactly at the limit.
        if (scan_ > limits_.line_length_max + 1) {
            return failure(errc::limit_exceeded, std::string(line_name) + " longer than " +
                                                     std::to_string(limits_.line_length_max) + " bytes");
        }
        return std::optional<std::string_view>{};
    }
    std::string_view line = std::string_view(buffer_).substr(pos_, newline - pos_);
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    if (line.size() > limits_.line_length_max) {
        return failure(errc::limit_exceeded, std::string(line_name) + " longer than " +
                                                 std::to_string(limits_.line_length_max) + " bytes");
    }
    pos_ = newline + 1;
    scan_ = 0;
    return std::optional<std::string_view>{line};
}

result<void> http_reader::count_head_line(std::size_t length) {
    head_bytes_ += length + 2;
    if (head_bytes_ > limits_.header_bytes_max) {
        return failure(errc::limit_exceeded,
                       "header section longer than " + std::to_string(limits_.header_bytes_max) + " bytes");
    }
    return {};
}

result<void> http_reader::read_header_line(std::string_view line, bool trailer) {
    const char* kind = trailer ? "trailer field" : "header field";
    if (++head_fields_ > limits_.header_count_max) {
        return failure(errc::limit_exceeded, std::string("more than ") +
                                                 std::to_string(limits_.header_count_max) + " " + kind + "s");
    }
    if (line.front() == ' ' || line.front() == '\t') {
        return failure(errc::invalid_input, "obsolete line folding (a line starting with whitespace)");
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
        return failure(errc::invalid_input, std::string(kind) + " without ':'");
    }
    const std::string_view name = line.substr(0, colon);
    if (name.empty()) {
        return failure(errc::invalid_input, std::string(kind) + " with an empty name");
    }
    if (name.back() == ' ' || name.back() == '\t') {
        return failure(errc::invalid_input, "whitespace between field name '" +
                                                std::string(http_syntax::trim(name)) + "' and ':'");
    }
    if (!std::all_of(name.begin(), name.end(), http_syntax::is_token_char)) {
        return failure(errc::invalid_input, std::string(kind) + " name with a character outside a token");
    }
    const std::string_view value = http_syntax::trim(line.substr(colon + 1));
    if (!http_syntax::is_field_text(value)) {
        return failure(errc::invalid_input, "control character in the value of '" + std::string(name) + "'");
    }
    if (!trailer) {
        head_.headers.add(std::string(name), std::string(value));
    }
    return {};
}

result<void> http_reader::read_chunk_size(std::string_view line) {
    std::size_t size = 0;
    std::size_t digits = 0;
    const std::size_t room = limits_.body_size_max - body_.size();
    while (digits < line.size() && hex_digit_value(line[digits]) >= 0) {
        size = size * 16 + static_cast<std::size_t>(hex_digit_value(line[digits]));
        ++digits;
        // Checked per digit, so the size never overflows.
        if (size > room) {
            return failure(errc::limit_exceeded,
                           "chunked body longer than " + std::to_string(limits_.body_size_max) + " bytes");
        }
    }
    if (digits == 0) {
        return failure(errc::invalid_input, "chunk size line does not start with a hexadecimal size");
    }
    const std::string_view rest = http_syntax::trim(line.substr(digits));
    if (!rest.empty() && rest.front() != ';') {
        return failure(errc::invalid_input, "unexpected characters after the chunk size");
    }
    if (!http_syntax::is_field_text(rest)) {
        return failure(errc::invalid_input, "control character in a chunk extension");
    }
    remaining_ = size;
    if (size == 0) {
        head_bytes_ = 0;
        head_fields_ = 0;
        state_ = state::trailer_lines;
    } else {
        state_ = state::chunk_data;
    }
    return {};
}

result<http_reader::step> http_reader::advance() {
    while (true) {
        switch (state_) {
            case state::start_line: {
                auto line = next_line(start_line_name_);
                if (!line) {
                    return tl::unexpected(line.error());
                }
                if (!*line) {
                    return step::need_more;
                }
                if (auto counted = count_head_line((*line)->size()); !counted) {
                    return tl::unexpected(counted.error());
                }
                if ((*line)->empty()) {
                    continue;  // RFC 9112 2.2: ignore empty lines before a start line
                }
                if (!http_syntax::is_field_text(**line)) {
                    return failure(errc::invalid_input, "control character in the " + start_line_name_);
                }
                head_.start_line = std::string(**line);
                state_ = state::header_lines;
                break;
            }
            case state::header_lines:
            case state::trailer_lines: {
                const bool trailer = state_ == state::trailer_lines;
                auto line = next_line(trailer ? "trailer line" : "header line");
                if (!line) {
                    return tl::unexpected(line.error());
                }
                if (!*line) {
                    return step::need_more;
                }
                if (auto counted = count_head_line((*line)->size()); !counted) {
                    return tl::unexpected(counted.error());
                }
                if ((*line)->empty()) {
                    state_ = trailer ? state::body_done : state::awaiting_framing;
                    return trailer ? step::body_ready : step::head_ready;
                }
                if (auto field = read_header_line(**line, trailer); !field) {
                    return tl::unexpected(field.error());
                }
                break;
            }
            case state::awaiting_framing:
                return step::head_ready;
            case state::body_length:
            case state::chunk_data: {
                const std::size_t take = std::min(buffer_.size() - pos_, remaining_);
                body_.append(buffer_, pos_, take);
                pos_ += take;
                remaining_ -= take;
                if (remaining_ > 0) {
                    return step::need_more;
                }
                if (state_ == state::body_length) {
                    state_ = state::body_done;
                    return step::body_ready;
                }
                state_ = state::chunk_data_end;
                break;
            }
            case state::chunk_data_end: {
                const std::string_view rest = std::string_view(buffer_).substr(pos_);
                if (rest.empty() || (rest.size() == 1 && rest[0] == '\r')) {
                    return step::need_more;
                }
                const std::size_t ending = rest.starts_with("\r\n") ? 2 : (rest[0] == '\n' ? 1 : 0);
                if (ending == 0) {
                    return failure(errc::invalid_input, "chunk data not followed by a line end");
                }
                pos_ += ending;
                state_ = state::chunk_size;
                break;
            }
            case state::chunk_size: {
                auto line = next_line("chunk size line");
                if (!line) {
                    return tl::unexpected(line.error());
                }
                if (!*line) {
                    return step::need_more;
                }
                if (auto size = read_chunk_size(**line); !size) {
                    return tl::unexpected(size.error());
                }
                break;
            }
            case state::body_until_close: {
                const std::size_t available = buffer_.size() - pos_;
                if (available > limits_.body_size_max - body_.size()) {
                    return failure(errc::limit_exceeded,
                                   "body longer than " + std::to_string(limits_.body_size_max) + " bytes");
                }
                body_.append(buffer_, pos_, available);
                pos_ += available;
                return step::need_more;
            }
            case state::body_done:
                return step::body_ready;
        }
    }
}

http_head http_reader::take_head() {
    http_head head = std::move(head_);
    head_ = {};
    return head;
}

void http_reader::begin_body(body_framing framing, std::size_t length) {
    body_.clear();
    remaining_ = length;
    switch (framing) {
        case body_framing::none:
            state_ = state::body_done;
            break;
        case body_framing::length:
            state_ = length == 0 ? state::body_done : state::body_length;
            break;
        case body_framing::chunked:
            state_ = state::chunk_size;
            break;
        case body_framing::until_close:
            state_ = state::body_until_close;
            break;
    }
}

std::string http_reader::take_body() {
    std::string body = std::move(body_);
    body_ = {};
    head_bytes_ = 0;
    head_fields_ = 0;
    state_ = state::start_line;
    return body;
}

result<http_reader::step> http_reader::finish() {
    switch (state_) {
        case state::start_line: {
            const std::string_view rest = buffered();
            if (std::all_of(rest.begin(), rest.end(), [](char c) { return c == '\r' || c == '\n'; })) {
                return step::need_more;
            }
            return failure(errc::invalid_input, "connection closed inside the " + start_line_name_);
        }
        case state::header_lines:
        case state::awaiting_framing:
            return failure(errc::invalid_input, "connection closed inside the header section");
        case state::body_length:
            return failure(errc::invalid_input, "connection closed " + std::to_string(remaining_) +
                                                    " bytes before the end of the body");
        case state::chunk_size:
        case state::chunk_data:
        case state::chunk_data_end:
        case state::trailer_lines:
            return failure(errc::invalid_input, "connection closed inside the chunked body");
        case state::body_until_close:
            state_ = state::body_done;
            return step::body_ready;
        case state::body_done:
            return step::body_ready;
    }
    return step::need_more;
}

}  // namespace hyphae::http
