#include "hyphae/proto/bittorrent/piece_picker.hpp"

#include <algorithm>
#include <bit>
#include <cassert>

// Data layout (libtorrent's classic picker, simplified):
// - pieces_[p] holds the piece's registered peer count, its position in order_ and its slot in
//   downloads_ (all O(1) lookups, 12 bytes a piece).
// - order_ lists the pieces we lack and have not started, sorted by peer count, in contiguous
//   buckets (started pieces are found through downloads_ and partials_ instead): bucket k is
//   [bucket_end_[k - 1], bucket_end_[k]) and holds the pieces k peers have. A count going from k
//   to k + 1 swaps the piece with the last of bucket k and shrinks bucket k by one, so the piece
//   becomes the first of bucket k + 1: one swap, whatever the number of pieces. Going down is the
//   mirror image. Seeds are one counter, the same for every piece, so they never reorder anything.
// - downloads_ holds the started pieces (a request in flight or a block received), each with its
//   blocks and a fixed slice of duplicates_max_ requesters per block; partials_ lists those with a
//   free block. A piece leaves order_ when it starts or becomes ours, and comes back (carried down
//   from the last bucket, O(buckets) <= O(peers)) if its download ends without it.
// Picking rarest first walks the buckets upwards from a random point in each (the random tie
// break), so it looks at few pieces when the peer has much of what we lack; when the walk finds
// the peer's pieces too sparse, two passes over its bitfield do instead (scan_bitfield).

namespace hyphae::bittorrent {

namespace {

constexpr std::size_t duplicates_limit = 16;

// Visits, in ascending order, the pieces set in `has` and not in `mask` (if any).
template <class Visit>
void for_each_set_but(const bitfield& has, const bitfield* mask, Visit&& visit) {
    const byte_view a = has.wire();
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto bits = static_cast<std::uint8_t>(mask == nullptr ? a[i] : a[i] & ~mask->wire()[i]);
        while (bits != 0) {
            const int lead = std::countl_zero(bits);
            visit(static_cast<piece_index>(i * 8 + static_cast<std::size_t>(lead)));
            bits = static_cast<std::uint8_t>(bits & ~(0x80u >> lead));
        }
    }
}

}  // namespace

// The state of one pick() call: what the peer has, what it may get, and the blocks picked so far.
class piece_picker::pick_run {
public:
    pick_run(piece_picker& picker, const bitfield& has, peer_key peer, std::size_t count, rng& random,
             const pick_options& options)
        : picker_(picker), has_(has), peer_(peer), count_(count), random_(random), options_(options) {}

    std::vector<block_ref> run() {
        partial();
        suggested();
        fresh();
        if (!done() && picker_.in_endgame()) {
            busy();
        }
        return std::move(picked_);
    }

private:
    struct candidate {
        std::uint32_t rank;  // lower first: peer count, or requests in flight in endgame
        std::uint64_t tie;   // random
        piece_index piece;
        std::uint32_t block;
    };

    bool done() const { return picked_.size() >= count_; }

    void examine() { ++picker_.pieces_examined_; }

    bool wanted(piece_index piece) const {
        if (piece >= picker_.piece_count_ || !has_.test(piece) || picker_.have_.test(piece)) {
            return false;
        }
        if (!options_.restrict_to) {
            return true;
        }
        return std::find(options_.restrict_to->begin(), options_.restrict_to->end(), piece) !=
               options_.restrict_to->end();
    }

    bool started(piece_index piece) const { return picker_.pieces_[piece].download != npos; }

    // Requests the free blocks of `piece`, in order, until done.
    void take_free(piece_index piece) {
        std::uint32_t slot = picker_.pieces_[piece].download;
        if (slot == npos) {
            slot = picker_.start_download(piece);
        }
        download& d = picker_.downloads_[slot];
        const auto blocks = static_cast<std::uint32_t>(d.blocks.size());
        for (std::uint32_t b = 0; b < blocks && d.free > 0 && !done(); ++b) {
            if (!d.blocks[b].received && d.blocks[b].requests == 0) {
                picker_.request(d, b, peer_);
                picked_.push_back({piece, b});
            }
        }
    }

