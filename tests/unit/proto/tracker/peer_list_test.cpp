#include "hyphae/proto/tracker/peer_list.hpp"

#include <map>
#include <set>
#include <tuple>

#include <gtest/gtest.h>

namespace hyphae::tracker {
namespace {

using peer4 = tracked_peer<4>;

peer4 make_peer(std::uint32_t n) {
    peer4 p;
    p.ip = {10, static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8),
            static_cast<std::uint8_t>(n)};
    p.port = static_cast<std::uint16_t>(1000 + n % 7);
    p.tag = static_cast<std::uint16_t>(n & peer4::tag_mask);
    p.seen = n;
    return p;
}

// The list against a plain map, through random inserts, erases and side changes, with the index
// coming and going as the list grows past and shrinks below its threshold.
TEST(peer_list, agrees_with_a_model_through_random_operations) {
    rng random(1);
    keyed_hash key(random);
    peer_index_pool pool;
    const peer_list_context hash{key, pool};
    peer_list<4> list;
    std::map<std::uint32_t, bool> model;  // peer number -> seeder
    bool saw_index = false;
    for (int step = 0; step < 20000; ++step) {
        const auto n = static_cast<std::uint32_t>(random.uniform(step < 10000 ? 300 : 60));
        const peer4 p = make_peer(n);
        auto pos = list.find(p, hash);
        ASSERT_EQ(pos.has_value(), model.contains(n)) << step;
        const std::uint64_t op = random.uniform(3);
        if (!pos) {
            const bool seeder = random.uniform(2) == 1;
            const std::uint32_t at = list.insert(p, seeder, hash);
            ASSERT_TRUE(list[at].same_peer(p));
            ASSERT_EQ(list.is_seeder(at), seeder);
            model[n] = seeder;
        } else if (op == 0) {
            list.erase(*pos, hash);
            model.erase(n);
        } else {
            const bool seeder = op == 2;
            const std::uint32_t at = list.set_seeder(*pos, seeder, hash);
            ASSERT_TRUE(list[at].same_peer(p));
            ASSERT_EQ(list.is_seeder(at), seeder);
            model[n] = seeder;
        }
        saw_index = saw_index || list.indexed();
        ASSERT_EQ(list.size(), model.size());
        if (list.size() > peer_list<4>::index_threshold) {
            ASSERT_TRUE(list.indexed());
        }
        if (list.size() <= peer_list<4>::index_threshold / 2) {
            ASSERT_FALSE(list.indexed());
        }
        if (step % 97 == 0) {
            std::uint32_t seeders = 0;
            for (const auto& [k, seeder] : model) {
                auto at = list.find(make_peer(k), hash);
                ASSERT_TRUE(at) << k;
                ASSERT_EQ(list.is_seeder(*at), seeder);
                seeders += seeder ? 1 : 0;
            }
            ASSERT_EQ(list.seeders(), seeders);
        }
    }
    EXPECT_TRUE(saw_index);
    EXPECT_EQ(pool.in_use(), list.indexed() ? 1u : 0u);
    list.remove_if([](const peer4&) { return true; }, hash);
    EXPECT_EQ(pool.in_use(), 0u);  // an emptied list gives its index back
    EXPECT_EQ(list.capacity(), 0u);
}

TEST(peer_list, keeps_leechers_before_seeders_and_frees_memory_when_empty) {
    rng random(2);
    keyed_hash key(random);
    peer_index_pool pool;
    const peer_list_context hash{key, pool};
    peer_list<4> list;
    for (std::uint32_t i = 0; i < 100; ++i) {
        list.insert(make_peer(i), i % 3 == 0, hash);
    }
    EXPECT_EQ(list.seeders(), 34u);
    EXPECT_EQ(list.leechers(), 66u);
    for (std::uint32_t i = 0; i < 100; ++i) {
        auto at = list.find(make_peer(i), hash);
        ASSERT_TRUE(at);
        EXPECT_EQ(*at >= list.leechers(), i % 3 == 0) << i;
    }
    while (!list.empty()) {
        list.erase(list.size() / 2, hash);
    }
    EXPECT_EQ(list.capacity(), 0u);
    EXPECT_EQ(list.memory_bytes(), 0u);
}

TEST(peer_list, remove_if_keeps_the_rest_findable_and_shrinks) {
    rng random(3);
    keyed_hash key(random);
    peer_index_pool pool;
    const peer_list_context hash{key, pool};
    peer_list<4> list;
    for (std::uint32_t i = 0; i < 1000; ++i) {
        list.insert(make_peer(i), i % 2 == 0, hash);
    }
    const std::uint32_t before = list.capacity();
    const removed_peers gone = list.remove_if([](const peer4& p) { return p.seen >= 40; }, hash);
    EXPECT_EQ(gone.leechers + gone.seeders, 960u);
    EXPECT_EQ(gone.seeders, 480u);
    EXPECT_EQ(list.size(), 40u);
    EXPECT_EQ(list.seeders(), 20u);
    EXPECT_LT(list.capacity(), before / 4);
    for (std::uint32_t i = 0; i < 1000; ++i) {
        auto at = list.find(make_peer(i), hash);
        ASSERT_EQ(at.has_value(), i < 40) << i;
        if (at) {
            EXPECT_EQ(list.is_seeder(*at), i % 2 == 0);
        }
    }
}

TEST(peer_list, sample_offers_each_peer_once_and_uniformly) {
    rng random(4);
    keyed_hash key(random);
    peer_index_pool pool;
    const peer_list_context hash{key, pool};
    peer_list<4> list;
    for (std::uint32_t i = 0; i < 40; ++i) {
        list.insert(make_peer(i), false, hash);
    }
    std::vector<int> picked(40, 0);
    const int rounds = 20000;
    for (int r = 0; r < rounds; ++r) {
        std::set<std::uint32_t> seen;
        list.sample(40, 10, 5u, random, [&](const peer4& p) {
            EXPECT_TRUE(seen.insert(p.seen).second);  // never twice
            return true;
        });
        ASSERT_EQ(seen.size(), 10u);
        for (std::uint32_t s : seen) {
            ++picked[s];
        }
        EXPECT_FALSE(seen.contains(list[5].seen));  // the skipped position
    }
    // Each of the 39 others is picked with probability 10/39.
    const double expected = rounds * 10.0 / 39.0;
    for (std::uint32_t i = 0; i < 40; ++i) {
        if (i == list[5].seen) {
            EXPECT_EQ(picked[i], 0);
        } else {
            EXPECT_NEAR(picked[i], expected, expected * 0.06) << i;
        }
    }
}

TEST(peer_list, sample_stops_after_offering_everyone_when_few_are_taken) {
    rng random(5);
    keyed_hash key(random);
    peer_index_pool pool;
    const peer_list_context hash{key, pool};
    peer_list<4> list;
    for (std::uint32_t i = 0; i < 50; ++i) {
        list.insert(make_peer(i), false, hash);
    }
    int offered = 0;
    int taken = 0;
    list.sample(50, 10, std::nullopt, random, [&](const peer4& p) {
        ++offered;
        if (p.seen % 10 == 0) {
            ++taken;
            return true;
        }
        return false;
    });
    EXPECT_EQ(offered, 50);
    EXPECT_EQ(taken, 5);
}

}  // namespace
}  // namespace hyphae::tracker
