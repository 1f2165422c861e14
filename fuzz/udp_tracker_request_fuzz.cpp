// Fuzz target: the tracker's decoding of BEP 15 requests. Beyond not crashing: a header needs 16
// bytes, an announce 98 and an event of 0..3, a scrape 16 + 20 n bytes with 1 <= n <= the bound;
// and an announce re-encoded by the client's encoder gives back the same 98 bytes (when its 'ip'
// field is 0 and its counters are below 2^63, the two things the decoder normalises).

#include <cstdint>
#include <cstdlib>

#include "fuzz_target.hpp"

#include "hyphae/proto/tracker/udp_tracker_codec.hpp"

using namespace hyphae::tracker;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hyphae;
    const byte_view input(data, size);
    const auto header = read_udp_request_header(input);
    if (header.has_value() != (size >= 16)) {
        std::abort();
    }
    if (auto fields = decode_udp_announce_request(input)) {
        if (size < udp_announce_request_size || static_cast<std::uint32_t>(fields->request.event) > 3) {
            std::abort();
        }
        const announce_request& r = fields->request;
        const bool plain = fields->ip == 0 && r.uploaded < INT64_MAX && r.downloaded < INT64_MAX &&
                           r.left < INT64_MAX && r.numwant >= -1;
        if (plain) {
            // The decoder does not look at the action word: the encoder writes 1 there.
            byte_buffer expected(input.begin(), input.begin() + udp_announce_request_size);
            expected[8] = expected[9] = expected[10] = 0;
            expected[11] = 1;
            if (encode_udp_announce(header->connection_id, header->transaction_id, r) != expected) {
                std::abort();
            }
        }
    }
    if (auto hashes = decode_udp_scrape_request(input, 10)) {
        if (hashes->empty() || hashes->size() > 10 || size != 16 + 20 * hashes->size()) {
            std::abort();
        }
    }
    return 0;
}
