#include "hyphae/proto/dht/rtt_estimator.hpp"

#include <gtest/gtest.h>

namespace hyphae::dht {
namespace {

using std::chrono::milliseconds;

TEST(rtt_estimator, starts_at_the_initial_timeout) {
    rtt_estimator rtt(rtt_config{});
    EXPECT_FALSE(rtt.measured());
    EXPECT_EQ(rtt.timeout(), milliseconds(1000));
}

TEST(rtt_estimator, follows_steady_round_trips_down_to_the_floor) {
    rtt_config config;
    config.timeout_min = milliseconds(50);
    rtt_estimator rtt(config);
    for (int i = 0; i < 50; ++i) {
        rtt.sample(milliseconds(100));
    }
    EXPECT_EQ(rtt.smoothed(), milliseconds(100));
    // The variance decays towards zero: the timeout approaches the RTT itself.
    EXPECT_LT(rtt.timeout(), milliseconds(110));
    EXPECT_GE(rtt.timeout(), milliseconds(100));
    for (int i = 0; i < 50; ++i) {
        rtt.sample(milliseconds(1));
    }
    EXPECT_EQ(rtt.timeout(), milliseconds(50));
}

TEST(rtt_estimator, widens_with_jitter_and_stays_under_the_ceiling) {
    rtt_estimator rtt(rtt_config{});
    for (int i = 0; i < 100; ++i) {
        rtt.sample(milliseconds(i % 2 == 0 ? 50 : 350));
    }
    EXPECT_GT(rtt.timeout(), milliseconds(450));
    EXPECT_LE(rtt.timeout(), milliseconds(1500));
    for (int i = 0; i < 10; ++i) {
        rtt.sample(std::chrono::seconds(30));
    }
    EXPECT_EQ(rtt.timeout(), milliseconds(1500));
}

}  // namespace
}  // namespace hyphae::dht
