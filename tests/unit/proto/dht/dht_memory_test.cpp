// The memory of a dht_node, for a simulator that holds 10^6 of them (budget ~16 KB each): heap
// bytes of a fresh node and of a joined, idle one, by the allocator's own count.

#include <cstdio>

#include "../../sim/dht_hosts.hpp"
#include <gtest/gtest.h>

#if defined(__SANITIZE_ADDRESS__)
// From ASan's runtime (sanitizer/allocator_interface.h, which g++ does not install).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#else
#include <malloc.h>
#endif

namespace hyphae::dht {
namespace {

std::size_t heap_bytes() {
#if defined(__SANITIZE_ADDRESS__)
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;  // includes malloc's per-chunk overhead
#endif
}

TEST(dht_memory, a_fresh_node_allocates_almost_nothing) {
    const time_point t0{std::chrono::hours(1)};
    dht_config config;
    const std::size_t before = heap_bytes();
    auto node = std::make_unique<dht_node>(config, 1, t0);
    const std::size_t heap = heap_bytes() - before - sizeof(dht_node);
    std::printf("dht_node: sizeof %zu bytes, fresh heap %zu bytes beyond the object\n", sizeof(dht_node),
                heap);
    EXPECT_LE(sizeof(dht_node), 2048u);
    EXPECT_LE(heap, 512u);
}

TEST(dht_memory, a_joined_idle_node_stays_under_16_kib) {
    const std::size_t n = 60;
    const std::size_t before = heap_bytes();
    std::size_t per_node = 0;
    std::size_t table_bytes = 0;
    {
        test::dht_hosts net;
        test::make_network(net, n);
        net.run_for(std::chrono::minutes(10));  // idle: maintenance only
        net.events().clear();
        net.events().shrink_to_fit();
        per_node = (heap_bytes() - before) / n;  // the hosts' and the network's share included
        for (std::size_t i = 0; i < n; ++i) {
            table_bytes += net.node(i).table().memory_bytes();
        }
        table_bytes /= n;
    }
    std::printf("dht_node: joined and idle in a network of %zu: %zu bytes a node (routing table %zu)\n", n,
                per_node, table_bytes);
    EXPECT_LE(per_node, 16u * 1024u);
}

}  // namespace
}  // namespace hyphae::dht
