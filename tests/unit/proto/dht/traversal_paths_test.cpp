// Disjoint-path lookups (traversal_config::disjoint_paths, S/Kademlia).

#include <algorithm>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "hyphae/core/rng.hpp"
#include "hyphae/proto/dht/traversal.hpp"

namespace hyphae::dht {
namespace {

std::vector<node_contact> make_nodes(std::size_t n, rng& random) {
    std::vector<node_contact> nodes;
    for (std::size_t i = 0; i < n; ++i) {
        nodes.push_back({random_node_id(random),
                         endpoint{ip_address::v4(0x7f000001), static_cast<std::uint16_t>(1000 + i)}});
    }
    return nodes;
}

std::vector<node_contact> closest(std::vector<node_contact> nodes, const node_id& target, std::size_t count) {
    std::sort(nodes.begin(), nodes.end(),
              [&](const node_contact& a, const node_contact& b) { return closer_to(target, a.id, b.id); });
    nodes.resize(std::min(count, nodes.size()));
    return nodes;
}

TEST(traversal_paths, seed_count_gives_each_path_two_seeds) {
    traversal_config config;
    EXPECT_EQ(seed_count(config), 8u);
    config.disjoint_paths = 4;
    EXPECT_EQ(seed_count(config), 8u);
    config.disjoint_paths = 8;
    EXPECT_EQ(seed_count(config), 16u);
    config.disjoint_paths = 1000;  // clamped to 16
    EXPECT_EQ(seed_count(config), 32u);
    EXPECT_EQ(traversal(node_id{}, config).paths(), disjoint_paths_max);
    config.disjoint_paths = 0;
    EXPECT_EQ(traversal(node_id{}, config).paths(), 1u);
}

TEST(traversal_paths, four_paths_query_disjoint_node_sets_and_merge_the_true_closest) {
    rng random(11);
    const auto nodes = make_nodes(500, random);
    for (int round = 0; round < 10; ++round) {
        const node_id target = random_node_id(random);
        traversal_config config;
        config.disjoint_paths = 4;
        traversal t(target, config);
        for (std::size_t i = 0; i < 8; ++i) {
            t.add(nodes[random.uniform(nodes.size())], nullptr);
        }
        std::set<node_id> queried;
        std::map<std::size_t, std::size_t> per_path;
        int guard = 0;
        while (!t.done() && ++guard < 1000) {
            auto next = t.next_query();
            ASSERT_TRUE(next);
            ASSERT_TRUE(queried.insert(next->id).second) << "a node was queried twice";
            const std::size_t path = *t.path_of(next->id);
            ++per_path[path];
            const auto answer = closest(nodes, target, 8);
            std::set<node_id> known;
            for (const auto& n : answer) {
                if (t.path_of(n.id)) {
                    known.insert(n.id);
                }
            }
            t.on_response(next->id, answer);
            // Nodes first seen in this answer join the answering node's path, and only it.
            for (const auto& n : answer) {
                if (known.count(n.id) == 0 && t.path_of(n.id)) {
                    EXPECT_EQ(*t.path_of(n.id), path);
                }
            }
        }
        ASSERT_TRUE(t.done());
        EXPECT_EQ(per_path.size(), 4u) << "every path queried";
        std::vector<node_contact> found;
        for (const auto* c : t.closest_responded()) {
            found.push_back(c->contact);
        }
        EXPECT_EQ(found, closest(nodes, target, 8));
    }
}

TEST(traversal_paths, each_path_has_its_own_parallelism) {
    rng random(3);
    const auto nodes = make_nodes(100, random);
    traversal_config config;
    config.disjoint_paths = 4;
    config.parallelism = 2;
    traversal t(random_node_id(random), config);
    for (const auto& n : nodes) {
        t.add(n, nullptr);
    }
    std::map<std::size_t, std::size_t> per_path;
    while (auto next = t.next_query()) {
        ++per_path[*t.path_of(next->id)];
    }
    EXPECT_EQ(t.in_flight(), 8u);
    for (const auto& [path, n] : per_path) {
        EXPECT_EQ(n, 2u) << "path " << path;
    }
}

TEST(traversal_paths, done_only_when_every_path_is_done) {
    rng random(5);
    const auto nodes = make_nodes(4, random);
    traversal_config config;
    config.disjoint_paths = 2;
    traversal t(random_node_id(random), config);
    for (const auto& n : nodes) {
        t.add(n, nullptr);  // dealt 0, 1, 0, 1
    }
    std::vector<node_contact> asked;
    while (auto next = t.next_query()) {
        asked.push_back(*next);
    }
    ASSERT_EQ(asked.size(), 4u);
    for (const auto& c : asked) {
        if (*t.path_of(c.id) == 0) {
            t.on_response(c.id, {});
        }
    }
    EXPECT_FALSE(t.done());  // path 1 still waits
    for (const auto& c : asked) {
        if (*t.path_of(c.id) == 1) {
            t.on_failure(c.id);
        }
    }
    EXPECT_TRUE(t.done());
    EXPECT_EQ(t.closest_responded().size(), 2u);
}

TEST(traversal_paths, queries_max_scales_with_the_paths) {
    rng random(9);
    const auto nodes = make_nodes(200, random);
    traversal_config config;
    config.disjoint_paths = 4;
    config.queries_max = 5;
    config.parallelism = 100;
    config.result_size = 100;
    config.candidates_max = 100;
    traversal t(random_node_id(random), config);
    for (const auto& n : nodes) {
        t.add(n, nullptr);
    }
    std::size_t sent = 0;
    while (t.next_query()) {
        ++sent;
    }
    EXPECT_EQ(sent, 20u);
}

TEST(traversal_paths, a_bootstrap_answer_is_dealt_among_the_paths) {
    rng random(13);
    const auto nodes = make_nodes(9, random);
    traversal_config config;
    config.disjoint_paths = 4;
    traversal t(random_node_id(random), config);
    t.seed_responded(nodes[0], std::vector<node_contact>(nodes.begin() + 1, nodes.end()));
    std::map<std::size_t, std::size_t> per_path;
    for (std::size_t i = 1; i < nodes.size(); ++i) {
        ++per_path[*t.path_of(nodes[i].id)];
    }
    ASSERT_EQ(per_path.size(), 4u);
    for (const auto& [path, n] : per_path) {
        EXPECT_EQ(n, 2u) << "path " << path;
    }
}

}  // namespace
}  // namespace hyphae::dht
