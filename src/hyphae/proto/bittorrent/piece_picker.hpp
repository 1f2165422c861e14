#pragma once
// Which blocks of a torrent to request from which peer. A pure data structure owned by the torrent
// machine: it never sends anything, it only answers pick() and records the life of each request.
//
// Contract
// - Availability: register every peer's pieces (add_peer_bitfield, add_peer_have) or, for a peer
//   that has everything, add_seed; undo it when the peer goes (remove_peer_bitfield with the
//   peer's current bitfield, or remove_seed), counting each piece of a peer once. pick() relies
//   on this: for a peer whose bitfield is not all set, pieces no registered peer has are skipped.
// - Requests: pick() records the blocks it returns as requested by `peer` (so two picks never hand
//   out the same free block); the torrent sends them or gives them back with abort_request(). A
//   request ends with block_received, abort_request, peer_gone or the piece's hash result.
// - A piece whose blocks are all received waits for piece_passed (it becomes ours) or
//   piece_failed (all its blocks are free again).
// - Preconditions (piece and block indices in range, bitfields of piece_count() bits) are the
//   caller's: the wire layer validates what peers send before it gets here.
//
// Picking order for one peer, among pieces it has, we lack, and (with restrict_to) are allowed:
//   1. partial pieces (started, some block free), the fewest free blocks first, to finish them;
//   2. suggested pieces (BEP 6), in the order given;
//   3. new pieces: at random while fewer than random_first_pieces_max pieces are ours (so we
//      soon have something to trade), then rarest first with random tie breaks;
//   4. endgame (no block free in any piece a peer has): blocks requested from other peers, never
//      twice from the same peer, fewest requests first, at most endgame_duplicates_max per block.
// Free blocks of a piece go in ascending order (sequential disk writes); endgame blocks in any.
//
// Cost (N pieces, P peers): an availability change is O(1) per piece (a swap at a bucket edge,
// see piece_picker.cpp); a bitfield is registered in O(N / 8) plus O(1) per set bit; have-all
// peers in O(1). A piece starting, becoming ours, or falling back to unstarted moves across the
// buckets above its own: O(P). pick() looks at the partial pieces, the suggested ones, then at
// pieces in availability order until it has enough, at most ordered_scan_pieces_max of them;
// past that (the peer's useful pieces are sparse there) it makes two passes over the peer's
// bitfield instead: O(N / 8) plus the peer's pieces we lack. Endgame picks and peer_gone() look
// at every block of every started piece. Memory: 12 bytes a piece, plus the started pieces'
// blocks.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "hyphae/core/bitfield.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/proto/bittorrent/file_layout.hpp"
#include "hyphae/proto/bittorrent/peer_key.hpp"

namespace hyphae::bittorrent {

struct block_ref {
    piece_index piece = 0;
    std::uint32_t block = 0;  // byte offset within the piece / block_size

    friend bool operator==(const block_ref&, const block_ref&) = default;
};

struct picker_config {
    // New pieces are picked at random, not rarest first, until this many pieces are ours.
    std::size_t random_first_pieces_max = 4;
    // In endgame, requests in flight for one block (from different peers), clamped to 1..16;
    // 1 turns duplicate requests off.
    std::size_t endgame_duplicates_max = 2;
    // Pieces one pick may look at in availability order before it gives up on that walk and goes
    // over the peer's bitfield instead (cheaper when the peer's useful pieces are sparse there).
    std::size_t ordered_scan_pieces_max = 512;
};

struct pick_options {
    // Only these pieces (BEP 6 allowed fast, while the peer chokes us); a small set, searched
    // linearly. Empty optional: no restriction.
    std::optional<std::span<const piece_index>> restrict_to;
    // Preferred after partial pieces (BEP 6 suggest), in this order.
    std::span<const piece_index> suggested;
};

class piece_picker {
public:
    // piece_length > 0, 0 <= total_size, at most 2^31 pieces (as file_layout guarantees).
    piece_picker(std::int64_t piece_length, std::int64_t total_size, picker_config config = {});

    piece_index piece_count() const { return piece_count_; }
    std::uint32_t blocks_in_piece(piece_index piece) const;
    std::uint32_t block_length(block_ref block) const;

    // What we have (resume data, verified pieces). Pending requests of the piece are forgotten.
    void set_have(piece_index piece);
    bool have(piece_index piece) const { return have_.test(piece); }
    std::size_t have_count() const { return have_.count(); }
    bool complete() const { return have_.all(); }
    const bitfield& have_bitfield() const { return have_; }

