#include "hyphae/proto/tracker/swarm_table.hpp"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

namespace hyphae::tracker {
namespace {

constexpr std::uint32_t ttl = 3600;
constexpr std::uint32_t t0 = 1u << 24;

sha1_hash swarm_id(std::uint32_t n) {
    sha1_hash h;
    h.bytes[0] = static_cast<std::uint8_t>(n >> 24);
    h.bytes[1] = static_cast<std::uint8_t>(n >> 16);
    h.bytes[2] = static_cast<std::uint8_t>(n >> 8);
    h.bytes[3] = static_cast<std::uint8_t>(n);
    return h;
}

peer_announce peer(std::uint32_t swarm, std::uint32_t n, bool seeder = false) {
    peer_announce a;
    a.info_hash = swarm_id(swarm);
    a.peer_id.bytes[19] = static_cast<std::uint8_t>(n);
    a.peer_id.bytes[18] = static_cast<std::uint8_t>(n >> 8);
    a.peer_id.bytes[17] = static_cast<std::uint8_t>(n >> 16);
    a.address = endpoint{ip_address::v4(0x0a000000u + n), static_cast<std::uint16_t>(6881 + n % 100)};
    a.seeder = seeder;
    return a;
}

struct table_fixture : ::testing::Test {
    rng random{7};
    keyed_hash hash{random};
    swarm_limits limits;
    std::unique_ptr<swarm_table> table = std::make_unique<swarm_table>(limits, hash);

