#include "hyphae/core/http/http_format.hpp"

#include <algorithm>

#include "hyphae/core/http/http_syntax.hpp"

namespace hyphae::http {
namespace {

result<void> append_headers(std::string& out, const std::vector<http_header>& headers,
                            std::string_view where) {
    for (const http_header& field : headers) {
        if (!http_syntax::is_token(field.name)) {
            return fail(errc::invalid_argument, std::string(where),
                        "header name '" + field.name + "' is not a token");
        }
        if (!http_syntax::is_field_text(field.value)) {
            return fail(errc::invalid_argument, std::string(where),
                        "control character in the value of '" + field.name + "'");
        }
        if (equals_ignoring_case(field.name, "Content-Length") ||
            equals_ignoring_case(field.name, "Transfer-Encoding") ||
            equals_ignoring_case(field.name, "Host")) {
            return fail(errc::invalid_argument, std::string(where),
                        "'" + field.name + "' is written by the formatter, not taken from the headers");
        }
        out += field.name;
        out += ": ";
        out += http_syntax::trim(field.value);
        out += "\r\n";
    }
    return {};
}

}  // namespace

result<std::string> format_request(std::string_view method, std::string_view host_header,
                                   std::string_view target, const std::vector<http_header>& headers,
                                   std::string_view body) {
    constexpr std::string_view where = "http request";
    if (!http_syntax::is_token(method)) {
        return fail(errc::invalid_argument, std::string(where), "method is not a token");
    }
    if (target.empty() || !std::all_of(target.begin(), target.end(), [](char c) {
            const auto b = static_cast<unsigned char>(c);
            return b > 0x20 && b < 0x7f;
        })) {
        return fail(errc::invalid_argument, std::string(where),
                    "request target is empty or has a character outside visible ASCII");
    }
    if (host_header.empty() || !http_syntax::is_field_text(host_header) ||
        host_header.find_first_of(" \t") != std::string_view::npos) {
        return fail(errc::invalid_argument, std::string(where),
                    "host is empty or has whitespace or a control character");
    }
    std::string out;
    out.reserve(64 + target.size() + body.size());
    out += method;
    out += ' ';
    out += target;
    out += " HTTP/1.1\r\nHost: ";
    out += host_header;
    out += "\r\n";
    if (auto written = append_headers(out, headers, where); !written) {
        return tl::unexpected(written.error());
    }
    if (!body.empty()) {
        out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    out += "\r\n";
    out += body;
    return out;
}

result<std::string> format_response(int status, std::string_view reason,
                                    const std::vector<http_header>& headers, std::string_view body) {
    constexpr std::string_view where = "http response";
    if (status < 100 || status > 999) {
        return fail(errc::invalid_argument, std::string(where),
                    "status " + std::to_string(status) + " is not three digits");
    }
    if (!http_syntax::is_field_text(reason)) {
        return fail(errc::invalid_argument, std::string(where), "control character in the reason phrase");
    }
    const bool bodiless = status < 200 || status == 204 || status == 304;
    if (bodiless && !body.empty()) {
        return fail(errc::invalid_argument, std::string(where),
                    "a " + std::to_string(status) + " response cannot carry a body");
    }
    std::string out;
    out.reserve(64 + body.size());
    out += "HTTP/1.1 " + std::to_string(status) + " ";
    out += reason;
    out += "\r\n";
    if (auto written = append_headers(out, headers, where); !written) {
        return tl::unexpected(written.error());
    }
    if (!bodiless) {
        out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    out += "\r\n";
    out += body;
    return out;
}

}  // namespace hyphae::http