    // Takes pieces in (rank, tie) order until done; each (distinct, new) piece gives at least one
    // block, so only the first `count_ - picked` need sorting.
    void take_ranked(std::vector<candidate> candidates) {
        const std::size_t needed = std::min(candidates.size(), count_ - picked_.size());
        const auto before = [](const candidate& x, const candidate& y) {
            return x.rank != y.rank ? x.rank < y.rank : x.tie < y.tie;
        };
        std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(needed),
                          candidates.end(), before);
        for (std::size_t i = 0; i < needed && !done(); ++i) {
            take_free(candidates[i].piece);
        }
    }

    void partial() {
        std::vector<candidate> candidates;
        for (piece_index piece : picker_.partials_) {
            examine();
            if (wanted(piece)) {
                const std::uint32_t free = picker_.downloads_[picker_.pieces_[piece].download].free;
                candidates.push_back({free, piece, piece, 0});
            }
        }
        std::sort(candidates.begin(), candidates.end(), [](const candidate& x, const candidate& y) {
            return x.rank != y.rank ? x.rank < y.rank : x.piece < y.piece;
        });
        for (const candidate& c : candidates) {
            if (done()) {
                break;
            }
            take_free(c.piece);
        }
    }

    void suggested() {
        for (piece_index piece : options_.suggested) {
            if (done()) {
                break;
            }
            examine();
            if (wanted(piece) && picker_.free_blocks_of(piece) > 0) {
                take_free(piece);
            }
        }
    }

    void fresh() {
        if (done()) {
            return;
        }
        const bool random_first = picker_.have_count() < picker_.config_.random_first_pieces_max;
        if (options_.restrict_to) {
            std::vector<candidate> candidates;
            for (piece_index piece : *options_.restrict_to) {
                examine();
                const bool listed = std::any_of(candidates.begin(), candidates.end(),
                                                [&](const candidate& c) { return c.piece == piece; });
                if (wanted(piece) && !started(piece) && !listed) {
                    candidates.push_back({rank_of(piece, random_first), random_(), piece, 0});
                }
            }
            take_ranked(std::move(candidates));
            return;
        }
        if (!scan_order(random_first)) {
            scan_bitfield(random_first);
        }
    }

    std::uint32_t rank_of(piece_index piece, bool random_first) const {
        return random_first ? 0 : picker_.pieces_[piece].peers;
    }

    // Walks order_ (rarest first, or one random walk in random-first mode) and takes the pieces it
    // finds. False, having taken nothing, when its budget ran out first.
    bool scan_order(bool random_first) {
        // Under the registration contract, a piece with no registered peer is only worth looking
        // at for a peer that has everything (a seed, counted apart).
        const std::size_t first = has_.all() ? 0 : 1;
        std::size_t budget = picker_.config_.ordered_scan_pieces_max;
        // Chosen first, taken after: starting a piece takes it out of order_.
        std::vector<piece_index> chosen;
        std::size_t blocks = 0;
        const std::size_t wanted_blocks = count_ - picked_.size();
        const auto scan = [&](std::size_t begin, std::size_t end) {
            const std::size_t n = end - begin;
            if (n == 0) {
                return true;
            }
            const std::size_t start = random_.uniform(n);
            for (std::size_t k = 0; k < n && blocks < wanted_blocks; ++k) {
                if (budget == 0) {
                    return false;
                }
                --budget;
                examine();
                const piece_index piece = picker_.order_[begin + (start + k) % n];
                if (wanted(piece)) {
                    chosen.push_back(piece);
                    blocks += picker_.blocks_in_piece(piece);
                }
            }
            return true;
        };
        const std::size_t buckets = picker_.bucket_end_.size();
        bool finished = true;
        if (random_first) {
            finished = first >= buckets || scan(picker_.bucket_begin(first), picker_.order_.size());
        } else {
            for (std::size_t bucket = first; bucket < buckets && blocks < wanted_blocks && finished;
                 ++bucket) {
                finished = scan(picker_.bucket_begin(bucket), picker_.bucket_end_[bucket]);
            }
        }
        if (!finished) {
            return false;
        }
        for (piece_index piece : chosen) {
            take_free(piece);
        }
        return true;
    }

    // Two passes over the peer's pieces that we lack, the way to go when they are sparse in order_:
    // the first adds up free blocks per rank to find the rank that completes the pick, the second
    // collects the pieces below it (all taken) and at it (drawn at random). No sorting, and random
    // draws only for what is taken.
    void scan_bitfield(bool random_first) {
        const std::size_t wanted_blocks = count_ - picked_.size();
        std::vector<std::uint64_t> blocks_at(picker_.bucket_end_.size(), 0);
        for_each_set_but(has_, &picker_.have_, [&](piece_index piece) {
            examine();
            if (!started(piece)) {
                blocks_at[rank_of(piece, random_first)] += picker_.blocks_in_piece(piece);
            }
        });
        std::uint32_t cut = 0;
        for (std::uint64_t below = 0; cut < blocks_at.size() && below + blocks_at[cut] < wanted_blocks;
             ++cut) {
            below += blocks_at[cut];
        }
        std::vector<candidate> below;
        std::vector<piece_index> at;
        for_each_set_but(has_, &picker_.have_, [&](piece_index piece) {
            if (started(piece)) {
                return;
            }
            const std::uint32_t rank = rank_of(piece, random_first);
            if (rank < cut) {
                below.push_back({rank, 0, piece, 0});
            } else if (rank == cut) {
                at.push_back(piece);
            }
        });
        std::sort(below.begin(), below.end(), [](const candidate& x, const candidate& y) {
            return x.rank != y.rank ? x.rank < y.rank : x.piece < y.piece;
        });
        for (const candidate& c : below) {
            take_free(c.piece);
        }
        for (std::size_t i = 0; i < at.size() && !done(); ++i) {
            std::swap(at[i], at[i + random_.uniform(at.size() - i)]);
            take_free(at[i]);
        }
    }

    // Endgame: blocks other peers were asked for, fewest requests first, random among equals.
    void busy() {
        std::vector<candidate> candidates;
        const std::uint32_t per_block = picker_.duplicates_max_;
        for (const download& d : picker_.downloads_) {
            examine();
            if (!wanted(d.piece)) {
                continue;
            }
            for (std::uint32_t b = 0; b < d.blocks.size(); ++b) {
                const block_entry& block = d.blocks[b];
                if (block.received || block.requests == 0 || block.requests >= per_block) {
                    continue;
                }
                const auto first = d.requesters.begin() + static_cast<std::ptrdiff_t>(b * per_block);
                if (std::find(first, first + block.requests, peer_) != first + block.requests) {
                    continue;
                }
                candidates.push_back({block.requests, random_(), d.piece, b});
            }
        }
        const std::size_t needed = std::min(candidates.size(), count_ - picked_.size());
        std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(needed),
                          candidates.end(), [](const candidate& x, const candidate& y) {
                              return x.rank != y.rank ? x.rank < y.rank : x.tie < y.tie;
                          });
        for (std::size_t i = 0; i < needed; ++i) {
            download& d = picker_.downloads_[picker_.pieces_[candidates[i].piece].download];
            picker_.request(d, candidates[i].block, peer_);
            picked_.push_back({candidates[i].piece, candidates[i].block});
        }
    }

    piece_picker& picker_;
    const bitfield& has_;
    peer_key peer_;
    std::size_t count_;
    rng& random_;
    const pick_options& options_;
    std::vector<block_ref> picked_;
};

