#include "hyphae/proto/bittorrent/piece_picker.hpp"

#include <algorithm>
#include <initializer_list>
#include <set>

#include <gtest/gtest.h>

namespace hyphae::bittorrent {
namespace {

constexpr std::int64_t kib16 = block_size;

bitfield pieces_of(std::size_t size, std::initializer_list<piece_index> set) {
    bitfield b(size);
    for (piece_index p : set) {
        b.set(p);
    }
    return b;
}

std::set<piece_index> pieces_in(const std::vector<block_ref>& blocks) {
    std::set<piece_index> out;
    for (const block_ref& b : blocks) {
        out.insert(b.piece);
    }
    return out;
}

picker_config rarest_only() {
    picker_config config;
    config.random_first_pieces_max = 0;
    return config;
}

// Receives and passes every block of `piece`.
void finish(piece_picker& picker, piece_index piece, peer_key from) {
    for (std::uint32_t b = 0; b < picker.blocks_in_piece(piece); ++b) {
        picker.block_received({piece, b}, from);
    }
    picker.piece_passed(piece);
}

TEST(piece_picker, geometry_of_pieces_and_blocks) {
    // 3 full pieces of 4 blocks, then a last piece of 1 full block and a 100-byte block.
    piece_picker picker(4 * kib16, 3 * 4 * kib16 + kib16 + 100);
    EXPECT_EQ(picker.piece_count(), 4u);
    EXPECT_EQ(picker.blocks_in_piece(0), 4u);
    EXPECT_EQ(picker.blocks_in_piece(3), 2u);
    EXPECT_EQ(picker.block_length({0, 3}), block_size);
    EXPECT_EQ(picker.block_length({3, 0}), block_size);
    EXPECT_EQ(picker.block_length({3, 1}), 100u);

    // A piece length that is not a multiple of 16 KiB: every piece ends with a short block.
    piece_picker odd(kib16 + 10, 2 * (kib16 + 10) + 5);
    EXPECT_EQ(odd.piece_count(), 3u);
    EXPECT_EQ(odd.blocks_in_piece(0), 2u);
    EXPECT_EQ(odd.block_length({1, 1}), 10u);
    EXPECT_EQ(odd.blocks_in_piece(2), 1u);
    EXPECT_EQ(odd.block_length({2, 0}), 5u);

    piece_picker empty(kib16, 0);
    EXPECT_EQ(empty.piece_count(), 0u);
    EXPECT_TRUE(empty.complete());
    rng random(1);
    EXPECT_TRUE(empty.pick(bitfield(0), 1, 10, random).empty());
    EXPECT_TRUE(empty.check_invariants());
}

TEST(piece_picker, short_last_piece_is_picked_with_its_own_block_count) {
    piece_picker picker(4 * kib16, 4 * kib16 + kib16 + 100, rarest_only());
    const bitfield has = pieces_of(2, {1});
    picker.add_peer_bitfield(has);
    rng random(7);
    const auto blocks = picker.pick(has, 1, 10, random);
    ASSERT_EQ(blocks, (std::vector<block_ref>{{1, 0}, {1, 1}}));
    EXPECT_EQ(picker.block_length(blocks[1]), 100u);
    EXPECT_FALSE(picker.block_received(blocks[0], 1).piece_complete);
    EXPECT_TRUE(picker.block_received(blocks[1], 1).piece_complete);
    picker.piece_passed(1);
    EXPECT_TRUE(picker.have(1));
    EXPECT_EQ(picker.have_count(), 1u);
    EXPECT_TRUE(picker.check_invariants());
}

TEST(piece_picker, rarest_first_with_controlled_availability) {
    // Piece p is held by 5 - (p % 5) peers, piece 9 by one: pieces 4 and 9 first, 0 and 5 last.
    const std::size_t n = 10;
    piece_picker picker(2 * kib16, 10 * 2 * kib16, rarest_only());
    std::vector<bitfield> peers(6, bitfield(n));
    for (piece_index p = 0; p < n; ++p) {
        const std::size_t holders = p == 9 ? 1 : 5 - (p % 5);
        for (std::size_t i = 0; i < holders; ++i) {
            peers[i].set(p);
        }
    }
    for (const auto& has : peers) {
        picker.add_peer_bitfield(has);
    }
    EXPECT_EQ(picker.availability(9), 1u);
    EXPECT_EQ(picker.availability(4), 1u);
    EXPECT_EQ(picker.availability(0), 5u);
    const bitfield everything(n, true);
    rng random(3);
    std::vector<std::uint32_t> seen;
    for (std::size_t i = 0; i < n; ++i) {
        const auto blocks = picker.pick(everything, 100, 2, random);
        ASSERT_EQ(blocks.size(), 2u);
        ASSERT_EQ(pieces_in(blocks).size(), 1u) << "one whole piece per pick of 2 blocks";
        seen.push_back(picker.availability(blocks[0].piece));
    }
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    EXPECT_EQ(seen, (std::vector<std::uint32_t>{1, 1, 2, 2, 3, 3, 4, 4, 5, 5}));
    EXPECT_TRUE(picker.check_invariants());
}

TEST(piece_picker, availability_changes_reorder_the_picks) {
    const std::size_t n = 4;
    piece_picker picker(kib16, 4 * kib16, rarest_only());
    const bitfield all(n, true);
    picker.add_peer_bitfield(all);
    picker.add_peer_bitfield(all);
    picker.add_peer_have(2);  // piece 2 now has 3 holders
    picker.remove_peer_bitfield(pieces_of(n, {0, 1, 3}));
    picker.add_peer_have(0);
    picker.add_peer_have(0);  // availability: 0 -> 3, 1 -> 1, 2 -> 3, 3 -> 1
    EXPECT_EQ(picker.availability(0), 3u);
    EXPECT_EQ(picker.availability(1), 1u);
    EXPECT_EQ(picker.availability(2), 3u);
    EXPECT_EQ(picker.availability(3), 1u);
    EXPECT_TRUE(picker.check_invariants());
    rng random(11);
    const auto first = picker.pick(all, 9, 2, random);
    EXPECT_EQ(pieces_in(first), (std::set<piece_index>{1, 3}));
}

TEST(piece_picker, ties_are_broken_randomly_so_peers_spread_out) {
    const std::size_t n = 200;
    piece_picker picker(kib16, static_cast<std::int64_t>(n) * kib16, rarest_only());
    const bitfield all(n, true);
    picker.add_peer_bitfield(all);
    picker.add_peer_have(0);  // every piece is held by one peer, piece 0 by two
    rng random(5);
    std::set<piece_index> first_picks;
    for (peer_key peer = 0; peer < 20; ++peer) {
        const auto blocks = picker.pick(all, peer, 1, random);
        ASSERT_EQ(blocks.size(), 1u);
        EXPECT_NE(blocks[0].piece, 0u);
        first_picks.insert(blocks[0].piece);
    }
    EXPECT_EQ(first_picks.size(), 20u) << "each peer started its own piece";
    // Same seed, same state: the same choice (determinism).
    piece_picker a(kib16, 50 * kib16, rarest_only());
    piece_picker b(kib16, 50 * kib16, rarest_only());
    const bitfield all50(50, true);
    a.add_peer_bitfield(all50);
    b.add_peer_bitfield(all50);
    rng ra(99);
    rng rb(99);
    EXPECT_EQ(a.pick(all50, 1, 5, ra), b.pick(all50, 1, 5, rb));
}

TEST(piece_picker, random_first_until_enough_pieces_are_ours) {
    // Piece 0 is by far the rarest. In random-first mode it is only one of many choices.
    const std::size_t n = 64;
    picker_config config;
    config.random_first_pieces_max = 2;
    piece_picker picker(kib16, static_cast<std::int64_t>(n) * kib16, config);
    bitfield common(n, true);
    common.reset(0);
    for (int i = 0; i < 5; ++i) {
        picker.add_peer_bitfield(common);
    }
    const bitfield all(n, true);
    picker.add_peer_bitfield(all);
    rng random(17);
    std::set<piece_index> random_phase;
    for (peer_key peer = 0; peer < 16; ++peer) {
        const auto blocks = picker.pick(all, peer, 1, random);
        ASSERT_EQ(blocks.size(), 1u);
        random_phase.insert(blocks[0].piece);
        picker.abort_request(blocks[0], peer);
    }
    EXPECT_GT(random_phase.size(), 8u) << "spread over many pieces, not the rarest";
    // Two pieces complete: rarest first from now on.
    finish(picker, 10, 1);
    finish(picker, 20, 1);
    for (peer_key peer = 0; peer < 4; ++peer) {
        const auto blocks = picker.pick(all, peer, 1, random);
        ASSERT_EQ(blocks.size(), 1u);
        EXPECT_EQ(blocks[0].piece, 0u);
        picker.abort_request(blocks[0], peer);
    }
}

TEST(piece_picker, partial_pieces_first_most_complete_first) {
    const std::size_t n = 6;
    piece_picker picker(4 * kib16, static_cast<std::int64_t>(n) * 4 * kib16, rarest_only());
    const bitfield all(n, true);
    picker.add_peer_bitfield(all);
    picker.add_peer_bitfield(pieces_of(n, {0, 1, 2, 3, 4}));  // piece 5 is the rarest
    // Peer 1 starts pieces 2 (one block in flight) and 3 (three blocks received).
    picker.block_received({3, 0}, 1);
    picker.block_received({3, 1}, 1);
    picker.block_received({3, 2}, 1);
    rng random(2);
    const bitfield has_2_only = pieces_of(n, {2});
    picker.add_peer_bitfield(has_2_only);
    ASSERT_EQ(picker.pick(has_2_only, 1, 1, random), (std::vector<block_ref>{{2, 0}}));
    // Peer 2 has everything: piece 3 (1 block free) before piece 2 (3 free), before rarest 5.
    const auto blocks = picker.pick(all, 2, 5, random);
    EXPECT_EQ(blocks, (std::vector<block_ref>{{3, 3}, {2, 1}, {2, 2}, {2, 3}, {5, 0}}));
    EXPECT_TRUE(picker.check_invariants());
}

TEST(piece_picker, suggested_pieces_come_after_partial_ones_and_before_rarest) {
    const std::size_t n = 8;
    piece_picker picker(2 * kib16, static_cast<std::int64_t>(n) * 2 * kib16, rarest_only());
    const bitfield all(n, true);
    picker.add_peer_bitfield(all);
    picker.add_peer_bitfield(pieces_of(n, {0, 1, 2, 3, 4, 5, 6}));  // 7 is the rarest
    picker.block_received({1, 0}, 3);                               // 1 is partial
    rng random(4);
    const std::vector<piece_index> suggest{6, 4};
    pick_options options;
    options.suggested = suggest;
    const auto blocks = picker.pick(all, 2, 6, random, options);
    EXPECT_EQ(blocks, (std::vector<block_ref>{{1, 1}, {6, 0}, {6, 1}, {4, 0}, {4, 1}, {7, 0}}));
    // A suggested piece the peer lacks or we have is skipped.
    picker.add_peer_bitfield(pieces_of(n, {0}));
    finish(picker, 0, 5);
    const std::vector<piece_index> stale{0, 3};
    options.suggested = stale;
    const bitfield some = pieces_of(n, {2, 5});
    EXPECT_EQ(pieces_in(picker.pick(some, 3, 1, random, options)).size(), 1u);
    EXPECT_TRUE(picker.check_invariants());
}

TEST(piece_picker, restriction_set_limits_every_phase) {
    const std::size_t n = 10;
    piece_picker picker(2 * kib16, static_cast<std::int64_t>(n) * 2 * kib16, rarest_only());
    const bitfield all(n, true);
    picker.add_peer_bitfield(all);
    picker.add_peer_bitfield(pieces_of(n, {0, 1, 2, 3, 4, 5, 6, 7, 8}));  // 9 is the rarest
    picker.block_received({0, 0}, 4);                                     // 0 is partial
    rng random(8);
    const std::vector<piece_index> allowed{3, 6, 42};  // out of range entries are ignored
    pick_options options;
    options.restrict_to = allowed;
    const auto blocks = picker.pick(all, 1, 10, random, options);
    EXPECT_EQ(pieces_in(blocks), (std::set<piece_index>{3, 6}));
    EXPECT_EQ(blocks.size(), 4u);
    // Nothing else is allowed: an empty answer, even though other pieces are free.
    EXPECT_TRUE(picker.pick(all, 1, 10, random, options).empty());
    // An empty restriction allows nothing.
    options.restrict_to = std::span<const piece_index>{};
    EXPECT_TRUE(picker.pick(all, 2, 10, random, options).empty());
    EXPECT_TRUE(picker.check_invariants());
}

TEST(piece_picker, endgame_duplicates_and_cancels) {
    const std::size_t n = 2;
    piece_picker picker(2 * kib16, 2 * 2 * kib16, rarest_only());  // 4 blocks in all
    const bitfield all(n, true);
    for (int i = 0; i < 3; ++i) {
        picker.add_peer_bitfield(all);
    }
    rng random(6);
    EXPECT_EQ(picker.pick(all, 1, 3, random).size(), 3u);
    EXPECT_FALSE(picker.in_endgame());
    EXPECT_EQ(picker.pick(all, 2, 1, random).size(), 1u);
    EXPECT_TRUE(picker.in_endgame());
    // Peer 2 may now duplicate peer 1's three blocks, not its own.
    const auto dup2 = picker.pick(all, 2, 10, random);
    EXPECT_EQ(dup2.size(), 3u);
    // Peer 3 gets only the block with one request (peer 2's); the rest have two, the maximum.
    const auto dup3 = picker.pick(all, 3, 10, random);
    ASSERT_EQ(dup3.size(), 1u);
    EXPECT_TRUE(std::find(dup2.begin(), dup2.end(), dup3[0]) == dup2.end());
    EXPECT_TRUE(picker.pick(all, 1, 10, random).empty()) << "a peer never asks twice for a block";
    // The block arrives from peer 1: peer 2 asked for it too and gets a cancel.
    const auto got = picker.block_received(dup2[0], 1);
    EXPECT_EQ(got.cancel_at, (std::vector<peer_key>{2}));
    EXPECT_FALSE(got.piece_complete);
    // A late copy from peer 2 is ignored.
    EXPECT_TRUE(picker.block_received(dup2[0], 2).cancel_at.empty());
    EXPECT_TRUE(picker.check_invariants());

    // With one request per block, endgame requests nothing more.
    picker_config single = rarest_only();
    single.endgame_duplicates_max = 1;
    piece_picker strict(kib16, 2 * kib16, single);
    strict.add_peer_bitfield(all);
    strict.add_peer_bitfield(all);
    EXPECT_EQ(strict.pick(all, 1, 5, random).size(), 2u);
    EXPECT_TRUE(strict.in_endgame());
    EXPECT_TRUE(strict.pick(all, 2, 5, random).empty());
}

TEST(piece_picker, endgame_waits_only_for_pieces_some_peer_has) {
    const std::size_t n = 3;
    piece_picker picker(kib16, 3 * kib16, rarest_only());
    const bitfield two = pieces_of(n, {0, 1});
    picker.add_peer_bitfield(two);
    rng random(9);
    EXPECT_EQ(picker.pick(two, 1, 5, random).size(), 2u);
    EXPECT_TRUE(picker.in_endgame()) << "piece 2 is free but nobody has it";
    picker.add_seed();
    EXPECT_FALSE(picker.in_endgame()) << "a seed has piece 2";
    EXPECT_EQ(picker.availability(2), 1u);
    EXPECT_EQ(picker.availability(0), 2u);
    picker.remove_seed();
    EXPECT_TRUE(picker.in_endgame());
    picker.add_peer_have(2);
    EXPECT_FALSE(picker.in_endgame());
}

TEST(piece_picker, seeds_count_once_and_only_full_bitfields_see_unregistered_pieces) {
    const std::size_t n = 5;
    piece_picker picker(kib16, 5 * kib16, rarest_only());
    picker.add_seed();
    picker.add_seed();
    picker.add_peer_bitfield(pieces_of(n, {1, 2, 3, 4}));
    for (piece_index p = 0; p < n; ++p) {
        EXPECT_EQ(picker.availability(p), p == 0 ? 2u : 3u);
    }
    rng random(12);
    const bitfield all(n, true);
    // Piece 0 is held by the seeds alone: the rarest, picked from a seed.
    EXPECT_EQ(picker.pick(all, 7, 1, random), (std::vector<block_ref>{{0, 0}}));
    picker.remove_seed();
    EXPECT_EQ(picker.availability(3), 2u);
    EXPECT_TRUE(picker.check_invariants());
}

TEST(piece_picker, abort_frees_the_block_unless_others_hold_it) {
    piece_picker picker(2 * kib16, 2 * kib16, rarest_only());
    const bitfield all(1, true);
    picker.add_peer_bitfield(all);
    rng random(1);
    const auto blocks = picker.pick(all, 1, 1, random);
    ASSERT_EQ(blocks, (std::vector<block_ref>{{0, 0}}));
    picker.abort_request(blocks[0], 2);  // peer 2 never asked: no-op
    EXPECT_EQ(picker.pick(all, 2, 1, random), (std::vector<block_ref>{{0, 1}}));
    picker.abort_request(blocks[0], 1);
    EXPECT_EQ(picker.pick(all, 3, 1, random), (std::vector<block_ref>{{0, 0}}));
    // A received block stays received when its (stale) request is aborted.
    picker.block_received({0, 0}, 3);
    picker.abort_request({0, 0}, 3);
    EXPECT_EQ(picker.pick(all, 4, 5, random), (std::vector<block_ref>{{0, 1}}))  // endgame duplicate
        << "only block 1 (peer 2's) can be asked for again";
    EXPECT_TRUE(picker.check_invariants());
}

TEST(piece_picker, peer_gone_releases_all_its_requests) {
    const std::size_t n = 4;
    piece_picker picker(2 * kib16, 4 * 2 * kib16, rarest_only());
    const bitfield all(n, true);
    picker.add_peer_bitfield(all);
    rng random(21);
    const auto first = picker.pick(all, 1, 5, random);
    ASSERT_EQ(first.size(), 5u);
    picker.block_received(first[0], 1);
    picker.peer_gone(1);
    EXPECT_TRUE(picker.check_invariants());
    EXPECT_FALSE(picker.in_endgame());
    // Everything but the received block is free again: 7 blocks, the partial piece first.
    const auto again = picker.pick(all, 2, 10, random);
    EXPECT_EQ(again.size(), 7u);
    EXPECT_EQ(again[0].piece, first[0].piece);
    EXPECT_TRUE(std::find(again.begin(), again.end(), first[0]) == again.end());
}

TEST(piece_picker, failed_piece_frees_its_blocks_and_names_the_senders) {
    piece_picker picker(3 * kib16, 2 * 3 * kib16, rarest_only());
    const bitfield all(2, true);
    picker.add_peer_bitfield(all);
    picker.block_received({1, 0}, 7);
    picker.block_received({1, 1}, 3);
    EXPECT_TRUE(picker.block_received({1, 2}, 7).piece_complete);
    EXPECT_EQ(picker.piece_failed(1), (std::vector<peer_key>{3, 7}));
    EXPECT_FALSE(picker.have(1));
    EXPECT_TRUE(picker.check_invariants());
    rng random(2);
    // Piece 1 is a fresh piece again, all three blocks free.
    const auto blocks = picker.pick(pieces_of(2, {1}), 1, 5, random);
    EXPECT_EQ(blocks, (std::vector<block_ref>{{1, 0}, {1, 1}, {1, 2}}));
    EXPECT_TRUE(picker.piece_failed(0).empty()) << "never started";
}

TEST(piece_picker, unrequested_duplicate_and_stale_blocks) {
    piece_picker picker(2 * kib16, 2 * 2 * kib16, rarest_only());
    const bitfield all(2, true);
    picker.add_peer_bitfield(all);
    // Unrequested but missing: taken.
    auto got = picker.block_received({0, 1}, 5);
    EXPECT_FALSE(got.piece_complete);
    EXPECT_TRUE(got.cancel_at.empty());
    rng random(3);
    EXPECT_EQ(picker.pick(all, 1, 1, random), (std::vector<block_ref>{{0, 0}}));
    // Arrives from someone else than the requester: taken, and the requester gets a cancel.
    got = picker.block_received({0, 0}, 6);
    EXPECT_TRUE(got.piece_complete);
    EXPECT_EQ(got.cancel_at, (std::vector<peer_key>{1}));
    // Duplicate: ignored.
    got = picker.block_received({0, 0}, 1);
    EXPECT_FALSE(got.piece_complete);
    picker.piece_passed(0);
    // A block of a piece we have: ignored.
    EXPECT_FALSE(picker.block_received({0, 1}, 1).piece_complete);
    EXPECT_EQ(picker.piece_failed(0), std::vector<peer_key>{});
    EXPECT_TRUE(picker.have(0));
    EXPECT_TRUE(picker.check_invariants());
}

TEST(piece_picker, set_have_forgets_pending_requests_and_completes) {
    const std::size_t n = 3;
    piece_picker picker(kib16, 3 * kib16, rarest_only());
    const bitfield all(n, true);
    picker.add_peer_bitfield(all);
    EXPECT_TRUE(picker.is_interesting(all));
    rng random(4);
    ASSERT_EQ(picker.pick(all, 1, 3, random).size(), 3u);
    picker.set_have(0);
    picker.set_have(1);
    picker.set_have(1);
    EXPECT_EQ(picker.have_count(), 2u);
    EXPECT_TRUE(picker.check_invariants());
    EXPECT_FALSE(picker.is_interesting(pieces_of(n, {0, 1})));
    EXPECT_TRUE(picker.is_interesting(pieces_of(n, {2})));
    picker.abort_request({0, 0}, 1);  // stale: no-op
    EXPECT_TRUE(picker.in_endgame());
    picker.block_received({2, 0}, 1);
    picker.piece_passed(2);
    EXPECT_TRUE(picker.complete());
    EXPECT_FALSE(picker.in_endgame());
    EXPECT_TRUE(picker.pick(all, 1, 3, random).empty());
    EXPECT_FALSE(picker.is_interesting(all));
    EXPECT_EQ(picker.have_bitfield(), all);
    // Availability is still tracked for pieces we have (for the choker and for display).
    picker.remove_peer_bitfield(all);
    EXPECT_EQ(picker.availability(1), 0u);
    EXPECT_TRUE(picker.check_invariants());
}

}  // namespace
}  // namespace hyphae::bittorrent
