#include "hyphae/proto/dht/traversal.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "hyphae/core/rng.hpp"

namespace hyphae::dht {
namespace {

node_contact contact(const node_id& id, std::uint16_t port) {
    return {id, endpoint{ip_address::v4(0x7f000001), port}};
}

// A static network in which every node knows every other: a lookup must end on the true k
// closest.
struct full_network {
    std::vector<node_contact> nodes;

    explicit full_network(std::size_t n, rng& random) {
        for (std::size_t i = 0; i < n; ++i) {
            nodes.push_back(contact(random_node_id(random), static_cast<std::uint16_t>(1000 + i)));
        }
    }

    std::vector<node_contact> closest(const node_id& target, std::size_t count) const {
        auto sorted = nodes;
        std::sort(sorted.begin(), sorted.end(), [&](const node_contact& a, const node_contact& b) {
            return closer_to(target, a.id, b.id);
        });
        sorted.resize(std::min(count, sorted.size()));
        return sorted;
    }
};

TEST(traversal, converges_on_the_true_closest_nodes) {
    rng random(7);
    full_network net(500, random);
    for (int round = 0; round < 20; ++round) {
        const node_id target = random_node_id(random);
        traversal t(target, traversal_config{});
        for (std::size_t i = 0; i < 8; ++i) {
            t.add(net.nodes[random.uniform(net.nodes.size())], nullptr);
        }
        int guard = 0;
        while (!t.done() && ++guard < 1000) {
            auto next = t.next_query();
            ASSERT_TRUE(next);
            t.on_response(next->id, net.closest(target, 8));
        }
        ASSERT_TRUE(t.done());
        std::vector<node_contact> found;
        for (const auto* c : t.closest_responded()) {
            found.push_back(c->contact);
        }
        EXPECT_EQ(found, net.closest(target, 8));
        EXPECT_LE(t.queries_sent(), 40u);
    }
}

TEST(traversal, keeps_at_most_parallelism_queries_running) {
    rng random(1);
    full_network net(100, random);
    traversal_config config;
    config.parallelism = 3;
    traversal t(random_node_id(random), config);
    for (const auto& n : net.nodes) {
        t.add(n, nullptr);
    }
    EXPECT_TRUE(t.next_query());
    EXPECT_TRUE(t.next_query());
    EXPECT_TRUE(t.next_query());
    EXPECT_FALSE(t.next_query());
    EXPECT_EQ(t.in_flight(), 3u);
}

TEST(traversal, moves_past_slow_nodes_and_takes_them_back) {
    rng random(2);
    full_network net(20, random);
    const node_id target = random_node_id(random);
    traversal_config config;
    config.parallelism = 1;
    traversal t(target, config);
    for (const auto& n : net.nodes) {
        t.add(n, nullptr);
    }
    auto first = t.next_query();
    ASSERT_TRUE(first);
    EXPECT_FALSE(t.next_query());
    t.on_slow(first->id);
    auto second = t.next_query();  // the slot is free again
    ASSERT_TRUE(second);
    EXPECT_NE(second->id, first->id);
    // The slow one answers after all and counts.
    t.on_response(first->id, {});
    ASSERT_FALSE(t.closest_responded().empty());
    EXPECT_EQ(t.closest_responded().front()->contact.id, first->id);
}

TEST(traversal, done_without_waiting_for_slow_nodes) {
    rng random(3);
    full_network net(12, random);
    const node_id target = random_node_id(random);
    traversal t(target, traversal_config{});
    for (const auto& n : net.nodes) {
        t.add(n, nullptr);
    }
    std::set<node_id> slow;
    int guard = 0;
    while (!t.done() && ++guard < 100) {
        auto next = t.next_query();
        ASSERT_TRUE(next);
        if (slow.size() < 2) {
            slow.insert(next->id);
            t.on_slow(next->id);
        } else {
            t.on_response(next->id, {});
        }
    }
    EXPECT_TRUE(t.done());
    EXPECT_EQ(t.in_flight(), 2u);  // the slow ones may still answer, but nobody waits
    EXPECT_EQ(t.closest_responded().size(), 8u);
}

TEST(traversal, failed_nodes_leave_the_result) {
    rng random(4);
    full_network net(30, random);
    const node_id target = random_node_id(random);
    traversal t(target, traversal_config{});
    for (const auto& n : net.nodes) {
        t.add(n, nullptr);
    }
    const auto truth = net.closest(target, 30);
    int guard = 0;
    while (!t.done() && ++guard < 200) {
        auto next = t.next_query();
        ASSERT_TRUE(next);
        if (next->id == truth[0].id) {
            t.on_failure(next->id);
        } else {
            t.on_response(next->id, {});
        }
    }
    auto result = t.closest_responded();
    ASSERT_EQ(result.size(), 8u);
    EXPECT_EQ(result[0]->contact.id, truth[1].id);
    EXPECT_EQ(t.failures(), 1u);
}

TEST(traversal, ends_when_nobody_is_left_to_ask) {
    traversal t(node_id{}, traversal_config{});
    EXPECT_TRUE(t.done());
    rng random(5);
    t.add(contact(random_node_id(random), 1), nullptr);
    auto only = t.next_query();
    ASSERT_TRUE(only);
    EXPECT_FALSE(t.done());
    t.on_failure(only->id);
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.closest_responded().empty());
    EXPECT_EQ(t.hops(), 0);
}

TEST(traversal, deduplicates_by_id_and_by_endpoint) {
    rng random(6);
    traversal t(random_node_id(random), traversal_config{});
    const node_id a = random_node_id(random);
    t.add(contact(a, 1), nullptr);
    t.add(contact(a, 2), nullptr);                       // same id elsewhere
    t.add(contact(random_node_id(random), 1), nullptr);  // another id at the same endpoint
    ASSERT_TRUE(t.next_query());
    EXPECT_FALSE(t.next_query());
}

TEST(traversal, holds_its_bounds) {
    rng random(8);
    full_network net(400, random);
    traversal_config config;
    config.candidates_max = 16;
    config.queries_max = 10;
    const node_id target = random_node_id(random);
    traversal t(target, config);
    for (const auto& n : net.nodes) {
        t.add(n, nullptr);
    }
    // The list kept the nearest 16 of the 400.
    const auto truth = net.closest(target, 16);
    std::vector<node_id> asked;
    while (auto next = t.next_query()) {
        asked.push_back(next->id);
        t.on_failure(next->id);  // every failure moves the window on
    }
    ASSERT_EQ(asked.size(), 10u);
    EXPECT_EQ(t.queries_sent(), 10u);
    EXPECT_TRUE(t.done());
    for (std::size_t i = 0; i < asked.size(); ++i) {
        EXPECT_EQ(asked[i], truth[i].id);
    }
}

TEST(traversal, counts_hops_from_the_seeds) {
    rng random(9);
    const node_id target = random_node_id(random);
    traversal t(target, traversal_config{});
    const auto far = contact(random_node_id(random), 1);
    t.add(far, nullptr);
    auto q = t.next_query();
    ASSERT_TRUE(q);
    node_contact nearer = contact(target, 2);
    nearer.id.bytes[19] ^= 1;
    t.on_response(q->id, {nearer});
    auto q2 = t.next_query();
    ASSERT_TRUE(q2);
    EXPECT_EQ(q2->id, nearer.id);
    t.on_response(q2->id, {});
    EXPECT_EQ(t.hops(), 2);
}

TEST(traversal, ranks_down_nodes_that_point_at_the_unreachable) {
    rng random(10);
    const node_id target = random_node_id(random);
    traversal_config config;
    config.parallelism = 8;
    traversal t(target, config);
    const auto liar = contact(random_node_id(random), 1);
    t.add(liar, nullptr);
    auto q = t.next_query();
    ASSERT_TRUE(q);
    std::vector<node_contact> fakes;
    for (std::uint16_t i = 0; i < 4; ++i) {
        fakes.push_back(contact(random_node_id(random), static_cast<std::uint16_t>(100 + i)));
    }
    t.on_response(q->id, fakes);
    while (auto next = t.next_query()) {
        t.on_failure(next->id);
    }
    auto bad = t.bad_referrers();
    ASSERT_EQ(bad.size(), 1u);
    EXPECT_EQ(bad[0].id, liar.id);
}

}  // namespace
}  // namespace hyphae::dht