piece_picker::piece_picker(std::int64_t piece_length, std::int64_t total_size, picker_config config)
    : piece_length_(piece_length),
      total_size_(total_size),
      piece_count_(
          static_cast<piece_index>(total_size / piece_length + (total_size % piece_length != 0 ? 1 : 0))),
      config_(config),
      duplicates_max_(static_cast<std::uint32_t>(
          std::clamp<std::size_t>(config.endgame_duplicates_max, 1, duplicates_limit))),
      have_(piece_count_),
      pieces_(piece_count_),
      order_(piece_count_),
      bucket_end_{piece_count_} {
    assert(piece_length > 0 && total_size >= 0);
    for (piece_index p = 0; p < piece_count_; ++p) {
        place(p, p);
        free_blocks_ += blocks_in_piece(p);
    }
    free_blocks_unseen_ = free_blocks_;
}

std::uint32_t piece_picker::blocks_in_piece(piece_index piece) const {
    const std::int64_t size =
        std::min(piece_length_, total_size_ - static_cast<std::int64_t>(piece) * piece_length_);
    return static_cast<std::uint32_t>((size + block_size - 1) / block_size);
}

std::uint32_t piece_picker::block_length(block_ref block) const {
    const std::int64_t size =
        std::min(piece_length_, total_size_ - static_cast<std::int64_t>(block.piece) * piece_length_);
    return static_cast<std::uint32_t>(
        std::min<std::int64_t>(block_size, size - static_cast<std::int64_t>(block.block) * block_size));
}

