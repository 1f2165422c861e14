#include "hyphae/proto/tracker/tracker_state.hpp"

#include <gtest/gtest.h>

namespace hyphae::tracker {
namespace {

constexpr std::uint32_t t0 = 1u << 24;
constexpr std::uint32_t ttl = 1000;

peer_announce peer(int swarm, int n, bool seeder, bool v6 = false) {
    peer_announce a;
    a.info_hash.bytes.fill(static_cast<std::uint8_t>(swarm));
    a.peer_id.bytes.fill(static_cast<std::uint8_t>(n));
    a.address = v6 ? endpoint{*ip_address::parse("2001:db8::" + std::to_string(n)), 7}
                   : endpoint{ip_address::v4(0x0a000000u + static_cast<std::uint32_t>(n)), 6881};
    a.seeder = seeder;
    return a;
}

struct state_fixture : ::testing::Test {
    rng random{3};
    keyed_hash hash{random};
    swarm_limits limits;
    swarm_table source{limits, hash};

    void SetUp() override {
        for (int i = 0; i < 50; ++i) {
            peer_announce a = peer(i % 5, i, i % 3 == 0, i % 7 == 0);
            a.event = i % 4 == 0 ? announce_event::completed : announce_event::none;
            source.announce(t0 + static_cast<std::uint32_t>(i), a, ttl, random);
        }
    }

    result<tracker_state_summary> restore(swarm_table& into, byte_view file, std::int64_t downtime = 0,
                                          std::function<bool(const sha1_hash&)> allowed = nullptr) {
        if (!allowed) {
            allowed = [](const sha1_hash&) {
                return true;
            };
        }
        return restore_tracker_state(file, into, t0 + 100, 5000 + downtime, ttl, 10'000, allowed);
    }
};

TEST_F(state_fixture, restores_every_swarm_and_peer) {
    const byte_buffer file = encode_tracker_state(source, t0 + 100, 5000);
    swarm_table copy(limits, hash);
    auto summary = restore(copy, file);
    ASSERT_TRUE(summary) << summary.error().message();
    EXPECT_EQ(summary->swarms, 5u);
    EXPECT_EQ(summary->peers, 50u);
    EXPECT_EQ(summary->refused, 0u);
    EXPECT_EQ(copy.swarms(), source.swarms());
    EXPECT_EQ(copy.peers(), source.peers());
    EXPECT_EQ(copy.seeders(), source.seeders());
    for (int s = 0; s < 5; ++s) {
        sha1_hash h;
        h.bytes.fill(static_cast<std::uint8_t>(s));
        EXPECT_EQ(copy.counts(h), source.counts(h)) << s;
    }
    // Completed flags came along: a repeated 'completed' is not counted again.
    peer_announce again = peer(0, 0, true, true);
    again.event = announce_event::completed;
    const std::uint32_t before = copy.counts(again.info_hash).completed;
    copy.announce(t0 + 200, again, ttl, random);
    EXPECT_EQ(copy.counts(again.info_hash).completed, before);
    // And the same file again, written from the copy, is the same bytes' worth.
    EXPECT_EQ(encode_tracker_state(copy, t0 + 100, 5000).size(), file.size());
}

TEST_F(state_fixture, ages_peers_by_the_downtime) {
    const byte_buffer file = encode_tracker_state(source, t0 + 100, 5000);
    swarm_table copy(limits, hash);
    // Peer i announced at t0 + i: its age at the save is 100 - i; with 920 s down, ages above 1000 go.
    auto summary = restore(copy, file, 920);
    ASSERT_TRUE(summary);
    EXPECT_EQ(summary->peers, 30u);  // i = 20..49
    EXPECT_EQ(summary->peers_expired, 20u);
    EXPECT_EQ(summary->downtime_seconds, 920);
}

TEST_F(state_fixture, keeps_bounds_and_the_allow_list) {
    const byte_buffer file = encode_tracker_state(source, t0 + 100, 5000);
    swarm_limits small;
    small.swarms_max = 3;
    small.peers_max = 20;
    swarm_table copy(small, hash);
    auto summary = restore(copy, file);
    ASSERT_TRUE(summary);
    EXPECT_EQ(copy.swarms(), 3u);
    EXPECT_EQ(copy.peers(), 20u);
    EXPECT_EQ(summary->refused, 10u + 2 * (1 + 10));  // the third swarm's peers, two whole swarms
    swarm_table filtered(limits, hash);
    summary = restore(filtered, file, 0, [](const sha1_hash& h) { return h.bytes[0] == 1; });
    ASSERT_TRUE(summary);
    EXPECT_EQ(filtered.swarms(), 1u);
    EXPECT_EQ(filtered.peers(), 10u);
}

TEST_F(state_fixture, refuses_damaged_files_before_changing_anything) {
    const byte_buffer file = encode_tracker_state(source, t0 + 100, 5000);
    swarm_table copy(limits, hash);
    auto expect_refused = [&](byte_view bad, std::string_view why) {
        auto summary = restore(copy, bad);
        ASSERT_FALSE(summary) << why;
        EXPECT_NE(summary.error().message().find(why), std::string::npos) << summary.error().message();
        EXPECT_EQ(copy.swarms(), 0u);
    };
    expect_refused(byte_view(file).first(file.size() - 1), "checksum");
    expect_refused(byte_view(file).first(30), "not a Hyphae tracker state file");
    byte_buffer flipped = file;
    flipped[100] ^= 1;
    expect_refused(flipped, "checksum");
    expect_refused(as_bytes("something else entirely, at some length to pass the size check"),
                   "not a Hyphae");
    // A file whose checksum holds but whose counts lie (written by another program).
    byte_buffer lying(file.begin(), file.end() - 20);
    lying[35] ^= 1;  // the peer count
    const sha1_hash digest = sha1(lying);
    lying.insert(lying.end(), digest.bytes.begin(), digest.bytes.end());
    expect_refused(lying, "its header says");
    byte_buffer future(file.begin(), file.end() - 20);
    future[11] = 9;
    const sha1_hash d2 = sha1(future);
    future.insert(future.end(), d2.bytes.begin(), d2.bytes.end());
    expect_refused(future, "version 9");
    // A save time before 1970 (found by fuzzing: the downtime overflowed).
    byte_buffer ancient(file.begin(), file.end() - 20);
    ancient[12] = 0x80;
    const sha1_hash d3 = sha1(ancient);
    ancient.insert(ancient.end(), d3.bytes.begin(), d3.bytes.end());
    expect_refused(ancient, "before 1970");
}

TEST_F(state_fixture, a_save_from_the_future_counts_as_no_downtime) {
    const byte_buffer file = encode_tracker_state(source, t0 + 100, 5000);
    swarm_table copy(limits, hash);
    auto summary =
        restore_tracker_state(file, copy, t0 + 100, 4000, ttl, 10'000, [](const sha1_hash&) { return true; });
    ASSERT_TRUE(summary);
    EXPECT_EQ(summary->downtime_seconds, 0);
    EXPECT_EQ(summary->peers, 50u);
}

TEST_F(state_fixture, an_empty_table_round_trips) {
    swarm_table empty(limits, hash);
    const byte_buffer file = encode_tracker_state(empty, t0, 1);
    swarm_table copy(limits, hash);
    auto summary = restore(copy, file);
    ASSERT_TRUE(summary);
    EXPECT_EQ(summary->swarms, 0u);
}

}  // namespace
}  // namespace hyphae::tracker
