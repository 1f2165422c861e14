// The piece picker at scale: availability updates that would be O(pieces) each, or picks that
// scan every piece, would not finish these tests within ctest's timeout (debug build).

#include <algorithm>
#include <cstdio>
#include <set>

#include <gtest/gtest.h>

#include "hyphae/proto/bittorrent/piece_picker.hpp"

namespace hyphae::bittorrent {
namespace {

picker_config rarest_only() {
    picker_config config;
    config.random_first_pieces_max = 0;
    return config;
}

TEST(piece_picker_scale, a_million_pieces_and_a_million_haves) {
    const piece_index n = 1u << 20;
    piece_picker picker(block_size, std::int64_t{n} * block_size, rarest_only());
    rng random(1);
    // 64 peers announce 16384 pieces each, one have at a time: 2^20 O(1) updates.
    std::vector<bitfield> peers(64, bitfield(n));
    for (auto& has : peers) {
        for (int i = 0; i < 16384; ++i) {
            const auto p = static_cast<piece_index>(random.uniform(n));
            if (!has.test(p)) {
                has.set(p);
                picker.add_peer_have(p);
            }
        }
    }
    // 100000 pieces verified (resume): each leaves the order in O(buckets above it).
    for (piece_index p = 0; p < n; p += 10) {
        picker.set_have(p);
    }
    EXPECT_TRUE(picker.check_invariants());
    // Half the peers leave.
    for (std::size_t i = 0; i < peers.size() / 2; ++i) {
        picker.remove_peer_bitfield(peers[i]);
    }
    EXPECT_TRUE(picker.check_invariants());
    std::uint32_t total = 0;
    for (piece_index p = 0; p < n; ++p) {
        total += picker.availability(p);
    }
    std::size_t expected = 0;
    for (std::size_t i = peers.size() / 2; i < peers.size(); ++i) {
        expected += peers[i].count();
    }
    EXPECT_EQ(total, expected);
}

TEST(piece_picker_scale, picks_look_at_few_pieces) {
    const piece_index n = 100000;
    piece_picker picker(4 * block_size, std::int64_t{n} * 4 * block_size, rarest_only());
    rng random(2);
    std::vector<bitfield> peers(50, bitfield(n));
    for (auto& has : peers) {
        for (piece_index p = 0; p < n; ++p) {
            if (random.uniform(2) == 0) {
                has.set(p);
            }
        }
        picker.add_peer_bitfield(has);
    }
    std::uint64_t first_round_worst = 0;
    std::uint64_t total = 0;
    int picks = 0;
    for (int round = 0; round < 40; ++round) {
        for (peer_key peer = 0; peer < peers.size(); ++peer) {
            const std::uint64_t before = picker.pieces_examined();
            const auto blocks = picker.pick(peers[peer], peer, 32, random);
            ASSERT_EQ(blocks.size(), 32u);
            const std::uint64_t examined = picker.pieces_examined() - before;
            // At worst: the ordered scan's budget, then one pass over the peer's pieces.
            ASSERT_LE(examined, 512u + peers[peer].count());
            first_round_worst = round == 0 ? std::max(first_round_worst, examined) : first_round_worst;
            total += examined;
            ++picks;
            // Half the picked pieces arrive and pass, so the rarest buckets drain as in a download.
            if (peer % 2 == 0) {
                for (const block_ref& b : blocks) {
                    if (picker.block_received(b, peer).piece_complete) {
                        picker.piece_passed(b.piece);
                    }
                }
            }
        }
    }
    // 8 new pieces per pick: a fresh swarm finds them in the rarest buckets after a few dozen looks.
    EXPECT_LT(first_round_worst, 200u);
    // Later, a peer whose pieces in the rarest bucket are gone falls back to its bitfield at times.
    std::printf("%d picks, %.1f pieces examined per pick\n", picks, static_cast<double>(total) / picks);
    EXPECT_LT(total / static_cast<std::uint64_t>(picks), 1000u);
    EXPECT_TRUE(picker.check_invariants());
}

TEST(piece_picker_scale, a_peer_with_few_useful_pieces_is_served_from_its_bitfield) {
    const piece_index n = 50000;
    piece_picker picker(block_size, std::int64_t{n} * block_size, rarest_only());
    const bitfield everything(n, true);
    picker.add_peer_bitfield(everything);  // every piece in bucket 1 at least
    bitfield sparse(n);
    for (piece_index p : {100u, 2000u, 4000u}) {
        sparse.set(p);
    }
    picker.add_peer_bitfield(sparse);
    picker.add_peer_have(2000);  // 100 and 4000 are held by 2 peers, 2000 by 3
    std::set<piece_index> chosen;
    for (std::uint64_t seed = 0; seed < 16; ++seed) {
        rng random(seed);
        const std::uint64_t before = picker.pieces_examined();
        const auto blocks = picker.pick(sparse, 1, 1, random);
        ASSERT_EQ(blocks.size(), 1u);
        EXPECT_NE(blocks[0].piece, 2000u);
        chosen.insert(blocks[0].piece);
        // The ordered scan gives up after its budget; the bitfield pass looks at 3 pieces.
        EXPECT_LE(picker.pieces_examined() - before, 512u + 3u);
        picker.abort_request(blocks[0], 1);
    }
    EXPECT_EQ(chosen, (std::set<piece_index>{100, 4000})) << "random among the equally rare";
    // Random-first mode takes the same path.
    picker_config config;
    config.random_first_pieces_max = 10;
    piece_picker random_first(block_size, std::int64_t{n} * block_size, config);
    random_first.add_peer_bitfield(everything);
    random_first.add_peer_bitfield(sparse);
    rng random(3);
    const auto blocks = random_first.pick(sparse, 1, 3, random);
    std::set<piece_index> pieces;
    for (const auto& b : blocks) {
        pieces.insert(b.piece);
    }
    EXPECT_EQ(pieces, (std::set<piece_index>{100, 2000, 4000}));
    EXPECT_TRUE(random_first.check_invariants());
}

}  // namespace
}  // namespace hyphae::bittorrent
