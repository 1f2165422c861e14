#include "hyphae/proto/bittorrent/choker.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include <gtest/gtest.h>

namespace hyphae::bittorrent {
namespace {

const time_point t0 = time_point{} + seconds(100000);

// A peer connected long ago (not new), interested, choked, nothing measured.
choker_peer peer(peer_key key, double download_rate = 0) {
    choker_peer p;
    p.key = key;
    p.interested = true;
    p.download_rate = download_rate;
    p.connected_at = t0 - minutes(30);
    return p;
}

std::set<peer_key> as_set(const std::vector<peer_key>& keys) {
    return std::set<peer_key>(keys.begin(), keys.end());
}

// The regular slots of a decision with 4 upload slots: all but the last (optimistic) entry.
std::set<peer_key> first_three(const std::vector<peer_key>& keys) {
    return std::set<peer_key>(keys.begin(), keys.begin() + std::min<std::ptrdiff_t>(3, std::ssize(keys)));
}

// Applies a decision to the peers' `choked` flags, as the torrent would.
void apply_decision(std::vector<choker_peer>& peers, const std::vector<peer_key>& unchoke) {
    for (auto& p : peers) {
        p.choked = std::find(unchoke.begin(), unchoke.end(), p.key) == unchoke.end();
    }
}

TEST(choker, leecher_unchokes_the_fastest_uploaders_plus_one_optimistic) {
    choker c;
    rng random(1);
    std::vector<choker_peer> peers;
    for (peer_key k = 1; k <= 8; ++k) {
        peers.push_back(peer(k, 1000.0 * k));
    }
    const auto unchoke = c.decide(t0, peers, false, random);
    ASSERT_EQ(unchoke.size(), 4u);
    EXPECT_EQ((std::vector<peer_key>(unchoke.begin(), unchoke.begin() + 3)),
              (std::vector<peer_key>{8, 7, 6}));
    ASSERT_TRUE(c.optimistic());
    EXPECT_EQ(unchoke[3], *c.optimistic());
    EXPECT_LE(*c.optimistic(), 5u);
    EXPECT_EQ(c.next_decision(), t0 + seconds(10));
}

TEST(choker, not_interested_peers_and_seeds_get_no_slot) {
    choker c;
    rng random(2);
    std::vector<choker_peer> peers{peer(1, 1e6), peer(2, 10), peer(3, 5)};
    peers[0].interested = false;  // fastest, but wants nothing
    peers[1].is_seed = true;
    peers[1].interested = true;  // a seed claiming interest is still never unchoked
    const auto unchoke = c.decide(t0, peers, false, random);
    EXPECT_EQ(unchoke, (std::vector<peer_key>{3}));
}

TEST(choker, snubbed_peers_only_through_the_optimistic_slot) {
    choker c;
    rng random(3);
    std::vector<choker_peer> peers{peer(1, 5000), peer(2, 4000), peer(3, 10)};
    peers[0].snubbed = true;
    peers[1].snubbed = true;
    const auto unchoke = c.decide(t0, peers, false, random);
    // Peer 3 takes a regular slot despite its rate; one snubbed peer gets the optimistic slot.
    ASSERT_EQ(unchoke.size(), 2u);
    EXPECT_EQ(unchoke[0], 3u);
    EXPECT_TRUE(unchoke[1] == 1u || unchoke[1] == 2u);
    EXPECT_EQ(c.optimistic(), unchoke[1]);
}

TEST(choker, fewer_peers_than_slots) {
    choker c;
    rng random(4);
    std::vector<choker_peer> peers{peer(1, 10), peer(2, 20)};
    EXPECT_EQ(c.decide(t0, peers, false, random), (std::vector<peer_key>{2, 1}));
    EXPECT_FALSE(c.optimistic()) << "nobody left for the optimistic slot";
    EXPECT_TRUE(c.decide(t0 + seconds(10), {}, false, random).empty());
}

TEST(choker, optimistic_rotates_every_interval) {
    choker c;  // 10 s decisions, 30 s optimistic interval
    rng random(5);
    std::vector<choker_peer> peers;
    for (peer_key k = 1; k <= 10; ++k) {
        peers.push_back(peer(k, k <= 3 ? 1e6 * k : 0));
    }
    std::vector<peer_key> optimists;
    for (int round = 0; round < 9; ++round) {
        const auto unchoke = c.decide(t0 + seconds(10 * round), peers, false, random);
        apply_decision(peers, unchoke);
        ASSERT_EQ(unchoke.size(), 4u);
        EXPECT_EQ(first_three(unchoke), (std::set<peer_key>{1, 2, 3}));
        optimists.push_back(*c.optimistic());
    }
    // Kept for 30 s (three decisions), then a different peer.
    for (int round = 0; round < 9; ++round) {
        if (round % 3 != 0) {
            EXPECT_EQ(optimists[round], optimists[round - 1]) << "round " << round;
        } else if (round > 0) {
            EXPECT_NE(optimists[round], optimists[round - 1]) << "round " << round;
        }
    }
}

TEST(choker, optimistic_is_replaced_at_once_when_it_leaves_or_loses_interest_or_wins_a_slot) {
    choker c;
    rng random(6);
    std::vector<choker_peer> peers{peer(1, 900), peer(2, 800), peer(3, 700), peer(4), peer(5)};
    auto unchoke = c.decide(t0, peers, false, random);
    apply_decision(peers, unchoke);
    const peer_key first = *c.optimistic();
    ASSERT_TRUE(first == 4 || first == 5);
    const peer_key other = first == 4 ? 5 : 4;
    // It loses interest: replaced by the other at the next decision, well within 30 s.
    peers[first - 1].interested = false;
    unchoke = c.decide(t0 + seconds(10), peers, false, random);
    apply_decision(peers, unchoke);
    EXPECT_EQ(c.optimistic(), other);
    EXPECT_FALSE(as_set(unchoke).count(first));
    // The new optimistic peer uploads fast: it wins a regular slot, and a new optimistic is drawn
    // among the choked (peer 3 just lost its slot but is unchoked until this decision applies).
    peers[first - 1].interested = true;
    peers[other - 1].download_rate = 5000;
    unchoke = c.decide(t0 + seconds(20), peers, false, random);
    apply_decision(peers, unchoke);
    EXPECT_EQ(first_three(unchoke), (std::set<peer_key>{other, 1, 2}));
    EXPECT_EQ(c.optimistic(), first);
    // It disconnects: gone from the decision and replaced.
    std::erase_if(peers, [&](const choker_peer& p) { return p.key == first; });
    unchoke = c.decide(t0 + seconds(30), peers, false, random);
    EXPECT_EQ(c.optimistic(), 3u);
    EXPECT_EQ(unchoke.size(), 4u);
}

TEST(choker, optimistic_stays_when_nobody_else_is_waiting) {
    choker c;
    rng random(7);
    std::vector<choker_peer> peers{peer(1, 900), peer(2, 800), peer(3, 700), peer(4)};
    auto unchoke = c.decide(t0, peers, false, random);
    apply_decision(peers, unchoke);
    EXPECT_EQ(c.optimistic(), 4u);
    unchoke = c.decide(t0 + minutes(5), peers, false, random);
    EXPECT_EQ(c.optimistic(), 4u);
    EXPECT_EQ(unchoke.size(), 4u);
}

TEST(choker, new_peers_are_three_times_as_likely_to_be_optimistic) {
    int new_chosen = 0;
    const int trials = 4000;
    for (int i = 0; i < trials; ++i) {
        choker c;
        rng random(static_cast<std::uint64_t>(i));
        std::vector<choker_peer> peers{peer(1, 900), peer(2, 800), peer(3, 700), peer(4), peer(5)};
        peers[4].connected_at = t0 - seconds(20);  // new: within the 60 s window
        c.decide(t0, peers, false, random);
        new_chosen += c.optimistic() == 5u ? 1 : 0;
    }
    // Expected 3/4; the standard deviation over 4000 trials is 0.007.
    const double share = static_cast<double>(new_chosen) / trials;
    EXPECT_GT(share, 0.72);
    EXPECT_LT(share, 0.78);
}

TEST(choker, rate_ties_go_to_the_unchoked_peer_then_at_random) {
    std::set<peer_key> winners;
    for (std::uint64_t seed = 0; seed < 40; ++seed) {
        choker_config config;
        config.upload_slots = 2;  // one regular slot
        choker c(config);
        rng random(seed);
        std::vector<choker_peer> peers{peer(1, 500), peer(2, 500), peer(3, 500)};
        peers[1].choked = false;  // peer 2 holds a slot now
        auto unchoke = c.decide(t0, peers, false, random);
        EXPECT_EQ(unchoke[0], 2u);
        // Among choked equals, either may win.
        std::vector<choker_peer> choked{peer(1, 500), peer(3, 500)};
        choker fresh(config);
        winners.insert(fresh.decide(t0, choked, false, random)[0]);
    }
    EXPECT_EQ(winners, (std::set<peer_key>{1, 3}));
}

TEST(choker, no_slots_and_one_slot) {
    choker_config none;
    none.upload_slots = 0;
    choker closed(none);
    rng random(8);
    std::vector<choker_peer> peers{peer(1, 10), peer(2, 20)};
    EXPECT_TRUE(closed.decide(t0, peers, false, random).empty());
    EXPECT_FALSE(closed.optimistic());

    choker_config one;
    one.upload_slots = 1;
    choker single(one);
    const auto unchoke = single.decide(t0, peers, false, random);
    ASSERT_EQ(unchoke.size(), 1u);
    EXPECT_EQ(unchoke[0], *single.optimistic());
}

TEST(choker, seed_ranks_by_upload_rate_and_ignores_snubbing) {
    choker c;
    rng random(9);
    std::vector<choker_peer> peers;
    for (peer_key k = 1; k <= 6; ++k) {
        choker_peer p = peer(k, 0);
        p.upload_rate = 100.0 * k;
        p.choked = false;
        p.snubbed = k == 6;  // meaningless when we download nothing
        peers.push_back(p);
    }
    const auto unchoke = c.decide(t0, peers, true, random);
    EXPECT_EQ((std::vector<peer_key>(unchoke.begin(), unchoke.begin() + 3)),
              (std::vector<peer_key>{6, 5, 4}));
}

TEST(choker, seed_holders_keep_their_turn_then_yield_to_the_optimistic_peer) {
    choker c;  // seed_turn_duration 60 s
    rng random(10);
    std::vector<choker_peer> peers;
    for (peer_key k = 1; k <= 5; ++k) {
        choker_peer p = peer(k, 0);
        p.choked = k > 3;  // 1, 2, 3 hold slots; 4 and 5 wait
        peers.push_back(p);
    }
    // We upload at this speed to an unchoked peer; 4 and 5 have the fastest links.
    const auto measure = [&] {
        for (auto& p : peers) {
            p.upload_rate = p.choked ? 0 : (p.key <= 3 ? 1000.0 * p.key : 1e6);
        }
    };
    measure();
    auto unchoke = c.decide(t0, peers, true, random);
    apply_decision(peers, unchoke);
    EXPECT_EQ(first_three(unchoke), (std::set<peer_key>{1, 2, 3}));
    // 1, 2, 3 got regular slots at t0: their turns run until t0 + 60 s, although each optimistic
    // peer (4, then 5 from 30 s) is faster than all of them.
    for (int s = 10; s <= 50; s += 10) {
        measure();
        unchoke = c.decide(t0 + seconds(s), peers, true, random);
        apply_decision(peers, unchoke);
        EXPECT_EQ(first_three(unchoke), (std::set<peer_key>{1, 2, 3})) << s;
        ASSERT_EQ(unchoke.size(), 4u);
    }
    const peer_key trial = *c.optimistic();
    // At 60 s the turns are over: the optimistic peer of the moment takes a regular slot, the two
    // fastest former holders keep theirs (nobody else waits), and the slowest, peer 1, yields.
    measure();
    unchoke = c.decide(t0 + seconds(60), peers, true, random);
    apply_decision(peers, unchoke);
    ASSERT_EQ(unchoke.size(), 4u);
    EXPECT_EQ(first_three(unchoke), (std::set<peer_key>{trial, 2, 3}));
    // The optimistic slot goes to the one choked peer left.
    EXPECT_EQ(c.optimistic(), trial == 4 ? 5u : 4u);
}

TEST(choker, optimistic_slot_goes_to_an_unchoked_peer_rather_than_unused) {
    choker_config config;
    config.upload_slots = 2;
    choker c(config);
    rng random(13);
    std::vector<choker_peer> peers{peer(1, 500), peer(2, 900)};
    peers[0].choked = false;  // holds the regular slot, about to lose it to peer 2
    const auto unchoke = c.decide(t0, peers, false, random);
    EXPECT_EQ(unchoke, (std::vector<peer_key>{2, 1}));
    EXPECT_EQ(c.optimistic(), 1u);
}

TEST(choker, seed_turns_serve_every_interested_peer) {
    choker c;
    rng random(11);
    std::vector<choker_peer> peers;
    for (peer_key k = 1; k <= 12; ++k) {
        peers.push_back(peer(k, 0));
    }
    std::map<peer_key, int> unchoked_rounds;
    std::map<peer_key, time_point> unchoked_at;
    std::set<peer_key> regular;
    for (int round = 0; round < 180; ++round) {  // 30 minutes
        const time_point now = t0 + seconds(10 * round);
        for (auto& p : peers) {
            p.upload_rate = p.choked ? 0 : 1000.0 * p.key;  // faster links for higher keys
        }
        const auto unchoke = c.decide(now, peers, true, random);
        ASSERT_EQ(unchoke.size(), 4u);
        const std::set<peer_key> next_regular = first_three(unchoke);
        for (auto& p : peers) {
            const bool now_unchoked = as_set(unchoke).count(p.key) > 0;
            if (regular.count(p.key) && now - unchoked_at[p.key] < seconds(60)) {
                EXPECT_TRUE(next_regular.count(p.key))
                    << "peer " << p.key << " lost its slot during its turn";
            }
            if (p.choked && now_unchoked) {
                unchoked_at[p.key] = now;
            }
            unchoked_rounds[p.key] += now_unchoked ? 1 : 0;
        }
        regular = next_regular;
        apply_decision(peers, unchoke);
    }
    // 4 slots x 180 rounds over 12 peers is 60 rounds each: everyone gets a fair share, the
    // faster links somewhat more.
    int fewest = 180;
    int most = 0;
    for (const auto& p : peers) {
        fewest = std::min(fewest, unchoked_rounds[p.key]);
        most = std::max(most, unchoked_rounds[p.key]);
    }
    std::printf("unchoked rounds per peer: %d to %d\n", fewest, most);
    EXPECT_GE(fewest, 30);
    EXPECT_LE(most, 120);
}

TEST(choker, state_is_bounded_by_the_peers_of_the_last_call) {
    choker c;
    rng random(12);
    for (int round = 0; round < 100; ++round) {
        std::vector<choker_peer> peers;
        for (peer_key k = 0; k < 5; ++k) {
            peers.push_back(peer(static_cast<peer_key>(round * 5) + k, 100.0 * k));
        }
        const auto unchoke = c.decide(t0 + seconds(10 * round), peers, round % 2 == 0, random);
        EXPECT_EQ(unchoke.size(), 4u);
        for (peer_key k : unchoke) {
            EXPECT_GE(k, static_cast<peer_key>(round * 5)) << "a peer of an earlier call";
        }
    }
}

}  // namespace
}  // namespace hyphae::bittorrent
