#include "memory_probe.hpp"

#include <cmath>
#include <fstream>
#include <memory>
#include <vector>

#include <malloc.h>
#include <unistd.h>

#include "hyphae/core/rng.hpp"
#include "hyphae/runtime/runtime_clock.hpp"

namespace hyphae::bench {

std::size_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages_total = 0;
    std::size_t pages_resident = 0;
    statm >> pages_total >> pages_resident;
    return pages_resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

namespace {

std::size_t heap_in_use() {
    const struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

// An id that shares exactly `depth` leading bits with `self`.
dht::node_id id_at_depth(const dht::node_id& self, std::size_t depth, rng& random) {
    dht::node_id id = dht::random_node_id(random);
    for (std::size_t bit = 0; bit <= depth && bit < 160; ++bit) {
        const std::size_t byte = bit / 8;
        const auto mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
        const bool self_bit = (self.bytes[byte] & mask) != 0;
        const bool want = bit < depth ? self_bit : !self_bit;
        id.bytes[byte] = static_cast<std::uint8_t>(want ? (id.bytes[byte] | mask) : (id.bytes[byte] & ~mask));
    }
    return id;
}

// The contacts a node of a `network_size` network keeps: for each depth, the nodes there, up to
// the bucket's live slots and its replacement cache.
std::vector<dht::node_contact> contacts_for(const dht::node_id& self, std::size_t network_size,
                                            const dht::routing_table_config& table, rng& random,
                                            std::uint32_t& next_address) {
    std::vector<dht::node_contact> out;
    const std::size_t per_bucket = table.bucket_size + table.replacements_max;
    for (std::size_t depth = 0; depth < 160; ++depth) {
        const double expected =
            static_cast<double>(network_size) / std::pow(2.0, static_cast<double>(depth + 1));
        const auto here = static_cast<std::size_t>(std::llround(expected));
        if (here == 0) {
            break;
        }
        for (std::size_t n = 0; n < std::min(here, per_bucket); ++n) {
            // Public-looking addresses, one per contact (10.0.0.0/8 would be local to BEP 42).
            const std::uint32_t address = 0x0b000000u + next_address++;
            out.push_back({id_at_depth(self, depth, random), endpoint{ip_address::v4(address), 6881}});
        }
    }
    return out;
}

}  // namespace

memory_probe_result probe_memory(std::size_t count, std::size_t network_size, const dht::dht_config& config,
                                 std::uint64_t seed) {
    memory_probe_result r;
    r.nodes = count;
    r.network_size = network_size;
    r.sizeof_node = sizeof(dht::dht_node);
    rng random(seed ^ 0x6d656d6f7279ULL);
    std::uint32_t next_address = 1;

    malloc_trim(0);
    const std::size_t heap_before = heap_in_use();
    const std::size_t rss_before = resident_bytes();
    std::vector<std::unique_ptr<dht::dht_node>> nodes;
    nodes.reserve(count);
    const time_point now = runtime_now();
    for (std::size_t i = 0; i < count; ++i) {
        auto node = std::make_unique<dht::dht_node>(config, seed * 7919 + i, now);
        node->add_contacts(now, contacts_for(node->id(), network_size, config.table, random, next_address));
        nodes.push_back(std::move(node));
    }
    const std::size_t heap_after = heap_in_use();
    const std::size_t rss_after = resident_bytes();

    const auto n = static_cast<double>(count);
    for (const auto& node : nodes) {
        r.table_size += static_cast<double>(node->table().size()) / n;
        r.replacements += static_cast<double>(node->table().replacement_count()) / n;
        r.buckets += static_cast<double>(node->table().bucket_count()) / n;
        r.table_heap_bytes +=
            static_cast<double>(node->table().memory_bytes() - sizeof(dht::routing_table)) / n;
        r.stores_bytes +=
            static_cast<double>(node->peers().memory_bytes() + node->items().memory_bytes()) / n;
    }
    r.accounted_bytes = static_cast<double>(r.sizeof_node) + r.table_heap_bytes + r.stores_bytes;
    // The vector of pointers is the probe's own, not the nodes'.
    const double own = static_cast<double>(nodes.capacity() * sizeof(void*));
    r.malloc_bytes = (static_cast<double>(heap_after - heap_before) - own) / n;
    r.rss_bytes = (static_cast<double>(rss_after) - static_cast<double>(rss_before) - own) / n;
    return r;
}

nlohmann::json to_json(const memory_probe_result& r) {
    return {{"nodes", r.nodes},
            {"network_size", r.network_size},
            {"sizeof_dht_node", r.sizeof_node},
            {"table_size", r.table_size},
            {"replacements", r.replacements},
            {"buckets", r.buckets},
            {"table_heap_bytes", r.table_heap_bytes},
            {"stores_bytes", r.stores_bytes},
            {"accounted_bytes", r.accounted_bytes},
            {"malloc_bytes", r.malloc_bytes},
            {"rss_bytes", r.rss_bytes}};
}

}  // namespace hyphae::bench
