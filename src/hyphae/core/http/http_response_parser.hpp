#pragma once
// Incremental HTTP/1.1 response parser (the client side of a connection), sans-I/O.
//
//   feed(bytes)      bytes as they arrive, split anywhere; an error is final: every later call
//                    returns it (responses parsed before it can still be polled)
//   finish()         the connection closed: completes a body read until close, or reports a
//                    response cut short
//   poll_response()  complete responses in the order received, until empty
//
// Bodies are framed by Transfer-Encoding: chunked, by Content-Length, or run until the connection
// closes (RFC 9112 6.3); 204, 304 and 1xx responses have none. Interim 1xx responses (100
// Continue) are skipped; 101 Switching Protocols is refused. Responses to HEAD requests are not
// supported (their Content-Length would be read as a body). Transfer codings other than chunked
// (gzip) are refused, since we never ask for them.

#include <deque>
#include <optional>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/error.hpp"
#include "hyphae/core/http/http_message.hpp"
#include "hyphae/core/http/http_reader.hpp"

namespace hyphae::http {

class http_response_parser {
public:
    explicit http_response_parser(const http_limits& limits = {});

    result<void> feed(byte_view bytes);
    result<void> finish();
    std::optional<http_response> poll_response();

private:
    result<void> read();
    result<void> begin(http_head head);
    result<void> failed(error e);

    http_limits limits_;
    http_reader reader_;
    std::optional<error> error_;
    bool closed_ = false;                   // finish() was called, or a body ran until close
    std::optional<http_response> current_;  // head read, body not yet complete
    bool interim_ = false;                  // current_ is a 1xx response, dropped once read
    std::deque<http_response> ready_;
};

}  // namespace hyphae::http