// --- the rarest-first order ---

void piece_picker::place(std::uint32_t position, piece_index piece) {
    order_[position] = piece;
    pieces_[piece].position = position;
}

void piece_picker::move_up(piece_index piece) {
    const std::uint32_t count = pieces_[piece].peers;
    if (count + 1 == bucket_end_.size()) {
        bucket_end_.push_back(static_cast<std::uint32_t>(order_.size()));
    }
    const std::uint32_t last = bucket_end_[count] - 1;
    place(pieces_[piece].position, order_[last]);
    place(last, piece);
    --bucket_end_[count];
}

void piece_picker::move_down(piece_index piece) {
    const std::uint32_t count = pieces_[piece].peers;
    const std::uint32_t first = bucket_end_[count - 1];
    place(pieces_[piece].position, order_[first]);
    place(first, piece);
    ++bucket_end_[count - 1];
    trim_buckets();
}

void piece_picker::remove_from_order(piece_index piece) {
    // Carried to the end of each bucket from its own upwards: O(buckets above it) <= O(peers).
    std::uint32_t position = pieces_[piece].position;
    for (std::size_t bucket = pieces_[piece].peers; bucket < bucket_end_.size(); ++bucket) {
        const std::uint32_t last = bucket_end_[bucket] - 1;
        place(position, order_[last]);
        place(last, piece);
        position = last;
        --bucket_end_[bucket];
    }
    order_.pop_back();
    pieces_[piece].position = npos;
    trim_buckets();
}

void piece_picker::insert_into_order(piece_index piece) {
    // Appended to the last bucket, then carried down to its own: the mirror of remove_from_order.
    const std::uint32_t count = pieces_[piece].peers;
    while (bucket_end_.size() <= count) {
        bucket_end_.push_back(static_cast<std::uint32_t>(order_.size()));
    }
    order_.push_back(piece);
    pieces_[piece].position = static_cast<std::uint32_t>(order_.size() - 1);
    ++bucket_end_.back();
    for (std::size_t bucket = bucket_end_.size() - 1; bucket > count; --bucket) {
        const std::uint32_t first = bucket_end_[bucket - 1];
        place(pieces_[piece].position, order_[first]);
        place(first, piece);
        ++bucket_end_[bucket - 1];
    }
}

void piece_picker::trim_buckets() {
    while (bucket_end_.size() > 1 && bucket_end_[bucket_end_.size() - 2] == order_.size()) {
        bucket_end_.pop_back();
    }
}

void piece_picker::increment(piece_index piece) {
    piece_entry& entry = pieces_[piece];
    if (entry.position != npos) {
        move_up(piece);
    }
    if (entry.peers == 0) {
        free_blocks_unseen_ -= free_blocks_of(piece);
    }
    ++entry.peers;
}

void piece_picker::decrement(piece_index piece) {
    piece_entry& entry = pieces_[piece];
    assert(entry.peers > 0 && "removing a peer's piece that was never added");
    if (entry.position != npos) {
        move_down(piece);
    }
    --entry.peers;
    if (entry.peers == 0) {
        free_blocks_unseen_ += free_blocks_of(piece);
    }
}

