#include "hyphae/proto/dht/peer_store.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <gtest/gtest.h>

namespace hyphae::dht {
namespace {

const time_point t0 = time_point(std::chrono::hours(1000));

id160 torrent_id(std::uint32_t n) {
    id160 h;
    h.bytes[0] = static_cast<std::uint8_t>(n >> 24);
    h.bytes[1] = static_cast<std::uint8_t>(n >> 16);
    h.bytes[2] = static_cast<std::uint8_t>(n >> 8);
    h.bytes[3] = static_cast<std::uint8_t>(n);
    return h;
}

endpoint v4_peer(std::uint32_t n) {
    return endpoint{ip_address::v4(0x0a000000u + n), static_cast<std::uint16_t>(6881 + n % 1000)};
}

endpoint v6_peer(std::uint32_t n) {
    std::array<std::uint8_t, 16> bytes{0x20, 0x01, 0x0d, 0xb8};
    bytes[12] = static_cast<std::uint8_t>(n >> 24);
    bytes[13] = static_cast<std::uint8_t>(n >> 16);
    bytes[14] = static_cast<std::uint8_t>(n >> 8);
    bytes[15] = static_cast<std::uint8_t>(n);
    return endpoint{ip_address::v6(bytes), static_cast<std::uint16_t>(6881 + n % 1000)};
}

std::set<endpoint> as_set(const std::vector<endpoint>& peers) {
    return {peers.begin(), peers.end()};
}

struct peer_store_fixture : ::testing::Test {
    rng random{7};
    keyed_hash hash{random};
    peer_store_config config;
    std::unique_ptr<peer_store> store = std::make_unique<peer_store>(config, hash);

