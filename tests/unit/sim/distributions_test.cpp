#include "hyphae/sim/distributions.hpp"

#include <cmath>

#include <gtest/gtest.h>

namespace hyphae::sim {
namespace {

constexpr int samples = 200000;

TEST(distributions, unit_interval_stays_in_half_open_range_with_mean_one_half) {
    rng random(1);
    double sum = 0;
    double low = 1;
    double high = 0;
    for (int i = 0; i < samples; ++i) {
        const double u = unit_interval(random);
        ASSERT_GE(u, 0.0);
        ASSERT_LT(u, 1.0);
        sum += u;
        low = std::min(low, u);
        high = std::max(high, u);
    }
    // sd of the mean: sqrt(1/12 / n) ~ 0.00065.
    EXPECT_NEAR(sum / samples, 0.5, 0.004);
    EXPECT_LT(low, 0.001);
    EXPECT_GT(high, 0.999);
}

TEST(distributions, unit_interval_uses_fifty_three_bits) {
    // The top 53 bits of one draw, exactly: the same number on every platform.
    rng a(7);
    rng b(7);
    EXPECT_EQ(unit_interval(a), static_cast<double>(b() >> 11) * 0x1.0p-53);
}

TEST(distributions, open_low_interval_never_gives_zero) {
    rng random(2);
    for (int i = 0; i < samples; ++i) {
        const double u = unit_interval_open_low(random);
        ASSERT_GT(u, 0.0);
        ASSERT_LE(u, 1.0);
    }
}

TEST(distributions, standard_normal_has_mean_zero_and_unit_deviation) {
    rng random(3);
    double sum = 0;
    double squares = 0;
    int beyond_two_sd = 0;
    for (int i = 0; i < samples; ++i) {
        const double z = standard_normal(random);
        ASSERT_TRUE(std::isfinite(z));
        sum += z;
        squares += z * z;
        beyond_two_sd += std::abs(z) > 2 ? 1 : 0;
    }
    const double mean = sum / samples;
    const double sd = std::sqrt(squares / samples - mean * mean);
    EXPECT_NEAR(mean, 0.0, 0.01);  // sd of the mean ~0.0022
    EXPECT_NEAR(sd, 1.0, 0.01);
    // P(|z| > 2) = 4.55%.
    EXPECT_NEAR(static_cast<double>(beyond_two_sd) / samples, 0.0455, 0.003);
}

TEST(distributions, same_seed_same_numbers) {
    rng a(99);
    rng b(99);
    for (int i = 0; i < 1000; ++i) {
        ASSERT_EQ(standard_normal(a), standard_normal(b));
    }
}

}  // namespace
}  // namespace hyphae::sim