    void remake() { table = std::make_unique<swarm_table>(limits, hash); }
    announce_outcome go(std::uint32_t now, const peer_announce& a) {
        return table->announce(now, a, ttl, random);
    }
    std::set<endpoint> peers_of(const announce_outcome& o) { return {o.peers.begin(), o.peers.end()}; }
};

TEST_F(table_fixture, answers_with_the_other_peers_and_counts) {
    EXPECT_EQ(go(t0, peer(1, 1)).peers.size(), 0u);
    go(t0, peer(1, 2));
    const auto o = go(t0, peer(1, 3, true));
    EXPECT_EQ(o.counts, (swarm_counts{1, 2, 0}));
    EXPECT_EQ(peers_of(o), (std::set<endpoint>{peer(1, 1).address, peer(1, 2).address}));
    // A leecher gets everyone else, seeders included, never itself.
    const auto l = go(t0, peer(1, 1));
    EXPECT_EQ(peers_of(l), (std::set<endpoint>{peer(1, 2).address, peer(1, 3).address}));
    EXPECT_EQ(table->swarms(), 1u);
    EXPECT_EQ(table->peers(), 3u);
    EXPECT_EQ(table->seeders(), 1u);
}

TEST_F(table_fixture, a_seeder_gets_leechers_only) {
    for (std::uint32_t i = 0; i < 10; ++i) {
        go(t0, peer(1, i, i < 7));
    }
    const auto o = go(t0, peer(1, 0, true));
    EXPECT_EQ(o.peers.size(), 3u);
    for (const endpoint& ep : o.peers) {
        EXPECT_GE(ep.address.v4_host_order() - 0x0a000000u, 7u);
    }
}

TEST_F(table_fixture, a_peer_is_its_address_port_and_peer_id) {
    go(t0, peer(1, 1));
    peer_announce same_nat = peer(1, 1);
    same_nat.peer_id.bytes[0] = 9;  // another client behind the same address and port
    go(t0, same_nat);
    EXPECT_EQ(table->peers(), 2u);
    peer_announce other_port = peer(1, 1);
    other_port.address.port = 1;
    go(t0, other_port);
    EXPECT_EQ(table->peers(), 3u);
    go(t0, peer(1, 1));  // a refresh
    EXPECT_EQ(table->peers(), 3u);
    go(t0, peer(2, 1));  // another swarm
    EXPECT_EQ(table->peers(), 4u);
}

TEST_F(table_fixture, becomes_a_seeder_counts_completed_once_and_leaves_when_stopped) {
    go(t0, peer(1, 1));
    go(t0, peer(1, 2));
    peer_announce done = peer(1, 1, true);
    done.event = announce_event::completed;
    EXPECT_EQ(go(t0, done).counts, (swarm_counts{1, 1, 1}));
    EXPECT_EQ(go(t0, done).counts, (swarm_counts{1, 1, 1}));  // repeated: counted once
    EXPECT_EQ(table->completed_total(), 1u);
    EXPECT_EQ(table->seeders(), 1u);
    peer_announce back = peer(1, 1, false);  // e.g. a file deleted: leecher again
    EXPECT_EQ(go(t0, back).counts, (swarm_counts{0, 2, 1}));
    peer_announce stop = peer(1, 2);
    stop.event = announce_event::stopped;
    const auto o = go(t0, stop);
    EXPECT_EQ(o.counts, (swarm_counts{0, 1, 1}));
    EXPECT_TRUE(o.peers.empty());
    EXPECT_EQ(table->peers(), 1u);
    // Stopping in an unknown swarm creates nothing.
    stop.info_hash = swarm_id(99);
    EXPECT_EQ(go(t0, stop).counts, swarm_counts{});
    EXPECT_EQ(table->swarms(), 1u);
}

TEST_F(table_fixture, honours_numwant_with_a_random_selection) {
    for (std::uint32_t i = 0; i < 300; ++i) {
        go(t0, peer(1, i));
    }
    std::vector<int> picked(300, 0);
    for (int round = 0; round < 3000; ++round) {
        peer_announce a = peer(1, 0);
        a.numwant = 30;
        const auto o = go(t0, a);
        ASSERT_EQ(o.peers.size(), 30u);
        ASSERT_EQ(peers_of(o).size(), 30u);
        for (const endpoint& ep : o.peers) {
            ++picked[ep.address.v4_host_order() - 0x0a000000u];
        }
    }
    EXPECT_EQ(picked[0], 0);
    const double expected = 3000.0 * 30 / 299;
    for (std::uint32_t i = 1; i < 300; ++i) {
        EXPECT_NEAR(picked[i], expected, expected * 0.35) << i;
    }
    peer_announce none = peer(1, 0);
    none.numwant = 0;
    EXPECT_TRUE(go(t0, none).peers.empty());
}

TEST_F(table_fixture, keeps_ipv4_and_ipv6_apart_unless_asked_for_both) {
    go(t0, peer(1, 1));
    peer_announce v6 = peer(1, 2);
    v6.address = *endpoint::parse("[2001:db8::2]:6881");
    const auto only6 = go(t0, v6);
    EXPECT_TRUE(only6.peers.empty());
    EXPECT_EQ(only6.counts.leechers, 2u);
    peer_announce v4 = peer(1, 1);
    v4.both_families = true;
    EXPECT_EQ(peers_of(go(t0, v4)), std::set<endpoint>{v6.address});
    v4.both_families = false;
    EXPECT_TRUE(go(t0, v4).peers.empty());
}

TEST_F(table_fixture, expires_peers_and_idle_swarms) {
    go(t0, peer(1, 1));
    go(t0 + 100, peer(1, 2));
    go(t0 + 100, peer(2, 1));
    // Past the ttl of peer 1 but before a sweep: not in answers, still counted.
    const auto o = go(t0 + ttl + 50, peer(1, 3));
    EXPECT_EQ(peers_of(o), std::set<endpoint>{peer(1, 2).address});
    table->sweep(t0 + ttl + 50, ttl, 7200, table->bucket_count());
    EXPECT_EQ(table->peers(), 3u);
    EXPECT_EQ(table->counters().peers_expired, 1u);
    table->sweep(t0 + ttl + 101, ttl, 7200, table->bucket_count());
    EXPECT_EQ(table->peers(), 1u);   // peer(1,3) only
    EXPECT_EQ(table->swarms(), 2u);  // swarm 2 is empty but not yet idle for 7200 s
    table->sweep(t0 + ttl + 50 + 7201, ttl, 7200, table->bucket_count());
    EXPECT_EQ(table->swarms(), 0u);
    EXPECT_EQ(table->counters().swarms_expired, 2u);
}

TEST_F(table_fixture, sweeps_a_slice_at_a_time_and_reaches_every_swarm) {
    for (std::uint32_t s = 0; s < 500; ++s) {
        go(t0, peer(s, 1));
    }
    const std::size_t buckets = table->bucket_count();
    for (std::size_t done = 0; done < buckets; done += 10) {
        table->sweep(t0 + ttl + 1, ttl, 0, 10);
    }
    EXPECT_EQ(table->peers(), 0u);
    EXPECT_EQ(table->swarms(), 0u);
}

TEST_F(table_fixture, evicts_the_oldest_swarms_past_swarms_max) {
    limits.swarms_max = 32;
    remake();
    for (std::uint32_t s = 0; s < 32; ++s) {
        go(t0 + s, peer(s, 1));
    }
    go(t0 + 100, peer(100, 1));
    EXPECT_EQ(table->swarms(), 31u);  // a batch of 32/16 = 2 went, then one came
    EXPECT_EQ(table->counters().swarms_evicted, 2u);
    EXPECT_EQ(table->counts(swarm_id(0)).leechers, 0u);
    EXPECT_EQ(table->counts(swarm_id(1)).leechers, 0u);
    EXPECT_EQ(table->counts(swarm_id(2)).leechers, 1u);
    EXPECT_EQ(table->peers(), 31u);
    for (std::uint32_t s = 200; s < 1000; ++s) {
        go(t0 + s, peer(s, 1));
        ASSERT_LE(table->swarms(), 32u);
    }
}

TEST_F(table_fixture, evicts_the_oldest_peers_past_peers_max) {
    limits.peers_max = 160;
    remake();
    for (std::uint32_t i = 0; i < 160; ++i) {
        go(t0 + i, peer(i % 5, i));
    }
    go(t0 + 500, peer(9, 999));
    EXPECT_EQ(table->peers(), 151u);  // 10 oldest went
    EXPECT_EQ(table->counters().peers_evicted, 10u);
    for (std::uint32_t i = 0; i < 10; ++i) {
        peer_announce a = peer(i % 5, i);
        a.event = announce_event::stopped;  // a stop tells whether it was there
        const std::size_t before = table->peers();
        go(t0 + 600, a);
        EXPECT_EQ(table->peers(), before) << i;
    }
    for (std::uint32_t i = 1000; i < 3000; ++i) {
        go(t0 + i, peer(i % 50, i));
        ASSERT_LE(table->peers(), 160u);
    }
}

TEST_F(table_fixture, evicts_a_swarms_oldest_peers_past_its_bound) {
    limits.peers_per_swarm_max = 64;
    remake();
    for (std::uint32_t i = 0; i < 64; ++i) {
        go(t0 + i, peer(1, i, i % 2 == 0));
    }
    go(t0 + 100, peer(2, 0));  // other swarms are not touched
    go(t0 + 100, peer(1, 64));
    EXPECT_EQ(table->counts(swarm_id(1)).seeders + table->counts(swarm_id(1)).leechers, 61u);
    EXPECT_EQ(table->counts(swarm_id(2)).leechers, 1u);
    const auto o = go(t0 + 101, peer(1, 64));
    for (const endpoint& ep : o.peers) {
        EXPECT_GE(ep.address.v4_host_order() - 0x0a000000u, 4u);  // 0..3 were the oldest
    }
    for (std::uint32_t i = 100; i < 1000; ++i) {
        go(t0 + i, peer(1, i));
        ASSERT_LE(table->counts(swarm_id(1)).seeders + table->counts(swarm_id(1)).leechers, 64u);
    }
}

TEST_F(table_fixture, creates_only_swarms_the_filter_accepts_and_asks_only_for_new_ones) {
    int asked = 0;
    table->set_creation_filter([&](const sha1_hash& h) {
        ++asked;
        return h == swarm_id(1);
    });
    EXPECT_FALSE(go(t0, peer(1, 1)).refused);
    EXPECT_FALSE(go(t0, peer(1, 2)).refused);
    EXPECT_EQ(asked, 1);  // a known swarm is not asked about again
    const auto refused = go(t0, peer(2, 1));
    EXPECT_TRUE(refused.refused);
    EXPECT_TRUE(refused.peers.empty());
    peer_announce stop = peer(3, 1);
    stop.event = announce_event::stopped;
    EXPECT_TRUE(go(t0, stop).refused);
    EXPECT_EQ(table->swarms(), 1u);
    EXPECT_EQ(table->peers(), 2u);
}

TEST_F(table_fixture, drops_swarms_an_allow_list_refuses) {
    go(t0, peer(1, 1));
    go(t0, peer(2, 1));
    go(t0, peer(2, 2));
    EXPECT_EQ(table->erase_swarms_unless([](const sha1_hash& h) { return h == swarm_id(1); }), 1u);
    EXPECT_EQ(table->swarms(), 1u);
    EXPECT_EQ(table->peers(), 1u);
}

TEST_F(table_fixture, accounts_for_its_memory) {
    const std::size_t empty = table->memory_bytes();
    for (std::uint32_t i = 0; i < 1000; ++i) {
        go(t0, peer(i / 10, i));
    }
    const std::size_t full = table->memory_bytes();
    EXPECT_GT(full, empty + 1000 * sizeof(tracked_peer<4>));
    EXPECT_LT(full, empty + 1000 * 64);
}

}  // namespace
}  // namespace hyphae::tracker
