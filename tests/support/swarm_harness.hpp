#pragma once
// A small swarm of torrent cores on a virtual clock, for tests: connections with latency,
// in-memory storage that runs disk jobs, and a bounded drive loop that fails instead of hanging.
// Deterministic: the same seed and calls give the same run.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "hyphae/core/rng.hpp"
#include "hyphae/proto/bittorrent/torrent.hpp"

namespace hyphae::test {

// The bytes of one torrent, held in memory; runs the core's disk jobs against them.
class memory_storage {
public:
    memory_storage(const bittorrent::metainfo& meta, std::string content)
        : meta_(meta), content_(std::move(content)) {}
    // Runs one job; `corrupt_piece` returns wrong data for reads of that piece (a bad seeder).
    disk_result run(const disk_job& job);
    const std::string& content() const { return content_; }
    std::optional<bittorrent::piece_index> corrupt_piece;
    bool corrupt_all = false;  // every read is wrong

private:
    bittorrent::metainfo meta_;
    std::string content_;
};

struct node_options {
    duration disk_latency = std::chrono::microseconds(100);
    double upload_bytes_per_second = 0;  // 0: unlimited; sends queue behind each other
};

class swarm_harness {
public:
    explicit swarm_harness(std::uint64_t seed, duration latency = std::chrono::milliseconds(5))
        : rng_(seed), latency_(latency) {}

    // Adds a node listening at `address`; returns its index.
    std::size_t add(std::unique_ptr<bittorrent::torrent> core, std::unique_ptr<memory_storage> storage,
                    endpoint address, node_options options = {});
    bittorrent::torrent& core(std::size_t node) { return *nodes_[node].core; }
    memory_storage& storage(std::size_t node) { return *nodes_[node].storage; }
    time_point now() const { return now_; }
    const std::vector<bittorrent::torrent_event>& events(std::size_t node) const {
        return nodes_[node].events;
    }

    // Runs until `done` holds or virtual time passes `deadline` (then returns false).
    bool run_until(const std::function<bool()>& done, duration deadline);
    // Closes a node's connections as a crash would: peers see the sockets close.
    void disconnect(std::size_t node);

private:
    struct member {
        std::unique_ptr<bittorrent::torrent> core;
        std::unique_ptr<memory_storage> storage;
        endpoint address;
        node_options options;
        std::vector<bittorrent::torrent_event> events;
        time_point upload_free_at{};
    };
    struct link_end {
        std::size_t node;
        bittorrent::connection_id conn;
    };
    struct scheduled {
        time_point at;
        std::uint64_t order;
        std::function<void()> action;
        bool operator>(const scheduled& other) const {
            return at != other.at ? at > other.at : order > other.order;
        }
    };

    void schedule(duration after, std::function<void()> action);
    void drain(std::size_t node);
    std::optional<link_end> peer_of(std::size_t node, bittorrent::connection_id conn) const;

    rng rng_;
    duration latency_;
    time_point now_{};
    std::uint64_t order_ = 0;
    std::vector<member> nodes_;
    std::map<std::pair<std::size_t, bittorrent::connection_id>, link_end> links_;
    std::priority_queue<scheduled, std::vector<scheduled>, std::greater<>> queue_;
};

}  // namespace hyphae::test
