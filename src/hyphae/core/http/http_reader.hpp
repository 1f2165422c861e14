#pragma once
// The framing that the request and response parsers share. An http_reader cuts a byte stream into
// message heads (start line and header fields) and bodies, within http_limits:
//
//   append(bytes)          buffer input (any split, down to one byte at a time)
//   advance() -> step      read as far as the buffer allows:
//     need_more            wait for more bytes (or finish())
//     head_ready           take_head(), decide the framing, then begin_body(framing, length)
//     body_ready           take_body(); the reader then reads the next message's head
//   finish() -> step       end of input: completes a body that runs until close (body_ready) or
//                          reports a message cut short; need_more means the stream ended cleanly
//
// Lines end in CRLF or a bare LF (RFC 9112 2.2); empty lines before a start line are skipped.
// Obsolete line folding, control characters and malformed header names are errors. Trailer
// fields of a chunked body are checked against the same limits, then dropped.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/error.hpp"
#include "hyphae/core/http/http_message.hpp"

namespace hyphae::http {

enum class body_framing { none, length, chunked, until_close };

struct http_head {
    std::string start_line;
    http_headers headers;
};

// The version of a start line ("HTTP/1.1"); an error for other versions and for text that is no
// version at all.
result<http_version> read_http_version(std::string_view text, std::string_view where);

// The Content-Length of a head: empty when absent; an error when malformed, when several values
// disagree (RFC 9112 6.3), or when longer than body_size_max.
result<std::optional<std::size_t>> read_content_length(const http_headers& headers, std::string_view where,
                                                       std::size_t body_size_max);

class http_reader {
public:
    enum class step { need_more, head_ready, body_ready };

    // `where` names the stream in errors ("http response"); `start_line_name` names its first line
    // ("status line", "request line").
    http_reader(std::string where, std::string start_line_name, const http_limits& limits);

    void append(byte_view bytes);
    result<step> advance();
    http_head take_head();
    void begin_body(body_framing framing, std::size_t length = 0);
    std::string take_body();
    result<step> finish();

    // Between messages with no bytes buffered.
    bool idle() const;
    // Bytes received but not yet read (the start of the next pipelined message, say).
    std::string_view buffered() const { return std::string_view(buffer_).substr(pos_); }

private:
    enum class state {
        start_line,
        header_lines,
        awaiting_framing,
        body_length,
        chunk_size,
        chunk_data,
        chunk_data_end,
        trailer_lines,
        body_until_close,
        body_done,
    };

    tl::unexpected<error> failure(errc code, std::string what) const;
    // The next complete line, without its line ending; empty optional when none is buffered yet.
    result<std::optional<std::string_view>> next_line(std::string_view line_name);
    result<void> count_head_line(std::size_t length);
    result<void> read_header_line(std::string_view line, bool trailer);
    result<void> read_chunk_size(std::string_view line);
    void compact();

    std::string where_;
    std::string start_line_name_;
    http_limits limits_;
    state state_ = state::start_line;
    std::string buffer_;
    std::size_t pos_ = 0;   // first unread byte of buffer_
    std::size_t scan_ = 0;  // bytes from pos_ already searched for a line end
    http_head head_;
    std::size_t head_bytes_ = 0;
    std::size_t head_fields_ = 0;
    std::string body_;
    std::size_t remaining_ = 0;  // of a Content-Length body or of the current chunk
};

}  // namespace hyphae::http
