#include "hyphae/sim/churn_model.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace hyphae::sim {
namespace {

constexpr int samples = 100000;
constexpr auto all_shapes = {lifetime_shape::exponential, lifetime_shape::pareto, lifetime_shape::weibull};

// Sorted samples, in seconds.
std::vector<double> draw(const lifetime_distribution& distribution, std::uint64_t seed) {
    rng random(seed);
    std::vector<double> seconds;
    seconds.reserve(samples);
    for (int i = 0; i < samples; ++i) {
        seconds.push_back(std::chrono::duration<double>(distribution.sample(random)).count());
    }
    std::sort(seconds.begin(), seconds.end());
    return seconds;
}

double quantile(const std::vector<double>& sorted, double q) {
    return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))];
}

double mean(const std::vector<double>& values) {
    double sum = 0;
    for (double v : values) {
        sum += v;
    }
    return sum / static_cast<double>(values.size());
}

TEST(churn_model, every_shape_has_the_configured_median) {
    for (auto shape : all_shapes) {
        for (auto median : {duration{std::chrono::minutes(10)}, duration{std::chrono::hours(1)}}) {
            const lifetime_distribution distribution({shape, median, 0});
            const auto seconds = draw(distribution, 21);
            const double expected = std::chrono::duration<double>(median).count();
            EXPECT_NEAR(quantile(seconds, 0.5), expected, 0.03 * expected) << to_string(shape);
        }
    }
}

TEST(churn_model, means_match_the_analytic_ones) {
    const auto median = std::chrono::minutes(10);
    // Exponential: mean = median / ln 2.
    const lifetime_distribution exponential({lifetime_shape::exponential, median, 0});
    EXPECT_NEAR(exponential.mean_seconds(), 600 / std::log(2.0), 1e-9);
    EXPECT_NEAR(mean(draw(exponential, 22)), exponential.mean_seconds(), 0.02 * exponential.mean_seconds());
    // Weibull k = 0.5: mean = lambda * Gamma(3) = 2 * median / ln2^2.
    const lifetime_distribution weibull({lifetime_shape::weibull, median, 0});
    EXPECT_NEAR(weibull.mean_seconds(), 2 * 600 / std::pow(std::log(2.0), 2), 1e-6);
    EXPECT_NEAR(mean(draw(weibull, 23)), weibull.mean_seconds(), 0.04 * weibull.mean_seconds());
    // Weibull k = 1 is the exponential.
    const lifetime_distribution weibull_one({lifetime_shape::weibull, median, 1});
    EXPECT_NEAR(weibull_one.mean_seconds(), exponential.mean_seconds(), 1e-6);
    // Pareto (Lomax): mean = beta / (alpha - 1); the sample mean is too noisy to test at alpha 1.5,
    // so test a lighter tail.
    const lifetime_distribution pareto({lifetime_shape::pareto, median, 4});
    EXPECT_NEAR(pareto.mean_seconds(), 600 / (std::pow(2.0, 0.25) - 1) / 3, 1e-6);
    EXPECT_NEAR(mean(draw(pareto, 24)), pareto.mean_seconds(), 0.03 * pareto.mean_seconds());
}

TEST(churn_model, pareto_mean_is_infinite_for_alpha_at_most_one) {
    const lifetime_distribution pareto({lifetime_shape::pareto, std::chrono::minutes(10), 1});
    EXPECT_TRUE(std::isinf(pareto.mean_seconds()));
    const auto seconds = draw(pareto, 25);
    EXPECT_NEAR(quantile(seconds, 0.5), 600, 18);
}

TEST(churn_model, default_shape_parameters) {
    const auto median = std::chrono::minutes(10);
    EXPECT_EQ(lifetime_distribution({lifetime_shape::pareto, median, 0}).shape_parameter(), 1.5);
    EXPECT_EQ(lifetime_distribution({lifetime_shape::weibull, median, 0}).shape_parameter(), 0.5);
    EXPECT_EQ(lifetime_distribution({lifetime_shape::weibull, median, 0.7}).shape_parameter(), 0.7);
}

TEST(churn_model, heavy_tails_are_heavier_than_exponential) {
    const auto median = std::chrono::minutes(10);
    const auto exponential = draw(lifetime_distribution({lifetime_shape::exponential, median, 0}), 26);
    const auto pareto = draw(lifetime_distribution({lifetime_shape::pareto, median, 0}), 26);
    const auto weibull = draw(lifetime_distribution({lifetime_shape::weibull, median, 0}), 26);
    // Analytic p99 / median: exponential 6.6, Lomax alpha 1.5 34.9, Weibull k 0.5 44.1.
    EXPECT_NEAR(quantile(exponential, 0.99) / 600, 6.64, 0.3);
    EXPECT_GT(quantile(pareto, 0.99), 4 * quantile(exponential, 0.99));
    EXPECT_GT(quantile(weibull, 0.99), 4 * quantile(exponential, 0.99));
    // And more short sessions too (k < 1): p10 below the exponential's.
    EXPECT_LT(quantile(weibull, 0.10), quantile(exponential, 0.10));
}

TEST(churn_model, samples_stay_in_the_clamped_range) {
    const auto median = std::chrono::seconds(10);
    for (auto shape : all_shapes) {
        const lifetime_distribution distribution(
            {shape, median, shape == lifetime_shape::pareto ? 0.3 : 0.2});
        rng random(27);
        for (int i = 0; i < samples; ++i) {
            const duration d = distribution.sample(random);
            ASSERT_GE(d, lifetime_distribution::sample_min) << to_string(shape);
            ASSERT_LE(d, median * 1000) << to_string(shape);
        }
    }
}

TEST(churn_model, same_seed_same_samples) {
    for (auto shape : all_shapes) {
        const lifetime_distribution distribution({shape, std::chrono::minutes(30), 0});
        rng a(28);
        rng b(28);
        for (int i = 0; i < 1000; ++i) {
            ASSERT_EQ(distribution.sample(a), distribution.sample(b));
        }
    }
}

TEST(churn_model, shape_names_round_trip) {
    for (auto shape : all_shapes) {
        EXPECT_EQ(parse_lifetime_shape(to_string(shape)), shape);
    }
    EXPECT_EQ(to_string(lifetime_shape::weibull), "weibull");
    EXPECT_FALSE(parse_lifetime_shape(""));
    EXPECT_FALSE(parse_lifetime_shape("Pareto"));
    EXPECT_FALSE(parse_lifetime_shape("lognormal"));
    EXPECT_FALSE(parse_lifetime_shape("weibull "));
}

}  // namespace
}  // namespace hyphae::sim
