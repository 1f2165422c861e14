#pragma once
// Memory of a Hyphae DHT node whose routing table is full as it would be in a large network: many
// dht_nodes built in this process without sockets, each told (add_contacts, the entry point a
// saved table uses) of the contacts a node of a `network_size` network would keep: for every
// bucket depth i, as many nodes sharing exactly i bits with it as such a network holds
// (network_size / 2^(i+1)), up to the bucket's live slots and replacement cache. Measured three
// ways: the core's own accounting (sizeof(dht_node) plus the heap its table and stores report),
// the heap glibc has handed out (mallinfo2), and the process's resident memory, each divided by
// the number of nodes.

#include <cstddef>

#include <nlohmann/json.hpp>

#include "hyphae/proto/dht/dht_node.hpp"

namespace hyphae::bench {

struct memory_probe_result {
    std::size_t nodes = 0;
    std::size_t network_size = 0;
    std::size_t sizeof_node = 0;  // sizeof(dht_node), which holds the routing_table object
    double table_size = 0;        // live entries per node (mean)
    double replacements = 0;      // replacement-cache entries per node (mean)
    double buckets = 0;           // per node (mean)
    double table_heap_bytes = 0;  // routing_table::memory_bytes() - sizeof(routing_table) (mean)
    double stores_bytes = 0;      // peer_store + item_store memory_bytes() (mean; empty stores)
    double accounted_bytes = 0;   // sizeof(dht_node) + table_heap_bytes + stores_bytes
    double malloc_bytes = 0;      // mallinfo2 in-use heap delta / nodes (incl. malloc headers)
    double rss_bytes = 0;         // VmRSS delta / nodes
};

memory_probe_result probe_memory(std::size_t nodes, std::size_t network_size, const dht::dht_config& config,
                                 std::uint64_t seed);
nlohmann::json to_json(const memory_probe_result& r);

// This process's resident set, bytes.
std::size_t resident_bytes();

}  // namespace hyphae::bench
