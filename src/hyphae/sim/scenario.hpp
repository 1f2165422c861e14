#pragma once
// A simulation scenario: the network, its churn and adversaries, the defences the DHT nodes run
// with, and the lookups to measure. Read from TOML (scenarios/*.toml); every field has a default,
// so a scenario names only what it changes. Unknown keys are errors: a misspelt key must not
// silently run another experiment than the one asked for.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hyphae/core/error.hpp"
#include "hyphae/core/time.hpp"
#include "hyphae/sim/adversary.hpp"
#include "hyphae/sim/churn_model.hpp"
#include "hyphae/sim/latency_model.hpp"

namespace hyphae::sim {

enum class start_mode : std::uint8_t {
    warm,       // tables filled as a stabilised network would hold them (notes/dht.md §6.4)
    bootstrap,  // every node joins through the bootstrap nodes, spread over join_window
};

struct network_config {
    std::uint32_t nodes = 1000;  // honest and adversarial together
    start_mode start = start_mode::warm;
    duration join_window = std::chrono::seconds(60);  // bootstrap start
    std::uint32_t bootstrap_nodes = 1;                // honest nodes new and returning nodes ask
    std::uint32_t joiners =
        0;  // warm start: honest nodes that join cold, through bootstrap, over join_window
    latency_config latency{};
    double loss = 0.0;                                // each datagram independently
    double upload_kbps = 0;                           // per node; 0: unlimited
    double nat_fraction = 0.0;                        // nodes that cannot be reached unsolicited
    duration nat_timeout = std::chrono::seconds(60);  // a pinhole lives this long after our last datagram
};

struct churn_config {
    bool enabled = false;
    lifetime_config session{};
    lifetime_config downtime{};
};

struct attack_config {
    adversary_kind kind = adversary_kind::none;
    double fraction = 0.0;       // of `nodes`
    int sybil_shared_bits = 0;   // > 0: colluders' ids share this many leading bits with target_id
    std::string target;          // hex node id the Sybils cluster around and lookups aim at; empty: random
    bool in_warm_tables = true;  // false: they arrive after the network settled and must push their way in
};

struct defence_config {
    std::size_t disjoint_paths = 1;  // S/Kademlia d
    bool check_answers = false;      // returned nodes must be closer than the one that answered
    bool bep42_checks = false;       // refuse ids that do not fit their address
    bool prefer_long_lived = true;   // good old contacts are never evicted for newcomers
};

struct dht_shape {
    std::size_t k = 8;
    std::size_t alpha = 3;
    std::size_t replacements = 8;  // per bucket
};

struct workload_config {
    std::uint32_t lookups = 1000;
    duration warmup = std::chrono::seconds(60);  // virtual time before the first lookup
    duration window = std::chrono::seconds(60);  // lookups start evenly spread over it
    duration drain = std::chrono::seconds(60);   // after the window, for the last lookups to end
    bool same_target = false;                    // every lookup aims at adversaries.target
    bool from_joiners = false;                   // lookups start at network.joiners only
};

// A swarm scenario ([swarm] table): seeders and leechers of one torrent, running the BitTorrent
// service on hosts over the network model, with in-memory storage. Leechers arrive evenly over
// join_window (a flash crowd when it is short) and get peers as from a tracker: up to
// peers_per_announce of those present, at arrival and every reannounce until complete.
struct swarm_config {
    bool enabled = false;  // the scenario has a [swarm] table (else it is a DHT scenario)
    std::uint32_t seeders = 1;
    std::uint32_t leechers = 50;
    std::uint64_t size = 16 << 20;            // bytes
    std::uint32_t piece_length = 256 * 1024;  // bytes, a power of two
    duration join_window = std::chrono::seconds(10);
    double seed_upload_kbps = 10000;  // access links; 0: unlimited
    double peer_upload_kbps = 2000;
    double peer_download_kbps = 10000;
    std::uint32_t peers_per_announce = 50;
    duration reannounce = std::chrono::minutes(5);
    std::uint32_t connections_max = 50;           // per torrent
    bool leave_when_done = false;                 // a leecher that completes leaves at once (else it seeds)
    duration time_limit = std::chrono::hours(2);  // virtual time; leechers not done by then are counted
};

struct scenario {
    std::string name;
    std::string description;
    network_config network;
    churn_config churn;
    attack_config adversaries;
    defence_config defences;
    dht_shape dht;
    workload_config workload;
    swarm_config swarm;
};

// TOML text to a scenario. `overrides` are "table.key=value" pairs (value in TOML syntax) applied
// over the file, as `hyphae sim --set` passes them. `where` names the source in errors.
result<scenario> parse_scenario(std::string_view toml_text, const std::vector<std::string>& overrides,
                                std::string_view where);

}  // namespace hyphae::sim
