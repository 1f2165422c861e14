#pragma once
// The demo network: a Hyphae seeder and several Hyphae leechers in this process, each a session
// on its own host and runtime thread, exchanging a torrent over real TCP on 127.0.0.1. They meet
// through the torrent's trackers, or else each is given every other's address.

#include <cstdint>
#include <functional>
#include <string>

#include "hyphae/core/error.hpp"

namespace hyphae::cli {

struct demo_network_options {
    std::string torrent;      // the .torrent to share
    std::string seed_folder;  // holds <name>
    std::string work_folder;  // leechers save under <work>/leecher-N
    int leechers = 4;
    std::int64_t seed_upload_rate = 0;   // bytes/s, 0: unlimited
    bool through_trackers = false;       // peers meet through the torrent's trackers, not by address
    bool dht = false;                    // every node runs a DHT node too, joined through the seeder's
    std::function<void()> all_complete;  // called once every leecher is done, before they stop
};

struct demo_network_summary {
    double seconds = 0;
    std::int64_t size = 0;
    std::int64_t seed_uploaded = 0;
    std::int64_t leechers_uploaded = 0;  // to each other
    bool all_verified = false;
    std::size_t dht_peers = 0;  // peers the leechers' DHT lookups found, summed
};

result<demo_network_summary> run_demo_network(const demo_network_options& options);

}  // namespace hyphae::cli
