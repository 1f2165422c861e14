#include "hyphae/core/rng.hpp"

#include <array>

#include <gtest/gtest.h>

namespace hyphae {
namespace {

TEST(rng, same_seed_same_sequence_other_seed_other_sequence) {
    rng a(42);
    rng b(42);
    rng c(43);
    int differing = 0;
    for (int i = 0; i < 1000; ++i) {
        const auto x = a();
        EXPECT_EQ(x, b());
        differing += x != c() ? 1 : 0;
    }
    EXPECT_GT(differing, 990);
}

TEST(rng, sequence_is_fixed_across_platforms) {
    // Pinned values: a change here changes every simulation result recorded with a seed.
    rng r(0);
    EXPECT_EQ(r(), 0x99ec5f36cb75f2b4ULL);
    EXPECT_EQ(r(), 0xbf6e1f784956452aULL);
}

TEST(rng, uniform_stays_in_bounds_and_covers_them_evenly) {
    rng r(1);
    std::array<int, 10> counts{};
    for (int i = 0; i < 100'000; ++i) {
        const auto v = r.uniform(10);
        ASSERT_LT(v, 10u);
        ++counts[v];
    }
    for (int count : counts) {
        EXPECT_NEAR(count, 10'000, 500);
    }
    EXPECT_EQ(r.uniform(1), 0u);
    for (int i = 0; i < 1000; ++i) {
        const double u = r.unit();
        ASSERT_GE(u, 0.0);
        ASSERT_LT(u, 1.0);
    }
}

}  // namespace
}  // namespace hyphae
