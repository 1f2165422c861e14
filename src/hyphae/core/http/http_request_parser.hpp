#pragma once
// Incremental HTTP/1.1 request parser (the server side of a connection), sans-I/O.
//
//   feed(bytes)     bytes as they arrive, split anywhere; several pipelined requests may come in
//                   one call, and the bytes after one request start the next. An error is final:
//                   every later call returns it (requests parsed before it can still be polled)
//   finish()        the peer closed its side: an error if it did so inside a request
//   poll_request()  complete requests in the order received, until empty
//
// Request line: METHOD SP target SP HTTP/1.0|HTTP/1.1. HTTP/1.1 requests need one Host field.
// Bodies are framed by Content-Length only: a request with Transfer-Encoding (chunked) is
// refused. Keep-alive: HTTP/1.1 by default unless "Connection: close", HTTP/1.0 only with
// "Connection: keep-alive"; after a request that closes the connection, more bytes are an error.
// At most limits.messages_queued_max requests wait to be polled; one more is an error.

#include <deque>
#include <optional>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/error.hpp"
#include "hyphae/core/http/http_message.hpp"
#include "hyphae/core/http/http_reader.hpp"

namespace hyphae::http {

class http_request_parser {
public:
    explicit http_request_parser(const http_limits& limits = {});

    result<void> feed(byte_view bytes);
    result<void> finish();
    std::optional<http_request> poll_request();

    // False once a request has said the connection closes after its response.
    bool keep_alive() const { return !closing_; }

private:
    result<void> read();
    result<void> begin(http_head head);
    result<void> failed(error e);
    result<void> check_nothing_after_close();

    http_limits limits_;
    http_reader reader_;
    std::optional<error> error_;
    bool closing_ = false;                 // a request with keep_alive == false has been read
    std::optional<http_request> current_;  // head read, body not yet complete
    std::deque<http_request> ready_;
};

}  // namespace hyphae::http
