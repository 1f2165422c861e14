#pragma once
// Runs a scenario: N unchanged dht_node cores (and the scenario's adversaries) over the simulated
// network (network.hpp) in virtual time, one event queue, deterministic for a seed.
//
// Every node is a host of the network with one service: an honest node's is a dht_node, an
// adversary's an adversary_service. The network carries their datagrams (per-pair latency from
// the latency model, independent loss, a per-node upload cap that queues datagrams, NATs that
// drop unsolicited datagrams) and wakes them; the simulation only decides who is up, starts the
// workload's lookups (network::call) and reads their lookup_done events (the ready handler).
// Churn takes hosts down without a word (their routing table saved, as the runtime's --state
// does) and brings them back with the same id and that table.
//
// Phases: the constructor builds the population (ids, addresses, places, adversaries) and, for a
// warm start, fills every table with contacts a stabilised network would hold; run() then drives
// events until the workload's last lookup has had its drain time.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "hyphae/core/rng.hpp"
#include "hyphae/proto/dht/dht_node.hpp"
#include "hyphae/sim/adversary.hpp"
#include "hyphae/sim/churn_model.hpp"
#include "hyphae/sim/latency_model.hpp"
#include "hyphae/sim/network.hpp"
#include "hyphae/sim/scenario.hpp"

namespace hyphae::sim {

// One lookup of the workload, as the CSV shows it.
struct lookup_record {
    std::uint32_t node = 0;
    dht::node_id target;
    time_point started{};
    duration latency{};  // to lookup_done
    std::uint16_t hops = 0;
    std::uint16_t queries = 0;
    std::uint16_t responses = 0;
    std::uint16_t timeouts = 0;
    std::uint8_t k_found = 0;    // of the k closest live honest reachable nodes, how many it returned
    bool found_closest = false;  // returned the closest of them: the node responsible for the target
    bool started_ok = false;     // an origin node was up and took the command
    bool done = false;
};

// The network's counters (network_counters) and the scenario's own.
struct sim_counters {
    std::uint64_t events = 0;
    std::uint64_t datagrams = 0;
    std::uint64_t bytes_honest = 0;  // sent by honest nodes
    std::uint64_t bytes_adversary = 0;
    std::uint64_t delivered = 0;
    std::uint64_t lost = 0;          // the loss model
    std::uint64_t to_down_node = 0;  // the node had left
    std::uint64_t nat_dropped = 0;   // unsolicited, to a NAT-ed node
    std::uint64_t unknown_address = 0;
    std::uint64_t leaves = 0;
    std::uint64_t returns = 0;
    std::uint64_t joins = 0;
    std::uint64_t maintenance_lookups = 0;  // bootstrap and refresh lookups the cores ran
    double honest_up_seconds = 0;           // summed over honest nodes: the denominator of bandwidth
};

// The routing tables at the end of the run, over a sample of up honest nodes.
struct table_health {
    std::uint32_t sampled = 0;
    double entries_mean = 0;  // live entries
    double buckets_mean = 0;
    double replacements_mean = 0;
    double live_fraction = 0;       // entries whose node is up
    double adversary_fraction = 0;  // entries that are adversaries
    double table_bytes_mean = 0;    // routing_table::memory_bytes
    double node_bytes_mean = 0;     // sizeof(dht_node) + table bytes
};

struct progress_report {
    std::string_view phase;  // "building", "running"
    std::uint64_t done = 0;  // building: nodes built; running: events
    std::uint64_t total = 0;
    time_point now{};
    time_point end{};
    std::uint32_t lookups_done = 0;
    std::uint32_t lookups_total = 0;
};

class dht_simulation {
public:
    using progress_callback = std::function<void(const progress_report&)>;

    dht_simulation(const scenario& s, std::uint64_t seed, progress_callback progress = {});
    ~dht_simulation();
    dht_simulation(const dht_simulation&) = delete;
    dht_simulation& operator=(const dht_simulation&) = delete;

    void run();

    const scenario& config() const { return scenario_; }
    std::uint64_t seed() const { return seed_; }
    const std::vector<lookup_record>& lookups() const { return records_; }
    // The network's counters with the scenario's own; bytes_* summed over the hosts.
    sim_counters counters() const;
    std::uint32_t honest_nodes() const { return static_cast<std::uint32_t>(honest_.size()); }
    std::uint32_t adversary_nodes() const { return adversary_count_; }
    std::uint32_t nat_nodes() const { return nat_count_; }
    time_point end_time() const { return end_; }
    table_health tables() const;

    // The network the nodes live on: host i is node i.
    const network& net() const { return net_; }

private:
    struct sim_node;

    void build_population();
    void warm_fill(std::uint32_t i, dht::dht_node& self);
    void start_node(std::uint32_t i, time_point now, bool cold);
    void stop_node(std::uint32_t i, time_point now);
    dht::dht_config config_for(std::uint32_t i) const;
    dht::dht_node& dht_of(std::uint32_t i) const;

    void on_user(const event& e);
    void on_ready(std::uint32_t i, service_id id);
    void churn(const event& e);
    void start_lookup(const event& e);

    void note_done(std::uint32_t i, const dht::lookup_done& done);
    // Indexes into by_id_ of the ids sharing the first `bits` bits with `id`: [first, last).
    std::pair<std::size_t, std::size_t> id_range(const dht::node_id& id, std::size_t bits) const;
    // The k live honest reachable nodes closest to target, nearest first.
    std::vector<std::uint32_t> true_closest(const dht::node_id& target, std::size_t k) const;
    bool reachable_honest(std::uint32_t i) const;

    endpoint endpoint_of(std::uint32_t i) const { return net_.address_of(i); }
    std::optional<std::uint32_t> index_of(const endpoint& ep) const { return net_.host_at(ep); }

    scenario scenario_;
    std::uint64_t seed_;
    progress_callback progress_;
    rng build_rng_;
    latency_model latency_;
    adversary_directory directory_;  // before net_: its adversaries read it to the end
    // Its generator (random()) draws loss and jitter and the scenario's choices. Mutable: tables()
    // reads the nodes through at().
    mutable network net_;
    std::optional<lifetime_distribution> session_;
    std::optional<lifetime_distribution> downtime_;
    std::vector<sim_node> nodes_;
    std::vector<std::pair<dht::node_id, std::uint32_t>> by_id_;  // every node, sorted by id
    std::vector<std::uint32_t> honest_;
    std::vector<std::uint32_t> joiners_;
    std::vector<bool> present_;       // while building: who warm tables may hold
    std::vector<node_place> places_;  // while building: the hosts' places
    std::vector<endpoint> bootstrap_;
    std::uint32_t adversary_count_ = 0;
    std::uint32_t nat_count_ = 0;
    dht::dht_config base_config_;
    dht::node_id attack_target_;
    std::vector<lookup_record> records_;
    std::unordered_map<std::uint64_t, std::uint32_t> record_of_;  // (node << 32 | lookup id) -> record
    std::uint64_t leaves_ = 0;
    std::uint64_t returns_ = 0;
    std::uint64_t joins_ = 0;
    std::uint64_t maintenance_lookups_ = 0;
    double honest_up_seconds_ = 0;
    time_point end_{};
    std::uint32_t lookups_done_ = 0;
};

}  // namespace hyphae::sim
