#include "hyphae/proto/dht/answer_check.hpp"

#include <gtest/gtest.h>

#include "hyphae/core/rng.hpp"
#include "hyphae/proto/dht/node_id_policy.hpp"

namespace hyphae::dht {
namespace {

// An id at XOR distance `d` (in its last byte) from the zero target.
node_id at_distance(std::uint8_t d) {
    node_id id;
    id.bytes[19] = d;
    return id;
}

endpoint public_ep(std::uint32_t n) {
    return endpoint{ip_address::v4(0x01000001u + (n << 8)), 6881};  // n-th public /24
}

const node_id target{};
const node_id self = at_distance(200);
const node_contact from{at_distance(100), public_ep(100)};
const answer_check_config sanity{true, false};

TEST(answer_check, off_keeps_everything_but_our_own_id) {
    std::vector<node_contact> nodes = {{at_distance(150), public_ep(1)}, {self, public_ep(2)}, from};
    const auto out = check_answer(target, self, from, nodes, {});
    EXPECT_EQ(out.nodes.size(), 2u);
    EXPECT_EQ(out.dropped, 0u);
}

TEST(answer_check, drops_contacts_not_closer_than_the_answering_node) {
    std::vector<node_contact> nodes = {{at_distance(10), public_ep(1)},
                                       {at_distance(150), public_ep(2)},  // farther than `from`
                                       {at_distance(99), public_ep(3)}};
    const auto out = check_answer(target, self, from, nodes, sanity);
    ASSERT_EQ(out.nodes.size(), 2u);
    EXPECT_EQ(out.nodes[0].id, at_distance(10));
    EXPECT_EQ(out.nodes[1].id, at_distance(99));
    EXPECT_EQ(out.dropped, 1u);
}

TEST(answer_check, drops_ourselves_the_answering_node_and_duplicates) {
    std::vector<node_contact> nodes = {{at_distance(10), public_ep(1)}, {self, public_ep(2)},
                                       {from.id, public_ep(3)},           // it, by id
                                       {at_distance(11), from.ep},        // it, by endpoint
                                       {at_distance(10), public_ep(4)},   // duplicate id
                                       {at_distance(12), public_ep(1)}};  // duplicate endpoint
    const auto out = check_answer(target, self, from, nodes, sanity);
    ASSERT_EQ(out.nodes.size(), 1u);
    EXPECT_EQ(out.dropped, 5u);
}

TEST(answer_check, keeps_two_contacts_of_one_public_slash24_and_any_number_of_local_ones) {
    std::vector<node_contact> nodes;
    for (std::uint8_t i = 0; i < 5; ++i) {
        nodes.push_back({at_distance(static_cast<std::uint8_t>(10 + i)),
                         endpoint{ip_address::v4(0x01020300u + i), 6881}});  // 1.2.3.x
    }
    for (std::uint8_t i = 0; i < 5; ++i) {
        nodes.push_back({at_distance(static_cast<std::uint8_t>(20 + i)),
                         endpoint{ip_address::v4(0xc0a80100u + i), 6881}});  // 192.168.1.x
    }
    const auto out = check_answer(target, self, from, nodes, sanity);
    EXPECT_EQ(out.nodes.size(), 7u);
    EXPECT_EQ(out.dropped, 3u);
    EXPECT_EQ(out.nodes[1].id, at_distance(11));
    EXPECT_EQ(out.nodes[2].id, at_distance(20));
}

TEST(answer_check, bep42_drops_ids_that_do_not_fit_their_address) {
    rng random(1);
    const endpoint good_ep = public_ep(7);
    const node_contact good{make_node_id(good_ep.address, random), good_ep};
    const node_contact bad{at_distance(5), public_ep(8)};
    const node_contact local{at_distance(6), endpoint{ip_address::v4(0x0a000001), 6881}};
    const auto out = check_answer(target, self, from, {good, bad, local}, {false, true});
    ASSERT_EQ(out.nodes.size(), 2u);
    EXPECT_EQ(out.nodes[0], good);
    EXPECT_EQ(out.nodes[1], local);
    EXPECT_EQ(out.unverified, 1u);
    EXPECT_EQ(out.dropped, 0u);
}

}  // namespace
}  // namespace hyphae::dht
