#include "hyphae/core/address_rate_limiter.hpp"

#include <gtest/gtest.h>

namespace hyphae {
namespace {

using namespace std::chrono_literals;

const time_point t0 = time_point(1000s);

struct limiter_fixture : ::testing::Test {
    rng random{1};
    keyed_hash hash{random};
    ip_address a = *ip_address::parse("10.0.0.1");
    ip_address b = *ip_address::parse("10.0.0.2");

    static int allowed(address_rate_limiter& limiter, time_point now, const ip_address& from, int tries) {
        int n = 0;
        for (int i = 0; i < tries; ++i) {
            n += limiter.allow(now, from) ? 1 : 0;
        }
        return n;
    }
};

TEST_F(limiter_fixture, lets_a_burst_through_then_the_rate) {
    address_rate_limiter limiter(10, 50, 100, hash);
    EXPECT_EQ(allowed(limiter, t0, a, 80), 50);
    EXPECT_EQ(allowed(limiter, t0, b, 10), 10);  // addresses are apart
    EXPECT_EQ(allowed(limiter, t0 + 1s, a, 80), 10);
    EXPECT_EQ(allowed(limiter, t0 + 1500ms, a, 80), 5);
    EXPECT_EQ(allowed(limiter, t0 + 100s, a, 80), 50);  // full again, no more than the burst
}

TEST_F(limiter_fixture, counts_an_ipv6_64_as_one_address) {
    address_rate_limiter limiter(1, 5, 100, hash);
    EXPECT_EQ(allowed(limiter, t0, *ip_address::parse("2001:db8:1:2::1"), 3), 3);
    EXPECT_EQ(allowed(limiter, t0, *ip_address::parse("2001:db8:1:2:ffff::9"), 3), 2);
    EXPECT_EQ(allowed(limiter, t0, *ip_address::parse("2001:db8:1:3::1"), 3), 3);
}

TEST_F(limiter_fixture, stays_within_its_table_and_lets_new_addresses_through_when_full) {
    address_rate_limiter limiter(1, 2, 4, hash);
    for (std::uint32_t i = 0; i < 4; ++i) {
        EXPECT_EQ(allowed(limiter, t0, ip_address::v4(0x0b000000 + i), 3), 2);
    }
    EXPECT_EQ(limiter.addresses(), 4u);
    EXPECT_EQ(allowed(limiter, t0, b, 5), 5);  // untracked
    EXPECT_EQ(limiter.untracked(), 5u);
    EXPECT_EQ(limiter.addresses(), 4u);
    // Once the old buckets are full again they go, and the new address is tracked.
    EXPECT_EQ(allowed(limiter, t0 + 10s, b, 5), 2);
    EXPECT_EQ(limiter.addresses(), 1u);
    limiter.prune(t0 + 20s);
    EXPECT_EQ(limiter.addresses(), 0u);
}

TEST_F(limiter_fixture, a_zero_rate_is_off) {
    address_rate_limiter limiter(0, 1, 1, hash);
    EXPECT_FALSE(limiter.enabled());
    EXPECT_EQ(allowed(limiter, t0, a, 1000), 1000);
    EXPECT_EQ(limiter.addresses(), 0u);
}

}  // namespace
}  // namespace hyphae
