// Fuzz target: the HTTP response parser. Beyond not crashing: the outcome must not depend on how
// the bytes are split (whole, at one point, one byte at a time), and every response parsed must
// format and parse back to the same status, reason and body.

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_target.hpp"

#include "hyphae/core/http/http_format.hpp"
#include "hyphae/core/http/http_response_parser.hpp"

using namespace hyphae::http;

namespace {

using namespace hyphae;

struct outcome {
    std::vector<http_response> responses;
    std::optional<std::string> failure;
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
    http_response_parser parser(small_limits());
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
    while (auto response = parser.poll_response()) {
        out.responses.push_back(std::move(*response));
    }
    return out;
}

bool same(const outcome& a, const outcome& b) {
    if (a.failure != b.failure || a.responses.size() != b.responses.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.responses.size(); ++i) {
        const http_response& x = a.responses[i];
        const http_response& y = b.responses[i];
        if (x.status != y.status || x.reason != y.reason || x.body != y.body ||
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
    for (const http_response& response : whole.responses) {
        if (response.status < 200 || response.status == 204 || response.status == 304) {
            continue;
        }
        std::vector<http_header> headers;
        for (const http_header& field : response.headers) {
            if (!equals_ignoring_case(field.name, "Content-Length") &&
                !equals_ignoring_case(field.name, "Transfer-Encoding") &&
                !equals_ignoring_case(field.name, "Host") &&
                !equals_ignoring_case(field.name, "Connection")) {
                headers.push_back(field);
            }
        }
        auto bytes = format_response(response.status, response.reason, headers, response.body);
        if (!bytes) {
            std::abort();  // what was parsed is always well-formed enough to format
        }
        http_response_parser again;  // default limits: formatting may add a Content-Length field
        if (!again.feed(as_bytes(*bytes))) {
            std::abort();
        }
        auto back = again.poll_response();
        if (!back || back->status != response.status || back->reason != response.reason ||
            back->body != response.body) {
            std::abort();
        }
    }
    return 0;
}