// --- free blocks ---

std::uint32_t piece_picker::free_blocks_of(piece_index piece) const {
    if (have_.test(piece)) {
        return 0;
    }
    const std::uint32_t slot = pieces_[piece].download;
    return slot == npos ? blocks_in_piece(piece) : downloads_[slot].free;
}

void piece_picker::add_free(piece_index piece, std::int64_t delta) {
    free_blocks_ = static_cast<std::uint64_t>(static_cast<std::int64_t>(free_blocks_) + delta);
    if (pieces_[piece].peers == 0) {
        free_blocks_unseen_ =
            static_cast<std::uint64_t>(static_cast<std::int64_t>(free_blocks_unseen_) + delta);
    }
}

bool piece_picker::in_endgame() const {
    const std::uint64_t available = seeds_ > 0 ? free_blocks_ : free_blocks_ - free_blocks_unseen_;
    return requested_blocks_ > 0 && available == 0;
}

// --- downloads and requests ---

std::uint32_t piece_picker::start_download(piece_index piece) {
    remove_from_order(piece);
    const std::uint32_t blocks = blocks_in_piece(piece);
    download d;
    d.piece = piece;
    d.free = blocks;
    d.blocks.resize(blocks);
    d.requesters.resize(static_cast<std::size_t>(blocks) * duplicates_max_);
    downloads_.push_back(std::move(d));
    const auto slot = static_cast<std::uint32_t>(downloads_.size() - 1);
    pieces_[piece].download = slot;
    if (blocks > 0) {
        downloads_.back().partial = static_cast<std::uint32_t>(partials_.size());
        partials_.push_back(piece);
    }
    return slot;
}

void piece_picker::end_download(std::uint32_t slot) {
    if (downloads_[slot].partial != npos) {
        unlist_partial(downloads_[slot]);
    }
    pieces_[downloads_[slot].piece].download = npos;
    if (slot + 1 != downloads_.size()) {
        downloads_[slot] = std::move(downloads_.back());
        pieces_[downloads_[slot].piece].download = slot;
    }
    downloads_.pop_back();
}

void piece_picker::unlist_partial(download& d) {
    const piece_index moved = partials_.back();
    partials_[d.partial] = moved;
    downloads_[pieces_[moved].download].partial = d.partial;
    partials_.pop_back();
    d.partial = npos;
}

void piece_picker::change_free(download& d, std::int64_t delta) {
    const bool was_partial = d.free > 0;
    d.free = static_cast<std::uint32_t>(d.free + delta);
    add_free(d.piece, delta);
    if (was_partial && d.free == 0) {
        unlist_partial(d);
    } else if (!was_partial && d.free > 0) {
        d.partial = static_cast<std::uint32_t>(partials_.size());
        partials_.push_back(d.piece);
    }
}

void piece_picker::request(download& d, std::uint32_t block, peer_key peer) {
    block_entry& entry = d.blocks[block];
    assert(!entry.received && entry.requests < duplicates_max_);
    if (entry.requests == 0) {
        change_free(d, -1);
        ++requested_blocks_;
    }
    d.requesters[static_cast<std::size_t>(block) * duplicates_max_ + entry.requests] = peer;
    ++entry.requests;
}

bool piece_picker::release(download& d, std::uint32_t block, peer_key peer) {
    block_entry& entry = d.blocks[block];
    peer_key* requesters = d.requesters.data() + static_cast<std::size_t>(block) * duplicates_max_;
    for (std::uint32_t i = 0; i < entry.requests; ++i) {
        if (requesters[i] != peer) {
            continue;
        }
        requesters[i] = requesters[entry.requests - 1];
        --entry.requests;
        if (entry.requests == 0) {
            change_free(d, 1);
            --requested_blocks_;
        }
        return true;
    }
    return false;
}

namespace {

template <class Download>
bool untouched(const Download& d) {
    return d.received == 0 && d.free == d.blocks.size();
}

}  // namespace

// --- public operations ---

