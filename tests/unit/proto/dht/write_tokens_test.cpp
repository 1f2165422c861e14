#include "hyphae/proto/dht/write_tokens.hpp"

#include <gtest/gtest.h>

namespace hyphae::dht {
namespace {

const time_point t0 = time_point(std::chrono::hours(1000));  // the start of a period

ip_address ip(std::string_view text) {
    return *ip_address::parse(text);
}

struct write_tokens_fixture : ::testing::Test {
    rng random{1};
    write_tokens tokens{random};
    ip_address requester = ip("203.0.113.7");
};

TEST_F(write_tokens_fixture, a_token_is_accepted_from_its_address_only) {
    const std::string token = tokens.issue(t0, requester);
    EXPECT_EQ(token.size(), write_tokens::token_size);
    EXPECT_TRUE(tokens.check(t0, requester, token));
    EXPECT_TRUE(tokens.check(t0 + seconds(1), requester, token));
    EXPECT_FALSE(tokens.check(t0, ip("203.0.113.8"), token));
    EXPECT_FALSE(tokens.check(t0, ip("2001:db8::7"), token));
    EXPECT_FALSE(tokens.check(t0, ip("cb00:7107::"), token));  // the same first four bytes, in IPv6
    // A dual-stack socket's view of the same IPv4 address is the same requester.
    EXPECT_TRUE(tokens.check(t0, ip("::ffff:203.0.113.7"), token));
    EXPECT_EQ(tokens.issue(t0, ip("::ffff:203.0.113.7")), token);
    const ip_address v6 = ip("2001:db8::7");
    EXPECT_TRUE(tokens.check(t0, v6, tokens.issue(t0, v6)));
    EXPECT_FALSE(tokens.check(t0, ip("2001:db8::8"), tokens.issue(t0, v6)));
}

TEST_F(write_tokens_fixture, a_token_survives_one_rotation_and_not_two) {
    EXPECT_EQ(tokens.rotation(), minutes(5));
    // Issued at the start of a period: ten minutes.
    const std::string early = tokens.issue(t0, requester);
    EXPECT_TRUE(tokens.check(t0 + minutes(5), requester, early));
    EXPECT_TRUE(tokens.check(t0 + minutes(10) - duration(1), requester, early));
    EXPECT_FALSE(tokens.check(t0 + minutes(10), requester, early));
    EXPECT_FALSE(tokens.check(t0 + minutes(60), requester, early));
    // Issued at the end of a period: five minutes.
    const std::string late = tokens.issue(t0 + minutes(5) - duration(1), requester);
    EXPECT_EQ(late, early);
    EXPECT_TRUE(tokens.check(t0 + minutes(10) - duration(1), requester, late));
    EXPECT_FALSE(tokens.check(t0 + minutes(10), requester, late));
    // Each period has its own token.
    EXPECT_NE(tokens.issue(t0 + minutes(5), requester), early);
    EXPECT_NE(tokens.issue(t0 + minutes(10), requester), tokens.issue(t0 + minutes(5), requester));
}

TEST_F(write_tokens_fixture, malformed_and_guessed_tokens_fail) {
    const std::string token = tokens.issue(t0, requester);
    EXPECT_FALSE(tokens.check(t0, requester, ""));
    EXPECT_FALSE(tokens.check(t0, requester, token.substr(0, 7)));
    EXPECT_FALSE(tokens.check(t0, requester, token + "x"));
    EXPECT_FALSE(tokens.check(t0, requester, token.substr(0, 4)));  // libtorrent's length
    EXPECT_FALSE(tokens.check(t0, requester, std::string(8, '\0')));
    EXPECT_FALSE(tokens.check(t0, requester, "aoeusnth"));  // BEP 5's example token
    for (std::size_t i = 0; i < token.size(); ++i) {
        std::string forged = token;
        forged[i] = static_cast<char>(forged[i] ^ 0x01);
        EXPECT_FALSE(tokens.check(t0, requester, forged)) << i;
    }
    rng guesses(99);
    int accepted = 0;
    for (int i = 0; i < 100000; ++i) {
        const std::uint64_t g = guesses();
        std::string guess(8, '\0');
        for (std::size_t b = 0; b < 8; ++b) {
            guess[b] = static_cast<char>(g >> (8 * b));
        }
        accepted += tokens.check(t0, requester, guess) ? 1 : 0;
    }
    EXPECT_EQ(accepted, 0);
}

TEST_F(write_tokens_fixture, a_seed_gives_the_same_tokens_and_another_seed_others) {
    rng same_seed(1);
    const write_tokens again(same_seed);
    EXPECT_EQ(again.issue(t0, requester), tokens.issue(t0, requester));
    rng other_seed(2);
    const write_tokens other(other_seed);
    EXPECT_NE(other.issue(t0, requester), tokens.issue(t0, requester));
    EXPECT_FALSE(other.check(t0, requester, tokens.issue(t0, requester)));
}

TEST(write_tokens, clocks_below_zero_and_other_rotations_work) {
    rng random(3);
    const write_tokens tokens(random, seconds(30));
    const ip_address a = ip("198.51.100.1");
    const time_point start = time_point(-seconds(30));  // the start of a period below zero
    const std::string token = tokens.issue(start, a);
    EXPECT_TRUE(tokens.check(start + seconds(59), a, token));
    EXPECT_FALSE(tokens.check(start + seconds(60), a, token));
    EXPECT_EQ(tokens.issue(start + seconds(29), a), token);
    EXPECT_NE(tokens.issue(start - duration(1), a), token);
}

}  // namespace
}  // namespace hyphae::dht
