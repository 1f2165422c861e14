#include "hyphae/core/keyed_hash.hpp"

#include <gtest/gtest.h>

namespace hyphae {
namespace {

TEST(keyed_hash, is_siphash_2_4) {
    keyed_hash::key_type key{};
    for (std::size_t i = 0; i < key.size(); ++i) {
        key[i] = static_cast<std::uint8_t>(i);
    }
    const keyed_hash hash(key);
    // The SipHash paper's vectors, as little-endian words.
    EXPECT_EQ(hash(byte_view{}), 0x726fdb47dd0e0e31ULL);
    byte_buffer message(15);
    for (std::size_t i = 0; i < message.size(); ++i) {
        message[i] = static_cast<std::uint8_t>(i);
    }
    EXPECT_EQ(hash(message), 0xa129ca6149be45e5ULL);
}

TEST(keyed_hash, keys_from_a_seeded_generator_are_reproducible_and_distinct) {
    rng a(1);
    rng b(1);
    rng c(2);
    const byte_buffer data{1, 2, 3};
    EXPECT_EQ(keyed_hash(a)(data), keyed_hash(b)(data));
    EXPECT_NE(keyed_hash(a)(data), keyed_hash(c)(data));
}

}  // namespace
}  // namespace hyphae
