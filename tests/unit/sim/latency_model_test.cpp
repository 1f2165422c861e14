#include "hyphae/sim/latency_model.hpp"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

namespace hyphae::sim {
namespace {

constexpr int pairs = 20000;

double ms(duration d) {
    return static_cast<double>(d.count()) * 1e-6;
}

// RTTs of random pairs, sorted.
std::vector<double> sample_rtts(const latency_model& model, std::uint64_t seed) {
    rng random(seed);
    std::vector<double> rtts;
    rtts.reserve(pairs);
    for (int i = 0; i < pairs; ++i) {
        const node_place a = model.place(random);
        const node_place b = model.place(random);
        rtts.push_back(2 * ms(model.one_way(a, b)));
    }
    std::sort(rtts.begin(), rtts.end());
    return rtts;
}

double quantile(const std::vector<double>& sorted, double q) {
    return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))];
}

TEST(latency_model, node_place_is_small) {
    static_assert(sizeof(node_place) <= 16);
    EXPECT_EQ(sizeof(node_place), 12u);
}

TEST(latency_model, median_rtt_matches_config) {
    for (double median : {100.0, 50.0, 200.0}) {
        latency_config config;
        config.rtt_median_ms = median;
        const latency_model model(config);
        const auto rtts = sample_rtts(model, 11);
        EXPECT_NEAR(quantile(rtts, 0.5), median, 0.1 * median) << "config median " << median;
    }
}

TEST(latency_model, defaults_have_the_fitted_shape) {
    const latency_model model(latency_config{});
    const auto rtts = sample_rtts(model, 12);
    const double p10 = quantile(rtts, 0.10);
    const double p50 = quantile(rtts, 0.50);
    const double p90 = quantile(rtts, 0.90);
    const double p99 = quantile(rtts, 0.99);
    // Fitted (200,000 pairs): p10 32, p50 100, p90 161, p99 271 ms.
    EXPECT_NEAR(p10, 32, 5);
    EXPECT_NEAR(p90, 161, 12);
    // A long tail from the access links: p99 is well beyond the farthest continents.
    EXPECT_GT(p99 / p50, 2.3);
    EXPECT_LT(p99 / p50, 3.5);
    EXPECT_GT(quantile(rtts, 0.999), 1.5 * p99);
}

TEST(latency_model, one_way_is_symmetric_and_positive) {
    const latency_model model(latency_config{});
    rng random(13);
    for (int i = 0; i < 10000; ++i) {
        const node_place a = model.place(random);
        const node_place b = model.place(random);
        ASSERT_EQ(model.one_way(a, b), model.one_way(b, a));
        ASSERT_GT(model.one_way(a, b), duration::zero());
        ASSERT_GT(model.one_way(a, a), duration::zero());
    }
    // Even two nodes at one point with the smallest access delay.
    const node_place tiny{1, 1, static_cast<float>(latency_model::access_min_ms)};
    EXPECT_GT(model.one_way(tiny, tiny), duration::zero());
}

TEST(latency_model, same_seed_same_places_and_model) {
    latency_config config;
    config.rtt_median_ms = 73;
    const latency_model first(config);
    const latency_model second(config);
    EXPECT_EQ(first.scale(), second.scale());
    rng a(14);
    rng b(14);
    for (int i = 0; i < 1000; ++i) {
        const node_place p = first.place(a);
        const node_place q = second.place(b);
        ASSERT_EQ(p.x, q.x);
        ASSERT_EQ(p.y, q.y);
        ASSERT_EQ(p.access_ms, q.access_ms);
    }
}

TEST(latency_model, jitter_stays_within_its_bound) {
    latency_config config;
    config.jitter = 0.25;
    const latency_model model(config);
    rng random(15);
    const node_place a = model.place(random);
    const node_place b = model.place(random);
    const duration base = model.one_way(a, b);
    const auto bound = duration{static_cast<std::int64_t>(static_cast<double>(base.count()) * 1.25)};
    duration low = bound;
    duration high = base;
    for (int i = 0; i < 10000; ++i) {
        const duration d = model.one_way(a, b, random);
        ASSERT_GE(d, base);
        ASSERT_LE(d, bound);
        low = std::min(low, d);
        high = std::max(high, d);
    }
    // The whole range is used.
    EXPECT_LT(low - base, (bound - base) / 20);
    EXPECT_GT(high - base, (bound - base) * 19 / 20);
}

TEST(latency_model, no_jitter_draws_nothing) {
    const latency_model model(latency_config{});
    rng random(16);
    const node_place a = model.place(random);
    const node_place b = model.place(random);
    rng used(17);
    rng untouched(17);
    EXPECT_EQ(model.one_way(a, b, used), model.one_way(a, b));
    EXPECT_EQ(used(), untouched());
}

}  // namespace
}  // namespace hyphae::sim
