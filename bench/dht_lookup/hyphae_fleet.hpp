#pragma once
// Hyphae's side of the DHT benchmark: N nodes in this process, each a host with the DHT service on
// its own UDP socket on 127.0.0.1 (its own host_runtime), all on one Asio event loop that runs on
// one thread of its own.
// The benchmark's main thread talks to them through this class, which posts every call onto the
// loop and waits for it, so the cores are only ever touched by the loop thread. Lookups are
// timed on the loop thread with the runtime's clock, as the core sees time.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <asio.hpp>

#include "hyphae/host/host.hpp"
#include "hyphae/host/host_owner.hpp"
#include "hyphae/proto/dht/dht_node.hpp"
#include "hyphae/runtime/host_runtime.hpp"
#include "hyphae/runtime/runtime_clock.hpp"

namespace hyphae::bench {

// One lookup (get_peers, announce or find_node) of one node, as the loop thread saw it.
struct fleet_lookup {
    bool done = false;                       // lookup_done arrived
    std::optional<dht::lookup_done> result;  // its event
    std::vector<endpoint> peers;             // every peer found, in order
    std::optional<duration> first_peer;      // from the command to the first peers_found
    std::optional<duration> done_after;      // from the command to lookup_done (loop clock)
};

struct fleet_node_memory {
    std::size_t table_bytes = 0;  // routing_table::memory_bytes() (includes sizeof(routing_table))
    std::size_t peer_store_bytes = 0;
    std::size_t item_store_bytes = 0;
    std::size_t table_size = 0;  // live entries, not bad
    std::size_t replacements = 0;
    std::size_t buckets = 0;
    std::size_t torrents = 0;  // info-hashes in its peer store
    std::size_t peers = 0;
};

class hyphae_fleet {
public:
    explicit hyphae_fleet(std::uint64_t seed);
    ~hyphae_fleet();
    hyphae_fleet(const hyphae_fleet&) = delete;
    hyphae_fleet& operator=(const hyphae_fleet&) = delete;

    // Starts `count` nodes on 127.0.0.1 with `config` (bootstrap lists added per node later).
    void start(std::size_t count, const dht::dht_config& config);
    std::size_t size() const { return endpoints_.size(); }
    const endpoint& endpoint_of(std::size_t i) const { return endpoints_.at(i); }
    const dht::node_id& id_of(std::size_t i) const { return ids_.at(i); }

    // Gives node i bootstrap endpoints and contacts (id known: added unconfirmed and pinged), then
    // starts its bootstrap lookup.
    void join(std::size_t i, const std::vector<endpoint>& bootstrap,
              const std::vector<dht::node_contact>& contacts);

    // Starts a lookup on node i; its id for wait(). kind: get_peers, announce (implied port) or
    // find_node. 0 when the node refused (lookups_max).
    dht::lookup_id start_lookup(std::size_t i, dht::lookup_kind kind, const id160& target);
    // Waits for the lookup's lookup_done, until `deadline`; returns what was seen either way and
    // forgets the lookup.
    fleet_lookup wait(std::size_t i, dht::lookup_id id, std::chrono::milliseconds deadline);
    // Ends a lookup that wait() gave up on, so that it no longer takes one of the node's slots.
    void cancel(std::size_t i, dht::lookup_id id);

    // Routing-table sizes (live, not bad), per node.
    std::vector<std::size_t> table_sizes();
    std::vector<fleet_node_memory> memory();
    std::vector<dht::dht_stats> stats();

    // Node i stops answering, as a host that went away without a word: its runtime closes and a
    // plain socket that never reads takes its port, so datagrams to it are dropped silently (no
    // ICMP port unreachable that a sender could notice).
    void silence(std::size_t i);
    bool silenced(std::size_t i) const;

    // Runs `f` on the loop thread and waits for it.
    void run_on_loop(const std::function<void()>& f);

private:
    struct member final : host_owner {
        member(hyphae_fleet& f, std::size_t i) : fleet(f), index(i) {}
        void on_ready(time_point, service_id id) override {
            while (auto e = node().poll_event()) {
                (void)id;
                fleet.on_event(index, *e);
            }
        }
        dht::dht_node& node() { return h.get<dht::dht_node>(dht); }
        // A command to the node, its outputs then carried out.
        template <class F>
        auto call(F&& command) {
            auto out = h.call<dht::dht_node>(runtime_now(), dht, command);
            runtime->pump();
            return out;
        }
        hyphae_fleet& fleet;
        std::size_t index;
        host h;
        service_id dht = 0;
        std::unique_ptr<host_runtime> runtime;
        std::unique_ptr<asio::ip::udp::socket> black_hole;
        std::map<dht::lookup_id, fleet_lookup> lookups;  // guarded by mutex_
        std::map<dht::lookup_id, time_point> started;    // loop thread only
    };
    void on_event(std::size_t i, const dht::dht_event& e);

    std::uint64_t seed_;
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::thread thread_;
    std::vector<std::unique_ptr<member>> members_;
    std::vector<endpoint> endpoints_;
    std::vector<dht::node_id> ids_;
    std::mutex mutex_;
    std::condition_variable changed_;
};

}  // namespace hyphae::bench