    void remake() { store = std::make_unique<peer_store>(config, hash); }
    std::set<endpoint> all(time_point now, std::uint32_t torrent, bool v6 = false, bool noseed = false) {
        return as_set(store->get(now, torrent_id(torrent), v6, 100000, random, noseed));
    }
};

TEST_F(peer_store_fixture, returns_the_peers_announced_for_a_torrent) {
    EXPECT_TRUE(store->get(t0, torrent_id(1), false, 50, random).empty());
    store->announce(t0, torrent_id(1), v4_peer(1), false);
    store->announce(t0, torrent_id(1), v4_peer(2), true);
    store->announce(t0, torrent_id(2), v4_peer(3), false);
    EXPECT_EQ(all(t0, 1), (std::set<endpoint>{v4_peer(1), v4_peer(2)}));
    EXPECT_EQ(all(t0, 2), (std::set<endpoint>{v4_peer(3)}));
    EXPECT_TRUE(all(t0, 3).empty());
    EXPECT_TRUE(store->get(t0, torrent_id(1), false, 0, random).empty());
    EXPECT_EQ(store->torrent_count(), 2u);
    EXPECT_EQ(store->peer_count(), 3u);
    // Another port of the same address is another peer; port 0 is nobody.
    endpoint other_port = v4_peer(1);
    other_port.port = 1;
    store->announce(t0, torrent_id(1), other_port, false);
    store->announce(t0, torrent_id(1), endpoint{v4_peer(9).address, 0}, false);
    store->announce(t0, torrent_id(4), endpoint{v4_peer(9).address, 0}, false);
    EXPECT_EQ(all(t0, 1), (std::set<endpoint>{v4_peer(1), v4_peer(2), other_port}));
    EXPECT_EQ(store->torrent_count(), 2u);
    EXPECT_EQ(store->peer_count(), 4u);
}

TEST_F(peer_store_fixture, leaves_seeds_out_when_asked) {
    store->announce(t0, torrent_id(1), v4_peer(1), false);
    store->announce(t0, torrent_id(1), v4_peer(2), true);
    EXPECT_EQ(all(t0, 1, false, true), (std::set<endpoint>{v4_peer(1)}));
    // A re-announce sets the flag either way.
    store->announce(t0, torrent_id(1), v4_peer(1), true);
    store->announce(t0, torrent_id(1), v4_peer(2), false);
    EXPECT_EQ(all(t0, 1, false, true), (std::set<endpoint>{v4_peer(2)}));
    EXPECT_EQ(all(t0, 1).size(), 2u);
    EXPECT_EQ(store->peer_count(), 2u);
}

TEST_F(peer_store_fixture, peers_expire_after_their_lifetime_unless_they_announce_again) {
    EXPECT_EQ(store->config().peer_lifetime, minutes(45));
    store->announce(t0, torrent_id(1), v4_peer(1), false);
    store->announce(t0, torrent_id(1), v4_peer(2), false);
    store->announce(t0 + minutes(30), torrent_id(1), v4_peer(2), false);  // a refresh
    store->announce(t0, torrent_id(2), v6_peer(1), false);
    EXPECT_EQ(store->peer_count(), 3u);
    EXPECT_EQ(all(t0 + minutes(45) - seconds(1), 1), (std::set<endpoint>{v4_peer(1), v4_peer(2)}));
    // Expired peers are never answered, swept or not.
    EXPECT_EQ(all(t0 + minutes(45), 1), (std::set<endpoint>{v4_peer(2)}));
    EXPECT_TRUE(all(t0 + minutes(45), 2, true).empty());
    store->expire(t0 + minutes(45) - seconds(1));
    EXPECT_EQ(store->peer_count(), 3u);
    store->expire(t0 + minutes(45));
    EXPECT_EQ(store->peer_count(), 1u);
    EXPECT_EQ(store->torrent_count(), 1u);  // torrent 2 had no peer left
    EXPECT_EQ(store->counters().peers_expired, 2u);
    EXPECT_EQ(all(t0 + minutes(74), 1), (std::set<endpoint>{v4_peer(2)}));
    store->expire(t0 + minutes(75));
    EXPECT_EQ(store->peer_count(), 0u);
    EXPECT_EQ(store->torrent_count(), 0u);
    EXPECT_EQ(store->memory_bytes(), 0u);
}

TEST_F(peer_store_fixture, lifetimes_are_configurable) {
    config.peer_lifetime = minutes(30);
    remake();
    store->announce(t0, torrent_id(1), v4_peer(1), false);
    EXPECT_EQ(all(t0 + minutes(30) - seconds(1), 1).size(), 1u);
    EXPECT_TRUE(all(t0 + minutes(30), 1).empty());
}

TEST_F(peer_store_fixture, keeps_the_families_apart) {
    store->announce(t0, torrent_id(1), v4_peer(1), false);
    store->announce(t0, torrent_id(1), v6_peer(1), false);
    store->announce(t0, torrent_id(1), v6_peer(2), false);
    const endpoint mapped{*ip_address::parse("::ffff:10.0.0.3"), 7000};
    store->announce(t0, torrent_id(1), mapped, false);
    const endpoint unmapped{*ip_address::parse("10.0.0.3"), 7000};
    EXPECT_EQ(all(t0, 1), (std::set<endpoint>{v4_peer(1), unmapped}));
    EXPECT_EQ(all(t0, 1, true), (std::set<endpoint>{v6_peer(1), v6_peer(2)}));
    store->announce(t0, torrent_id(1), unmapped, false);  // the same peer
    EXPECT_EQ(store->peer_count(), 4u);
    // A torrent known only in IPv6 has nothing for IPv4.
    store->announce(t0, torrent_id(2), v6_peer(3), false);
    EXPECT_TRUE(all(t0, 2).empty());
    EXPECT_EQ(all(t0, 2, true), (std::set<endpoint>{v6_peer(3)}));
}

TEST_F(peer_store_fixture, answers_a_uniform_random_selection_within_max) {
    std::set<endpoint> stored;
    for (std::uint32_t n = 0; n < 100; ++n) {
        store->announce(t0, torrent_id(1), v4_peer(n), n % 2 == 0);
        stored.insert(v4_peer(n));
    }
    std::map<endpoint, int> times;
    constexpr int rounds = 4000;
    for (int round = 0; round < rounds; ++round) {
        const auto peers = store->get(t0, torrent_id(1), false, 10, random);
        ASSERT_EQ(peers.size(), 10u);
        ASSERT_EQ(as_set(peers).size(), 10u);  // no repeats
        for (const endpoint& p : peers) {
            ASSERT_TRUE(stored.contains(p));
            ++times[p];
        }
    }
    // Each peer is picked with probability 1/10: 400 times expected, sd 19.
    ASSERT_EQ(times.size(), 100u);
    for (const auto& [peer, count] : times) {
        EXPECT_GT(count, 300) << peer.to_string();
        EXPECT_LT(count, 500) << peer.to_string();
    }
    EXPECT_EQ(store->get(t0, torrent_id(1), false, 1000, random).size(), 100u);
    EXPECT_EQ(store->get(t0, torrent_id(1), false, 1000, random, true).size(), 50u);
    EXPECT_EQ(store->get(t0, torrent_id(1), false, 20, random, true).size(), 20u);
}

TEST_F(peer_store_fixture, a_seed_gives_the_same_answers) {
    for (std::uint32_t n = 0; n < 100; ++n) {
        store->announce(t0, torrent_id(1), v4_peer(n), false);
    }
    rng a(5);
    rng b(5);
    EXPECT_EQ(store->get(t0, torrent_id(1), false, 10, a), store->get(t0, torrent_id(1), false, 10, b));
    EXPECT_EQ(store->sample(1, a), store->sample(1, b));
}

TEST_F(peer_store_fixture, a_full_torrent_drops_its_least_recently_announced_peer) {
    config.peers_per_torrent_max = 8;
    remake();
    for (std::uint32_t n = 0; n < 8; ++n) {
        store->announce(t0 + seconds(n), torrent_id(1), n % 2 == 0 ? v4_peer(n) : v6_peer(n), false);
    }
    store->announce(t0 + seconds(20), torrent_id(1), v4_peer(0), false);  // refreshed: now the newest
    store->announce(t0 + seconds(21), torrent_id(1), v4_peer(100), false);
    EXPECT_EQ(store->peer_count(), 8u);
    EXPECT_EQ(store->counters().peers_evicted, 1u);
    // v6_peer(1) was the oldest, and IPv4 and IPv6 peers count together.
    EXPECT_FALSE(all(t0 + seconds(21), 1, true).contains(v6_peer(1)));
    EXPECT_TRUE(all(t0 + seconds(21), 1).contains(v4_peer(0)));
    for (std::uint32_t n = 200; n < 300; ++n) {
        store->announce(t0 + seconds(n), torrent_id(1), v4_peer(n), false);
        ASSERT_LE(store->peer_count(), 8u);
    }
    // The eight newest remain.
    std::set<endpoint> newest;
    for (std::uint32_t n = 292; n < 300; ++n) {
        newest.insert(v4_peer(n));
    }
    EXPECT_EQ(all(t0 + seconds(300), 1), newest);
    EXPECT_TRUE(all(t0 + seconds(300), 1, true).empty());
    EXPECT_EQ(store->counters().peers_evicted, 101u);
    // A re-announce of a stored peer evicts nobody.
    store->announce(t0 + seconds(301), torrent_id(1), v4_peer(292), false);
    EXPECT_EQ(store->counters().peers_evicted, 101u);
}

TEST_F(peer_store_fixture, a_full_table_drops_the_torrent_with_the_fewest_peers) {
    config.torrents_max = 3;
    remake();
    store->announce(t0, torrent_id(1), v4_peer(1), false);
    store->announce(t0, torrent_id(1), v4_peer(2), false);
    store->announce(t0, torrent_id(2), v4_peer(3), false);  // one peer
    store->announce(t0 + seconds(1), torrent_id(3), v4_peer(4), false);
    store->announce(t0 + seconds(1), torrent_id(3), v6_peer(5), false);
    store->announce(t0 + seconds(2), torrent_id(4), v4_peer(6), false);
    EXPECT_EQ(store->torrent_count(), 3u);
    EXPECT_TRUE(all(t0, 2).empty());
    EXPECT_EQ(store->counters().torrents_evicted, 1u);
    EXPECT_EQ(store->counters().peers_evicted, 1u);
    EXPECT_EQ(store->peer_count(), 5u);
    // All three have two peers now: the least recently announced one, 3, goes.
    store->announce(t0 + seconds(3), torrent_id(4), v4_peer(7), false);
    store->announce(t0 + seconds(4), torrent_id(1), v4_peer(1), false);  // 1 announced after 3
    store->announce(t0 + seconds(5), torrent_id(5), v4_peer(8), false);
    EXPECT_EQ(store->torrent_count(), 3u);
    EXPECT_TRUE(all(t0 + seconds(5), 3).empty());
    EXPECT_EQ(all(t0 + seconds(5), 1).size(), 2u);
    EXPECT_EQ(all(t0 + seconds(5), 4).size(), 2u);
    EXPECT_EQ(all(t0 + seconds(5), 5).size(), 1u);
    EXPECT_EQ(store->peer_count(), 5u);
}

TEST_F(peer_store_fixture, every_bound_holds_under_random_announces) {
    config.torrents_max = 20;
    config.peers_per_torrent_max = 15;
    config.peer_lifetime = minutes(10);
    remake();
    rng input(11);
    time_point now = t0;
    std::size_t peak_memory = 0;
    for (int step = 0; step < 20000; ++step) {
        now += milliseconds(input.uniform(200));
        const auto torrent = static_cast<std::uint32_t>(input.uniform(40));
        const auto n = static_cast<std::uint32_t>(input.uniform(200));
        store->announce(now, torrent_id(torrent), input.uniform(3) == 0 ? v6_peer(n) : v4_peer(n),
                        input.uniform(2) == 0);
        if (step % 500 == 0) {
            store->expire(now);
        }
        ASSERT_LE(store->torrent_count(), 20u);
        ASSERT_LE(store->peer_count(), 20u * 15u);
        peak_memory = std::max(peak_memory, store->memory_bytes());
        if (step % 16 != 0) {
            continue;
        }
        std::size_t total = 0;
        for (std::uint32_t t = 0; t < 40; ++t) {
            const std::size_t here = all(now, t).size() + all(now, t, true).size();
            ASSERT_LE(here, 15u);
            total += here;
        }
        ASSERT_LE(total, store->peer_count());
    }
    // 20 nodes of 96 bytes, their vectors within the bound (15 IPv6 records at most, 368 bytes).
    EXPECT_LE(peak_memory, 1024 + 20 * (96 + 2 * 368));
}

TEST_F(peer_store_fixture, samples_stored_info_hashes) {
    EXPECT_TRUE(store->sample(20, random).empty());
    for (std::uint32_t t = 0; t < 5; ++t) {
        store->announce(t0, torrent_id(t), v4_peer(t), false);
    }
    const auto few = store->sample(20, random);
    EXPECT_EQ(std::set<id160>(few.begin(), few.end()).size(), 5u);
    for (std::uint32_t t = 5; t < 100; ++t) {
        store->announce(t0, torrent_id(t), v4_peer(t), false);
    }
    EXPECT_EQ(store->torrent_count(), 100u);
    std::map<id160, int> times;
    for (int round = 0; round < 2000; ++round) {
        const auto picked = store->sample(20, random);
        ASSERT_EQ(picked.size(), 20u);
        ASSERT_EQ(std::set<id160>(picked.begin(), picked.end()).size(), 20u);
        for (const id160& h : picked) {
            ASSERT_LT(h.bytes[3], 100);
            ++times[h];
        }
    }
    // 1/5 each: 400 expected, sd 18.
    ASSERT_EQ(times.size(), 100u);
    for (const auto& [h, count] : times) {
        EXPECT_GT(count, 300);
        EXPECT_LT(count, 500);
    }
    EXPECT_TRUE(store->sample(0, random).empty());
}

TEST_F(peer_store_fixture, an_empty_store_costs_nothing_on_the_heap) {
    EXPECT_EQ(store->memory_bytes(), 0u);
    EXPECT_LE(sizeof(peer_store), 128u);  // libstdc++, x86-64
    store->announce(t0, torrent_id(1), v4_peer(1), false);
    EXPECT_GT(store->memory_bytes(), 0u);
    store->expire(t0 + std::chrono::hours(1));
    EXPECT_EQ(store->memory_bytes(), 0u);
    store->announce(t0 + std::chrono::hours(1), torrent_id(1), v4_peer(1), false);  // still usable
    EXPECT_EQ(store->peer_count(), 1u);
}

TEST_F(peer_store_fixture, a_sweep_gives_memory_back) {
    for (std::uint32_t n = 0; n < 400; ++n) {
        store->announce(t0, torrent_id(1), v4_peer(n), false);
    }
    store->announce(t0 + minutes(40), torrent_id(1), v4_peer(1), false);
    const std::size_t full = store->memory_bytes();
    store->expire(t0 + minutes(50));
    EXPECT_EQ(store->peer_count(), 1u);
    EXPECT_LT(store->memory_bytes(), full / 8);
}

}  // namespace
}  // namespace hyphae::dht