void piece_picker::set_have(piece_index piece) {
    if (have_.test(piece)) {
        return;
    }
    add_free(piece, -static_cast<std::int64_t>(free_blocks_of(piece)));
    if (const std::uint32_t slot = pieces_[piece].download; slot != npos) {
        for (const block_entry& block : downloads_[slot].blocks) {
            requested_blocks_ -= block.requests > 0 ? 1 : 0;
        }
        end_download(slot);
    } else {
        remove_from_order(piece);
    }
    have_.set(piece);
}

void piece_picker::add_peer_bitfield(const bitfield& peer_has) {
    assert(peer_has.size() == piece_count_);
    for_each_set_but(peer_has, nullptr, [&](piece_index piece) { increment(piece); });
}

void piece_picker::remove_peer_bitfield(const bitfield& peer_has) {
    assert(peer_has.size() == piece_count_);
    for_each_set_but(peer_has, nullptr, [&](piece_index piece) { decrement(piece); });
}

void piece_picker::add_peer_have(piece_index piece) {
    increment(piece);
}

void piece_picker::add_seed() {
    ++seeds_;
}

void piece_picker::remove_seed() {
    assert(seeds_ > 0);
    --seeds_;
}

bool piece_picker::is_interesting(const bitfield& peer_has) const {
    assert(peer_has.size() == piece_count_);
    const byte_view theirs = peer_has.wire();
    const byte_view ours = have_.wire();
    for (std::size_t i = 0; i < theirs.size(); ++i) {
        if ((theirs[i] & ~ours[i]) != 0) {
            return true;
        }
    }
    return false;
}

std::vector<block_ref> piece_picker::pick(const bitfield& peer_has, peer_key peer, std::size_t count,
                                          rng& random, const pick_options& options) {
    assert(peer_has.size() == piece_count_);
    if (count == 0 || complete()) {
        return {};
    }
    return pick_run(*this, peer_has, peer, count, random, options).run();
}

void piece_picker::abort_request(block_ref block, peer_key peer) {
    const std::uint32_t slot = pieces_[block.piece].download;
    if (slot == npos) {
        return;
    }
    download& d = downloads_[slot];
    if (release(d, block.block, peer) && untouched(d)) {
        end_download(slot);
        insert_into_order(block.piece);
    }
}

void piece_picker::peer_gone(peer_key peer) {
    // Backwards, so that end_download's swap with the last entry moves one already visited.
    for (std::size_t slot = downloads_.size(); slot-- > 0;) {
        download& d = downloads_[slot];
        bool released = false;
        for (std::uint32_t b = 0; b < d.blocks.size(); ++b) {
            released = release(d, b, peer) || released;
        }
        if (released && untouched(d)) {
            const piece_index piece = d.piece;
            end_download(static_cast<std::uint32_t>(slot));
            insert_into_order(piece);
        }
    }
}

piece_picker::received piece_picker::block_received(block_ref block, peer_key from) {
    if (have_.test(block.piece)) {
        return {};
    }
    std::uint32_t slot = pieces_[block.piece].download;
    if (slot == npos) {
        slot = start_download(block.piece);
    }
    download& d = downloads_[slot];
    block_entry& entry = d.blocks[block.block];
    if (entry.received) {
        return {};
    }
    received result;
    const peer_key* requesters =
        d.requesters.data() + static_cast<std::size_t>(block.block) * duplicates_max_;
    for (std::uint32_t i = 0; i < entry.requests; ++i) {
        if (requesters[i] != from) {
            result.cancel_at.push_back(requesters[i]);
        }
    }
    std::sort(result.cancel_at.begin(), result.cancel_at.end());
    if (entry.requests > 0) {
        --requested_blocks_;
        entry.requests = 0;
    } else {
        change_free(d, -1);
    }
    entry.received = true;
    entry.from = from;
    ++d.received;
    result.accepted = true;
    result.piece_complete = d.received == d.blocks.size();
    return result;
}

void piece_picker::piece_passed(piece_index piece) {
    set_have(piece);
}

