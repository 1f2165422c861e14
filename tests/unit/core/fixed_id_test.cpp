#include "hyphae/core/fixed_id.hpp"

#include <unordered_set>

#include <gtest/gtest.h>

namespace hyphae {
namespace {

id160 id(std::string_view hex) {
    return *id160::from_hex(hex);
}

TEST(fixed_id, parses_and_prints_hex_and_base32) {
    const id160 a = id("0123456789abcdef0123456789abcdef01234567");
    EXPECT_EQ(a.to_hex(), "0123456789abcdef0123456789abcdef01234567");
    EXPECT_EQ(id160::from_base32(a.to_base32()), a);
    EXPECT_EQ(a.to_base32().size(), 32u);
    EXPECT_FALSE(id160::from_hex("0123"));
    EXPECT_FALSE(id160::from_hex("0123456789abcdef0123456789abcdef0123456g"));
    EXPECT_FALSE(id160::from_base32("AAAA"));
    EXPECT_FALSE(id160::from_bytes(std::string_view("short")));
    EXPECT_TRUE(id160::from_bytes(std::string_view("12345678901234567890")));
}

TEST(fixed_id, orders_as_big_endian_numbers) {
    EXPECT_LT(id("00000000000000000000000000000000000000ff"), id("0000000000000000000000000000000000000100"));
    EXPECT_LT(id("7fffffffffffffffffffffffffffffffffffffff"), id("8000000000000000000000000000000000000000"));
    EXPECT_TRUE(id160{}.is_zero());
    EXPECT_FALSE(id("0000000000000000000000000000000000000001").is_zero());
}

TEST(xor_metric, distance_is_symmetric_and_zero_only_to_self) {
    const id160 a = id("f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0");
    const id160 b = id("0ff0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f1");
    EXPECT_EQ(xor_distance(a, b), xor_distance(b, a));
    EXPECT_EQ(xor_distance(a, b), id("ff00000000000000000000000000000000000001"));
    EXPECT_TRUE(xor_distance(a, a).is_zero());
}

TEST(xor_metric, common_prefix_bits) {
    const id160 a = id("0000000000000000000000000000000000000000");
    EXPECT_EQ(common_prefix_bits(a, a), 160);
    EXPECT_EQ(common_prefix_bits(a, id("8000000000000000000000000000000000000000")), 0);
    EXPECT_EQ(common_prefix_bits(a, id("0100000000000000000000000000000000000000")), 7);
    EXPECT_EQ(common_prefix_bits(a, id("0000000000000000000000000000000000000001")), 159);
    EXPECT_EQ(common_prefix_bits(a, id("0000100000000000000000000000000000000000")), 19);
}

TEST(xor_metric, closer_to_follows_the_xor_distance) {
    const id160 target = id("8000000000000000000000000000000000000000");
    const id160 near = id("8000000000000000000000000000000000000001");
    const id160 far = id("0000000000000000000000000000000000000000");
    EXPECT_TRUE(closer_to(target, near, far));
    EXPECT_FALSE(closer_to(target, far, near));
    EXPECT_FALSE(closer_to(target, near, near));
    // Not numeric closeness: 0x7f.. is numerically next to 0x80.. but maximally far in XOR.
    EXPECT_TRUE(closer_to(target, id("ffffffffffffffffffffffffffffffffffffffff"),
                          id("7fffffffffffffffffffffffffffffffffffffff")));
}

TEST(fixed_id, hashes_for_unordered_containers) {
    std::unordered_set<id160> set{id("0123456789abcdef0123456789abcdef01234567"), id160{}};
    EXPECT_EQ(set.size(), 2u);
    EXPECT_EQ(set.count(id160{}), 1u);
}

}  // namespace
}  // namespace hyphae
