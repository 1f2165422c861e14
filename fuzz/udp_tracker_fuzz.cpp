// Fuzz target: the UDP tracker response decoder (BEP 15). Beyond not crashing: what decodes
// accounts for every byte of the datagram, and peers stay within their bound.

#include <cstdint>
#include <cstdlib>
#include <variant>

#include "fuzz_target.hpp"

#include "hyphae/proto/tracker/udp_tracker_codec.hpp"

using namespace hyphae::tracker;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hyphae;
    const byte_view input(data, size);
    for (const bool v6 : {false, true}) {
        udp_tracker_limits limits;
        limits.ipv6_peers = v6;
        limits.peers_max = 30;
        auto response = decode_udp_tracker_response(input, limits);
        if (!response) {
            continue;
        }
        if (static_cast<std::uint32_t>(action_of(*response)) !=
            (std::uint32_t{data[0]} << 24 | data[1] << 16 | data[2] << 8 | data[3])) {
            std::abort();
        }
        const std::size_t entry = v6 ? compact_v6_size : compact_v4_size;
        if (const auto* announce = std::get_if<udp_announce_response>(&*response)) {
            if (announce->peers.size() > limits.peers_max || (size - 20) % entry != 0 ||
                announce->peers.size() > (size - 20) / entry) {
                std::abort();
            }
            for (const endpoint& peer : announce->peers) {
                if (peer.port == 0 || peer.address.is_v6() != v6) {
                    std::abort();
                }
            }
        } else if (const auto* scrape = std::get_if<udp_scrape_response>(&*response)) {
            if (scrape->entries.size() * 12 + 8 != size) {
                std::abort();
            }
        } else if (const auto* error = std::get_if<udp_error_response>(&*response)) {
            if (error->message.size() + 8 != size) {
                std::abort();
            }
        } else if (size != 16) {
            std::abort();
        }
    }
    return 0;
}