std::vector<peer_key> piece_picker::piece_failed(piece_index piece) {
    const std::uint32_t slot = pieces_[piece].download;
    if (have_.test(piece) || slot == npos) {
        return {};
    }
    const download& d = downloads_[slot];
    std::vector<peer_key> senders;
    for (const block_entry& block : d.blocks) {
        if (block.received) {
            senders.push_back(block.from);
        }
        requested_blocks_ -= block.requests > 0 ? 1 : 0;
    }
    add_free(piece, static_cast<std::int64_t>(d.blocks.size() - d.free));
    end_download(slot);
    insert_into_order(piece);
    std::sort(senders.begin(), senders.end());
    senders.erase(std::unique(senders.begin(), senders.end()), senders.end());
    return senders;
}

bool piece_picker::check_invariants() const {
    if (have_.size() != piece_count_ || pieces_.size() != piece_count_) {
        return false;
    }
    // The order holds exactly the pieces we lack, bucketed by peer count.
    if (order_.size() != piece_count_ - have_.count() - downloads_.size() || bucket_end_.empty() ||
        bucket_end_.back() != order_.size()) {
        return false;
    }
    if (bucket_end_.size() > 1 && bucket_end_[bucket_end_.size() - 2] == order_.size()) {
        return false;  // a trailing empty bucket
    }
    for (std::size_t bucket = 0; bucket < bucket_end_.size(); ++bucket) {
        if (bucket_begin(bucket) > bucket_end_[bucket]) {
            return false;
        }
        for (std::size_t i = bucket_begin(bucket); i < bucket_end_[bucket]; ++i) {
            const piece_entry& entry = pieces_[order_[i]];
            if (entry.position != i || entry.peers != bucket || have_.test(order_[i]) ||
                entry.download != npos) {
                return false;
            }
        }
    }
    std::uint64_t free = 0;
    std::uint64_t unseen = 0;
    std::uint64_t requested = 0;
    std::size_t listed = 0;
    for (piece_index p = 0; p < piece_count_; ++p) {
        const piece_entry& entry = pieces_[p];
        if ((have_.test(p) || entry.download != npos) != (entry.position == npos)) {
            return false;
        }
        if (entry.download != npos &&
            (entry.download >= downloads_.size() || downloads_[entry.download].piece != p)) {
            return false;
        }
        const std::uint64_t piece_free = free_blocks_of(p);
        free += piece_free;
        unseen += entry.peers == 0 ? piece_free : 0;
    }
    for (const download& d : downloads_) {
        if (have_.test(d.piece) || pieces_[d.piece].download == npos || untouched(d) ||
            d.blocks.size() != blocks_in_piece(d.piece)) {
            return false;
        }
        std::uint32_t blocks_free = 0;
        std::uint32_t blocks_received = 0;
        for (std::uint32_t b = 0; b < d.blocks.size(); ++b) {
            const block_entry& block = d.blocks[b];
            if (block.requests > duplicates_max_ || (block.received && block.requests > 0)) {
                return false;
            }
            blocks_free += !block.received && block.requests == 0 ? 1 : 0;
            blocks_received += block.received ? 1 : 0;
            requested += block.requests > 0 ? 1 : 0;
            const auto first = d.requesters.begin() + static_cast<std::ptrdiff_t>(b * duplicates_max_);
            std::vector<peer_key> peers(first, first + block.requests);
            std::sort(peers.begin(), peers.end());
            if (std::adjacent_find(peers.begin(), peers.end()) != peers.end()) {
                return false;  // one peer asked twice for a block
            }
        }
        if (blocks_free != d.free || blocks_received != d.received) {
            return false;
        }
        if ((d.free > 0) != (d.partial != npos) ||
            (d.partial != npos && (d.partial >= partials_.size() || partials_[d.partial] != d.piece))) {
            return false;
        }
        listed += d.partial != npos ? 1 : 0;
    }
    if (listed != partials_.size()) {
        return false;
    }
    return free == free_blocks_ && unseen == free_blocks_unseen_ && requested == requested_blocks_;
}

}  // namespace hyphae::bittorrent
