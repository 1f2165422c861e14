// Fuzz target: HTTP tracker responses (announce and scrape bodies). Beyond not crashing: the
// bounds hold, and an announce response that parses, written back as bencode, parses to the same
// peers and numbers.

#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_target.hpp"

#include "hyphae/core/bencode_writer.hpp"
#include "hyphae/proto/tracker/announce.hpp"
#include "hyphae/proto/tracker/scrape.hpp"

using namespace hyphae::tracker;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hyphae;
    const byte_view input(data, size);
    announce_limits limits;
    limits.peers_max = 50;
    if (auto announce = parse_announce_response(input, limits)) {
        if (announce->peers.size() > limits.peers_max) {
            std::abort();
        }
        std::string peers;
        std::string peers6;
        for (const endpoint& peer : announce->peers) {
            if (peer.port == 0) {
                std::abort();
            }
            append_compact(peer.address.is_v4() ? peers : peers6, peer);
        }
        bdict again{{"peers", peers}, {"peers6", peers6}};
        if (announce->interval) {
            again["interval"] = bvalue(static_cast<std::int64_t>(announce->interval->count()));
        }
        if (announce->complete) {
            again["complete"] = bvalue(*announce->complete);
        }
        const std::string body = bencode(bvalue(std::move(again)));
        auto back = parse_announce_response(as_bytes(body), limits);
        if (!back || back->peers.size() != announce->peers.size() || back->interval != announce->interval ||
            back->complete != announce->complete) {
            std::abort();
        }
        // IPv4 peers come first, then IPv6, in both.
        for (std::size_t i = 0; i < back->peers.size(); ++i) {
            if (back->peers[i] != announce->peers[i]) {
                std::abort();
            }
        }
    }
    scrape_limits scrape;
    scrape.files_max = 20;
    if (auto files = parse_scrape_response(input, scrape)) {
        if (files->files.size() > scrape.files_max) {
            std::abort();
        }
        for (const scrape_entry& entry : files->files) {
            if (entry.complete < 0 || entry.downloaded < 0 || entry.incomplete < 0) {
                std::abort();
            }
        }
    }
    return 0;
}
