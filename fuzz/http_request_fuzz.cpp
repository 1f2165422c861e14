// Fuzz target: the HTTP request parser. Beyond not crashing: the outcome must not depend on how
// the bytes are split (whole, at one point, one byte at a time), and every request parsed must
// format and parse back to the same method, target, host and body.

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_target.hpp"

#include "hyphae/core/http/http_format.hpp"
#include "hyphae/core/http/http_request_parser.hpp"

using namespace hyphae::http;

namespace {

using namespace hyphae;

struct outcome {
    std::vector<http_request> requests;
    std::optional<std::string> failure;
    bool keep_alive = true;
};

http_limits small_limits() {
    http_limits limits;
    limits.line_length_max = 256;
    limits.header_count_max = 16;
    limits.header_bytes_max = 2048;
    limits.body_size_max = 4096;
    limits.messages_queued_max = 8;
    return limits;
}

outcome run(std::string_view input, std::size_t step) {
    http_request_parser parser(small_limits());
    outcome out;
    for (std::size_t at = 0; at < input.size() && !out.failure; at += step) {
        if (auto fed = parser.feed(as_bytes(input.substr(at, step))); !fed) {
            out.failure = fed.error().message();
        }
    }
    if (!out.failure) {
        if (auto done = parser.finish(); !done) {
            out.failure = done.error().message();
        }
    }
    while (auto request = parser.poll_request()) {
        out.requests.push_back(std::move(*request));
    }
    out.keep_alive = parser.keep_alive();
    return out;
}

bool same(const outcome& a, const outcome& b) {
    if (a.failure != b.failure || a.requests.size() != b.requests.size() || a.keep_alive != b.keep_alive) {
        return false;
    }
    for (std::size_t i = 0; i < a.requests.size(); ++i) {
        const http_request& x = a.requests[i];
        const http_request& y = b.requests[i];
        if (x.method != y.method || x.target != y.target || x.version != y.version || x.body != y.body ||
            x.keep_alive != y.keep_alive || x.headers.fields() != y.headers.fields()) {
            return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::size_t split = data[0];
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    const outcome whole = run(input, input.size() + 1);
    if (!same(whole, run(input, split + 1))) {
        std::abort();
    }
    if (input.size() <= 1024 && !same(whole, run(input, 1))) {
        std::abort();
    }
    for (const http_request& request : whole.requests) {
        const auto host = request.headers.find("Host");
        if (!host || host->empty() || host->find_first_of(" \t") != std::string_view::npos) {
            continue;
        }
        std::vector<http_header> headers;
        for (const http_header& field : request.headers) {
            if (!equals_ignoring_case(field.name, "Content-Length") &&
                !equals_ignoring_case(field.name, "Host")) {
                headers.push_back(field);
            }
        }
        auto bytes = format_request(request.method, *host, request.target, headers, request.body);
        if (!bytes) {
            std::abort();  // what was parsed is always well-formed enough to format
        }
        http_request_parser again;  // default limits: formatting may add a Content-Length field
        if (!again.feed(as_bytes(*bytes))) {
            std::abort();
        }
        auto back = again.poll_request();
        if (!back || back->method != request.method || back->target != request.target ||
            back->headers.find("Host") != host || back->body != request.body) {
            std::abort();
        }
    }
    return 0;
}
