#pragma once
// HTTP/1.1 messages as bytes: the client's requests and the server's responses.
//
// Every part is checked before it is written: a CR, LF or other control character in a target,
// host, header or reason (which could come from a torrent file's tracker URL) would let its author
// add header fields or whole messages, so it is an errc::invalid_argument error instead.
// Content-Length is written by the formatter, never taken from `headers`.

#include <string>
#include <string_view>
#include <vector>

#include "hyphae/core/error.hpp"
#include "hyphae/core/http/http_message.hpp"

namespace hyphae::http {

// "GET /announce?x=1 HTTP/1.1\r\nHost: tracker:8080\r\n<headers>\r\n", then Content-Length and
// the body when `body` is not empty.
result<std::string> format_request(std::string_view method, std::string_view host_header,
                                   std::string_view target, const std::vector<http_header>& headers = {},
                                   std::string_view body = {});

// "HTTP/1.1 200 OK\r\n<headers>Content-Length: N\r\n\r\n<body>". 1xx, 204 and 304 responses carry
// neither a Content-Length nor a body.
result<std::string> format_response(int status, std::string_view reason,
                                    const std::vector<http_header>& headers = {}, std::string_view body = {});

}  // namespace hyphae::http
