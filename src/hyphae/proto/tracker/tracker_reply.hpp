#pragma once
// The tracker's HTTP answers, bencoded (BEP 3, 7, 23, 48). Keys are written in sorted order, as
// bencode requires.
//
// format_announce_reply(): 'complete', 'downloaded', 'incomplete', 'interval', 'min interval',
// then the peers. Compact (BEP 23): IPv4 peers in 'peers' (6 bytes each), IPv6 peers in 'peers6'
// (18 bytes each, BEP 7). Not compact: one 'peers' list of {ip, port} dictionaries with textual
// addresses; 'peer id' is left out (the tracker does not keep peer ids), as BEP 23's no_peer_id
// has it.
// format_failure_reply(): a dictionary holding only 'failure reason'.
// format_scrape_reply(): 'files', keyed by the raw info-hash, each {complete, downloaded,
// incomplete}; the hashes must be given in ascending order without repeats.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "hyphae/core/endpoint.hpp"
#include "hyphae/proto/tracker/scrape.hpp"

namespace hyphae::tracker {

struct announce_reply {
    std::chrono::seconds interval{1800};
    std::chrono::seconds min_interval{900};
    std::int64_t complete = 0;    // seeders
    std::int64_t incomplete = 0;  // leechers
    std::int64_t downloaded = 0;  // completed downloads
    std::span<const endpoint> peers;
    bool compact = true;
};

std::string format_announce_reply(const announce_reply& reply);
std::string format_failure_reply(std::string_view reason);
std::string format_scrape_reply(std::span<const scrape_entry> files);

}  // namespace hyphae::tracker
