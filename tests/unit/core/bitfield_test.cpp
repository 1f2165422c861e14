#include "hyphae/core/bitfield.hpp"

#include <gtest/gtest.h>

namespace hyphae {
namespace {

TEST(bitfield, bit_zero_is_the_high_bit_of_the_first_byte) {
    bitfield b(10);
    b.set(0);
    b.set(9);
    EXPECT_EQ(b.wire().size(), 2u);
    EXPECT_EQ(b.wire()[0], 0x80);
    EXPECT_EQ(b.wire()[1], 0x40);
    EXPECT_EQ(b.count(), 2u);
    b.set(9);
    EXPECT_EQ(b.count(), 2u);
    b.reset(0);
    b.reset(0);
    EXPECT_EQ(b.count(), 1u);
    EXPECT_FALSE(b.test(0));
    EXPECT_TRUE(b.test(9));
}

TEST(bitfield, set_all_leaves_spare_bits_clear) {
    bitfield b(10, true);
    EXPECT_TRUE(b.all());
    EXPECT_EQ(b.wire()[1], 0xc0);
    EXPECT_TRUE(bitfield(0, true).all());
    EXPECT_TRUE(bitfield(16, false).none());
}

TEST(bitfield, from_wire_checks_length_and_spare_bits) {
    const std::uint8_t good[] = {0xff, 0xc0};
    auto b = bitfield::from_wire(good, 10);
    ASSERT_TRUE(b);
    EXPECT_TRUE(b->all());
    EXPECT_EQ(*b, bitfield(10, true));
    const std::uint8_t spare[] = {0xff, 0xe0};
    EXPECT_FALSE(bitfield::from_wire(spare, 10));
    EXPECT_FALSE(bitfield::from_wire(good, 17));
    EXPECT_FALSE(bitfield::from_wire(good, 8));
    const std::uint8_t exact[] = {0x01};
    EXPECT_EQ(bitfield::from_wire(exact, 8)->count(), 1u);
}

}  // namespace
}  // namespace hyphae
