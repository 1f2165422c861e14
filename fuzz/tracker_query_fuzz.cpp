// Fuzz target: the tracker's reading of HTTP announce and scrape queries. Beyond not crashing:
// what parses keeps its promises (a port in 1..65535, 20-byte ids, non-negative counters, values
// and hash counts within the limits), and an announce read back from announce_url() gives the
// same fields.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz_target.hpp"

#include "hyphae/proto/tracker/announce_query.hpp"

using namespace hyphae::tracker;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hyphae;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    query_limits limits;
    limits.parameters_max = 16;
    limits.value_length_max = 64;
    limits.scrape_hashes_max = 5;
    const request_target target = split_target(input);
    if (target.path.size() + target.query.size() > input.size()) {
        std::abort();
    }
    if (auto q = parse_announce_query(input, limits)) {
        if (q->port == 0 || q->uploaded < 0 || q->downloaded < 0 || (q->left && *q->left < 0) ||
            q->key.size() > limits.value_length_max) {
            std::abort();
        }
        announce_request r;
        r.info_hash = q->info_hash;
        r.peer_id = q->peer_id;
        r.port = q->port;
        r.uploaded = q->uploaded;
        r.downloaded = q->downloaded;
        r.left = q->left.value_or(0);
        r.event = q->event;
        r.numwant = q->numwant.value_or(-1);
        const std::string url = announce_url("http://t/announce", r);
        auto again = parse_announce_query(split_target(url).query);
        if (!again || again->info_hash != q->info_hash || again->peer_id != q->peer_id ||
            again->port != q->port || again->uploaded != q->uploaded || again->downloaded != q->downloaded ||
            again->event != q->event) {
            std::abort();
        }
    } else if (q.error().message().empty()) {
        std::abort();
    }
    if (auto hashes = parse_scrape_query(input, limits)) {
        if (hashes->size() > limits.scrape_hashes_max) {
            std::abort();
        }
    }
    return 0;
}