    // Availability from peers. Have-all peers are counted once, not per piece.
    void add_peer_bitfield(const bitfield& peer_has);
    void remove_peer_bitfield(const bitfield& peer_has);
    void add_peer_have(piece_index piece);
    void add_seed();
    void remove_seed();
    std::uint32_t availability(piece_index piece) const { return pieces_[piece].peers + seeds_; }

    // The peer has a piece we lack.
    bool is_interesting(const bitfield& peer_has) const;

    // Up to `count` blocks for this peer, recorded as requested by it (see the order above).
    std::vector<block_ref> pick(const bitfield& peer_has, peer_key peer, std::size_t count, rng& random,
                                const pick_options& options = {});

    // The request of `peer` for `block` ended unanswered (reject, choke, timeout, cancel): the
    // block is free again unless another peer requested it too or it was received. No-op if
    // `peer` had not requested it.
    void abort_request(block_ref block, peer_key peer);
    // Every request of `peer` is aborted.
    void peer_gone(peer_key peer);

    struct received {
        bool accepted = false;            // new data: write it (false: a duplicate, or a piece we have)
        bool piece_complete = false;      // this block completed the piece: hash it
        std::vector<peer_key> cancel_at;  // other peers with a request for it (endgame): cancel
    };
    // A block arrived. One not requested from `from` is still taken if we lack it; a duplicate or a
    // block of a piece we have is ignored (piece_complete false, nothing to cancel).
    received block_received(block_ref block, peer_key from);

    // The completed piece's hash matched: it is ours.
    void piece_passed(piece_index piece);
    // The hash did not match: all its blocks are free again. Returns the peers that sent blocks of
    // it (sorted, unique), for the torrent's ban logic.
    std::vector<peer_key> piece_failed(piece_index piece);

    // No block is free in any piece a peer has, and some are requested.
    bool in_endgame() const;

    // Pieces pick() has looked at since construction (a diagnostic: proves picks stay cheap).
    std::uint64_t pieces_examined() const { return pieces_examined_; }
    // O(pieces + blocks) self-check of every internal invariant, for tests.
    bool check_invariants() const;

private:
    static constexpr std::uint32_t npos = 0xffffffffu;

    struct piece_entry {
        std::uint32_t peers = 0;        // registered peers that have it, seeds excluded
        std::uint32_t position = npos;  // in order_, npos once started or ours
        std::uint32_t download = npos;  // in downloads_, npos unless started
    };
    struct block_entry {
        bool received = false;
        std::uint8_t requests = 0;  // requesters in flight (0 when received)
        peer_key from = 0;          // who sent it, once received
    };
    struct download {
        piece_index piece = 0;
        std::uint32_t free = 0;        // blocks neither requested nor received
        std::uint32_t received = 0;    // blocks received
        std::uint32_t partial = npos;  // position in partials_, npos when no block is free
        std::vector<block_entry> blocks;
        std::vector<peer_key> requesters;  // duplicates_max_ per block
    };
    class pick_run;

    // Rarest-first order: buckets of equal `peers`.
    std::size_t bucket_begin(std::size_t bucket) const { return bucket == 0 ? 0 : bucket_end_[bucket - 1]; }
    void place(std::uint32_t position, piece_index piece);
    void move_up(piece_index piece);
    void move_down(piece_index piece);
    void remove_from_order(piece_index piece);
    void insert_into_order(piece_index piece);
    void trim_buckets();

    // Free-block accounting, for endgame.
    std::uint32_t free_blocks_of(piece_index piece) const;
    void add_free(piece_index piece, std::int64_t delta);

    // Downloads and requests.
    std::uint32_t start_download(piece_index piece);
    void end_download(std::uint32_t slot);
    void change_free(download& d, std::int64_t delta);
    void unlist_partial(download& d);
    void request(download& d, std::uint32_t block, peer_key peer);
    bool release(download& d, std::uint32_t block, peer_key peer);
    void increment(piece_index piece);
    void decrement(piece_index piece);

    std::int64_t piece_length_;
    std::int64_t total_size_;
    piece_index piece_count_;
    picker_config config_;
    std::uint32_t duplicates_max_;

    bitfield have_;
    std::uint32_t seeds_ = 0;
    std::vector<piece_entry> pieces_;
    std::vector<piece_index> order_;         // pieces we lack and have not started, by `peers`
    std::vector<std::uint32_t> bucket_end_;  // [k]: one past the last position with peers == k
    std::vector<download> downloads_;
    std::vector<piece_index> partials_;  // started pieces with a free block

    std::uint64_t free_blocks_ = 0;         // in pieces we lack
    std::uint64_t free_blocks_unseen_ = 0;  // of those, in pieces with peers == 0
    std::uint64_t requested_blocks_ = 0;    // with a request in flight
    std::uint64_t pieces_examined_ = 0;
};

}  // namespace hyphae::bittorrent
