#include "hyphae/proto/bittorrent/token_bucket.hpp"

#include <gtest/gtest.h>

namespace hyphae::bittorrent {
namespace {

const time_point t0 = time_point{} + seconds(1000);

TEST(token_bucket, starts_full_and_grants_at_most_the_burst) {
    token_bucket bucket(1000, 500);
    EXPECT_EQ(bucket.grant(t0, 300), 300);
    EXPECT_EQ(bucket.grant(t0, 300), 200);
    EXPECT_EQ(bucket.grant(t0, 300), 0);
    EXPECT_EQ(bucket.grant(t0, 0), 0);
    EXPECT_EQ(bucket.grant(t0, -5), 0);
}

TEST(token_bucket, refills_at_the_rate_and_caps_at_the_burst) {
    token_bucket bucket(1000, 500);
    EXPECT_EQ(bucket.grant(t0, 500), 500);
    EXPECT_EQ(bucket.grant(t0 + milliseconds(100), 1000), 100);
    EXPECT_EQ(bucket.grant(t0 + milliseconds(350), 1000), 250);
    // An hour idle fills the bucket, no more.
    EXPECT_EQ(bucket.grant(t0 + seconds(3600), 100000), 500);
}

TEST(token_bucket, tiny_steps_carry_the_fraction_and_do_not_drift) {
    // 3 bytes/s in 1 ms steps: each step earns 0.003 bytes, so rounding per step would give 0.
    token_bucket bucket(3, 10);
    EXPECT_EQ(bucket.grant(t0, 10), 10);
    std::int64_t total = 0;
    for (int i = 1; i <= 10000; ++i) {
        total += bucket.grant(t0 + milliseconds(i), 1);
    }
    EXPECT_EQ(total, 30);  // exactly 10 s x 3 bytes/s
}

TEST(token_bucket, sustained_rate_over_a_virtual_minute) {
    token_bucket bucket(16384 * 10, 16384);
    std::int64_t sent = 0;
    time_point now = t0;
    for (int i = 0; i < 6000; ++i) {  // 10 ms steps, always wanting a whole block
        sent += bucket.grant(now, 16384);
        now += milliseconds(10);
    }
    // 60 s at 163840 B/s, plus the initial burst, minus the last step's not-yet-refilled tokens.
    EXPECT_GE(sent, 16384 * 10 * 60 - 16384 * 10 / 100);
    EXPECT_LE(sent, 16384 * 10 * 60 + 16384);
}

TEST(token_bucket, zero_rate_is_unlimited) {
    token_bucket bucket(0, 0);
    EXPECT_TRUE(bucket.unlimited());
    EXPECT_EQ(bucket.grant(t0, 1'000'000'000), 1'000'000'000);
    EXPECT_EQ(bucket.grant(t0, 5), 5);
    EXPECT_EQ(bucket.when_available(t0, 1'000'000'000), t0);
}

TEST(token_bucket, when_available_predicts_the_grant) {
    token_bucket bucket(1000, 500);
    EXPECT_EQ(bucket.when_available(t0, 500), t0);  // full before the first grant
    EXPECT_EQ(bucket.grant(t0, 500), 500);
    const auto when = bucket.when_available(t0, 250);
    ASSERT_TRUE(when);
    EXPECT_EQ(*when, t0 + milliseconds(250));
    EXPECT_EQ(bucket.grant(*when - duration(1), 250), 249);  // one nanosecond early: a byte short
    // The fraction of the 250th byte was kept: it completes one nanosecond later.
    EXPECT_EQ(bucket.when_available(*when - duration(1), 1), *when);
    EXPECT_EQ(bucket.grant(*when, 2), 1);
    EXPECT_EQ(bucket.when_available(*when, 1), *when + milliseconds(1));
    EXPECT_EQ(bucket.grant(*when + milliseconds(1), 1), 1);
}

TEST(token_bucket, when_available_rounds_up_and_counts_the_fraction) {
    token_bucket bucket(3, 10);
    EXPECT_EQ(bucket.grant(t0, 10), 10);
    // 1 byte at 3 B/s takes 333333333.33 ns: rounded up, the grant then succeeds.
    const auto when = bucket.when_available(t0, 1);
    ASSERT_TRUE(when);
    EXPECT_EQ(*when, t0 + duration(333'333'334));
    EXPECT_EQ(bucket.grant(*when - duration(1), 1), 0);
    EXPECT_EQ(bucket.grant(*when, 1), 1);
}

TEST(token_bucket, more_than_the_burst_is_never_available) {
    token_bucket bucket(1000, 500);
    EXPECT_FALSE(bucket.when_available(t0, 501));
    token_bucket closed(1000, 0);
    EXPECT_FALSE(closed.when_available(t0, 1));
    EXPECT_EQ(closed.grant(t0 + seconds(10), 1), 0);
}

TEST(token_bucket, time_going_backwards_counts_as_no_time) {
    token_bucket bucket(1000, 500);
    EXPECT_EQ(bucket.grant(t0, 500), 500);
    EXPECT_EQ(bucket.grant(t0 - seconds(5), 10), 0);
    const auto when = bucket.when_available(t0 - seconds(5), 100);
    ASSERT_TRUE(when);
    EXPECT_EQ(*when, t0 + milliseconds(100));
    EXPECT_EQ(bucket.grant(t0 + milliseconds(100), 1000), 100);
}

TEST(token_bucket, huge_waits_saturate_instead_of_overflowing) {
    const std::int64_t huge = std::int64_t{1} << 62;
    token_bucket bucket(1, huge);
    EXPECT_EQ(bucket.grant(t0, huge), huge);
    EXPECT_EQ(bucket.when_available(t0, huge), time_point::max());
    EXPECT_EQ(bucket.grant(t0 + seconds(1), huge), 1);
}

TEST(token_bucket, set_limits_keeps_what_was_earned_and_caps_it) {
    token_bucket bucket(1000, 1000);
    EXPECT_EQ(bucket.grant(t0, 1000), 1000);
    bucket.set_limits(t0 + milliseconds(500), 10, 200);  // 500 earned at the old rate, capped at 200
    EXPECT_EQ(bucket.rate(), 10);
    EXPECT_EQ(bucket.burst(), 200);
    EXPECT_EQ(bucket.grant(t0 + milliseconds(500), 1000), 200);
    EXPECT_EQ(bucket.grant(t0 + milliseconds(1500), 1000), 10);
    bucket.set_limits(t0 + seconds(2), 0, 0);
    EXPECT_EQ(bucket.grant(t0 + seconds(2), 12345), 12345);
    bucket.set_limits(t0 + seconds(3), 100, 50);  // from unlimited: starts full
    EXPECT_EQ(bucket.grant(t0 + seconds(3), 1000), 50);
}

}  // namespace
}  // namespace hyphae::bittorrent
