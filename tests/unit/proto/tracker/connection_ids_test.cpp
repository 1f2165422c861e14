#include "hyphae/proto/tracker/connection_ids.hpp"

#include <gtest/gtest.h>

namespace hyphae::tracker {
namespace {

constexpr std::uint32_t t0 = (1u << 24) + 12345;

struct ids_fixture : ::testing::Test {
    rng random{1};
    connection_ids ids{keyed_hash(random), 120};
    endpoint client = *endpoint::parse("10.1.2.3:6881");
};

TEST_F(ids_fixture, an_id_is_valid_from_its_address_for_two_minutes) {
    const std::uint64_t id = ids.issue(t0, client);
    EXPECT_TRUE(ids.valid(t0, client, id));
    EXPECT_TRUE(ids.valid(t0 + 120, client, id));
    EXPECT_FALSE(ids.valid(t0 + 121, client, id));
    EXPECT_FALSE(ids.valid(t0 + 32768, client, id));  // the 15-bit stamp wrapped: the MAC still knows
    EXPECT_FALSE(ids.valid(t0 + 65536, client, id));
    EXPECT_FALSE(ids.valid(t0, *endpoint::parse("10.1.2.4:6881"), id));
    EXPECT_FALSE(ids.valid(t0, *endpoint::parse("10.1.2.3:6882"), id));
    EXPECT_FALSE(ids.valid(t0, *endpoint::parse("[::ffff:10.1.2.3]:6881"), id));
}

TEST_F(ids_fixture, forged_ids_fail) {
    const std::uint64_t id = ids.issue(t0, client);
    EXPECT_FALSE(ids.valid(t0, client, id ^ 1));
    EXPECT_FALSE(ids.valid(t0, client, id ^ (1ULL << 47)));
    EXPECT_FALSE(ids.valid(t0 + 10, client, id + (10ULL << 48)));     // a later stamp, same MAC
    EXPECT_FALSE(ids.valid(t0, client, id & ~connection_ids::mark));  // the same id without its mark
    EXPECT_FALSE(ids.valid(t0, client, 0));
    EXPECT_FALSE(ids.valid(t0, client, 0x41727101980));
    // Another tracker (another key) does not accept ours.
    rng other_random(2);
    connection_ids other(keyed_hash(other_random), 120);
    EXPECT_FALSE(other.valid(t0, client, id));
    int accepted = 0;
    for (std::uint64_t guess = 0; guess < 100000; ++guess) {
        accepted +=
            ids.valid(t0, client, connection_ids::mark | std::uint64_t{t0 & 0x7fff} << 48 | guess) ? 1 : 0;
    }
    EXPECT_EQ(accepted, 0);
}

TEST_F(ids_fixture, ids_differ_by_time_and_address) {
    EXPECT_NE(ids.issue(t0, client), ids.issue(t0 + 1, client));
    EXPECT_NE(ids.issue(t0, client), ids.issue(t0, *endpoint::parse("10.1.2.4:6881")));
    EXPECT_EQ(ids.issue(t0, client), ids.issue(t0, client));  // no state: the same inputs, the same id
}

// The host routes datagrams by their first byte: requests that carry our ids must never look like
// KRPC ('d' = 0x64), a BEP 15 answer or connect (00 ..), or uTP (type << 4 | 1, type <= 4: <= 0x41).
TEST_F(ids_fixture, every_id_has_its_top_bit_set) {
    for (std::uint32_t t = t0; t < t0 + 40000; t += 7) {
        const std::uint64_t id = ids.issue(t, endpoint{ip_address::v4(t), static_cast<std::uint16_t>(t)});
        EXPECT_TRUE(connection_ids::has_our_mark(id));
        EXPECT_GE(id >> 56, 0x80u);
    }
    EXPECT_FALSE(connection_ids::has_our_mark(0x41727101980));
}

}  // namespace
}  // namespace hyphae::tracker
