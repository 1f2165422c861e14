#pragma once
// The peers of one swarm in one address family, as the tracker keeps them: 12 bytes a peer for
// IPv4 and 24 for IPv6, in one array with the leechers first and the seeders after them, so that a
// seeder can be answered with leechers alone and both counts are positions. The list itself is 24
// bytes; the array grows by a quarter at a time and fills the malloc chunk it gets, so a swarm's
// peers cost little more than their records.
//
// A peer is its address, port and a 15-bit tag of its peer id. Up to index_threshold peers are
// found by scanning the array; larger lists also keep an open-addressing index of positions
// (linear probing, load at most 1/2) hashed with the table's keyed hash, since peers choose
// their ports and ids and must not be able to choose collisions. Indexes live in a pool that the
// table owns and every call is given (peer_list_context), so that the many small lists do not
// pay for a pointer they never use. A list must be emptied (remove_if) before it is destroyed, or
// its index stays in the pool until the pool goes.
//
// Positions change when peers come, go or change side: every call that moves peers returns or
// documents where they went. Nothing here knows about time but the `seen` field it stores.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <numeric>
#include <optional>
#include <utility>
#include <vector>

#include "hyphae/core/keyed_hash.hpp"
#include "hyphae/core/rng.hpp"

namespace hyphae::tracker {

template <std::size_t AddressBytes>
struct tracked_peer {
    static constexpr std::uint16_t tag_mask = 0x7fff;
    static constexpr std::uint16_t completed_counted = 0x8000;  // its 'completed' event was counted

    std::array<std::uint8_t, AddressBytes> ip{};  // network order
    std::uint16_t port = 0;
    std::uint16_t tag = 0;   // 15 bits of the peer id's hash, and completed_counted
    std::uint32_t seen = 0;  // last announce, in seconds on the table's clock

    // Compared as words, not with a memcmp call for each peer a scan passes.
    bool same_peer(const tracked_peer& other) const {
        std::uint64_t diff = 0;
        for (std::size_t at = 0; at < AddressBytes; at += 4) {
            std::uint32_t x = 0;
            std::uint32_t y = 0;
            std::memcpy(&x, ip.data() + at, 4);
            std::memcpy(&y, other.ip.data() + at, 4);
            diff |= x ^ y;
        }
        return diff == 0 && port == other.port && ((tag ^ other.tag) & tag_mask) == 0;
    }
};

static_assert(sizeof(tracked_peer<4>) == 12);
static_assert(sizeof(tracked_peer<16>) == 24);

struct removed_peers {
    std::uint32_t leechers = 0;
    std::uint32_t seeders = 0;
};

// The indexes of the lists that have one, by id (1 and up; 0 means none).
class peer_index_pool {
public:
    struct index {
        std::unique_ptr<std::uint32_t[]> slots;  // position + 1 per slot, 0 for free
        std::uint32_t mask = 0;                  // slots - 1
    };

    std::uint32_t acquire() {
        if (free_.empty()) {
            indexes_.emplace_back();
            return static_cast<std::uint32_t>(indexes_.size());
        }
        const std::uint32_t id = free_.back();
        free_.pop_back();
        return id;
    }
    void release(std::uint32_t id) {
        indexes_[id - 1] = {};
        free_.push_back(id);
    }
    index& operator[](std::uint32_t id) { return indexes_[id - 1]; }
    const index& operator[](std::uint32_t id) const { return indexes_[id - 1]; }
    std::size_t in_use() const { return indexes_.size() - free_.size(); }
    std::size_t memory_bytes() const {
        std::size_t bytes = indexes_.capacity() * sizeof(index) + free_.capacity() * 4;
        for (const index& i : indexes_) {
            bytes += i.slots ? (std::size_t{i.mask} + 1) * 4 : 0;
        }
        return bytes;
    }

private:
    std::vector<index> indexes_;
    std::vector<std::uint32_t> free_;
};

struct peer_list_context {
    const keyed_hash& hash;
    peer_index_pool& indexes;
};

template <std::size_t AddressBytes>
class peer_list {
public:
    using peer = tracked_peer<AddressBytes>;
    static constexpr std::uint32_t index_threshold = 32;  // above this many peers, an index

    peer_list() = default;
    ~peer_list() { std::free(peers_); }
    peer_list(peer_list&& other) noexcept
        : peers_(std::exchange(other.peers_, nullptr)),
          size_(std::exchange(other.size_, 0)),
          capacity_(std::exchange(other.capacity_, 0)),
          leechers_(std::exchange(other.leechers_, 0)),
          index_(std::exchange(other.index_, 0)) {}
    peer_list& operator=(peer_list&& other) noexcept {
        std::swap(peers_, other.peers_);
        std::swap(size_, other.size_);
        std::swap(capacity_, other.capacity_);
        std::swap(leechers_, other.leechers_);
        std::swap(index_, other.index_);
        return *this;
    }
    peer_list(const peer_list&) = delete;
    peer_list& operator=(const peer_list&) = delete;

    std::uint32_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    std::uint32_t leechers() const { return leechers_; }
    std::uint32_t seeders() const { return size_ - leechers_; }
    bool is_seeder(std::uint32_t pos) const { return pos >= leechers_; }
    const peer& operator[](std::uint32_t pos) const { return peers_[pos]; }
    // For `seen` and the completed_counted bit only: the address, port and tag are what the
    // index hashes.
    peer& at(std::uint32_t pos) { return peers_[pos]; }

    std::optional<std::uint32_t> find(const peer& key, const peer_list_context& ctx) const {
        if (index_ == 0) {
            for (std::uint32_t i = 0; i < size_; ++i) {
                if (peers_[i].same_peer(key)) {
                    return i;
                }
            }
            return std::nullopt;
        }
        const peer_index_pool::index& index = ctx.indexes[index_];
        for (std::uint32_t s = home(key, index, ctx);; s = (s + 1) & index.mask) {
            const std::uint32_t slot = index.slots[s];
            if (slot == 0) {
                return std::nullopt;
            }
            if (peers_[slot - 1].same_peer(key)) {
                return slot - 1;
            }
        }
    }

    // Adds a peer that find() does not know; returns its position.
    std::uint32_t insert(const peer& p, bool seeder, const peer_list_context& ctx) {
        if (size_ == capacity_) {
            reallocate(grown_capacity(size_ + 1));
        }
        peers_[size_] = p;
        ++size_;
        if (index_ != 0 && 2 * size_ <= ctx.indexes[index_].mask + 1) {
            index_insert(size_ - 1, ctx);
        } else if (size_ > index_threshold) {
            rebuild_index(ctx);
        }
        if (seeder) {
            return size_ - 1;
        }
        swap_positions(size_ - 1, leechers_, ctx);
        return leechers_++;
    }

    void erase(std::uint32_t pos, const peer_list_context& ctx) {
        if (index_ != 0) {
            index_remove_slot(slot_of(pos, ctx), ctx);
        }
        std::uint32_t hole = pos;
        if (pos < leechers_) {
            const std::uint32_t last_leecher = leechers_ - 1;
            if (pos != last_leecher) {
                move(last_leecher, pos, ctx);
            }
            --leechers_;
            hole = last_leecher;
        }
        const std::uint32_t last = size_ - 1;
        if (hole != last) {
            move(last, hole, ctx);
        }
        --size_;
        if (index_ != 0 && size_ <= index_threshold / 2) {
            drop_index(ctx);
        }
        if (size_ == 0 || (capacity_ > 8 && capacity_ > 4 * size_)) {
            reallocate(size_ == 0 ? 0 : fitting_capacity(2 * size_));
        }
    }

    // Moves the peer at `pos` to the seeders' or the leechers' side; returns its new position.
    std::uint32_t set_seeder(std::uint32_t pos, bool seeder, const peer_list_context& ctx) {
        if (seeder && pos < leechers_) {
            swap_positions(pos, leechers_ - 1, ctx);
            return --leechers_;
        }
        if (!seeder && pos >= leechers_) {
            swap_positions(pos, leechers_, ctx);
            return leechers_++;
        }
        return pos;
    }

    // Removes every peer for which `remove(const peer&)` holds, visiting leechers then seeders in
    // position order; the order of those kept is kept.
    template <class Predicate>
    removed_peers remove_if(Predicate&& remove, const peer_list_context& ctx) {
        removed_peers out;
        std::uint32_t kept = 0;
        for (std::uint32_t i = 0; i < leechers_; ++i) {
            if (remove(std::as_const(peers_[i]))) {
                ++out.leechers;
            } else {
                peers_[kept++] = peers_[i];
            }
        }
        const std::uint32_t kept_leechers = kept;
        for (std::uint32_t i = leechers_; i < size_; ++i) {
            if (remove(std::as_const(peers_[i]))) {
                ++out.seeders;
            } else {
                peers_[kept++] = peers_[i];
            }
        }
        if (kept == size_) {
            return out;
        }
        size_ = kept;
        leechers_ = kept_leechers;
        if (size_ == 0 || capacity_ > 4 * size_) {
            reallocate(size_ == 0 ? 0 : fitting_capacity(size_ + size_ / 4));
        }
        if (size_ > index_threshold) {
            rebuild_index(ctx);
        } else {
            drop_index(ctx);
        }
        return out;
    }

    // Calls `take(const peer&)` on peers of [0, range_end) other than `skip`, in a random order,
    // until it has returned true `count` times or every peer was offered. The order is a random
    // start and a random step coprime with range_end, so every peer is offered with the same
    // probability and no peer twice.
    template <class Take>
    void sample(std::uint32_t range_end, std::size_t count, std::optional<std::uint32_t> skip, rng& random,
                Take&& take) const {
        if (range_end == 0 || count == 0) {
            return;
        }
        const auto m = static_cast<std::uint64_t>(range_end);
        std::uint64_t pos = random.uniform(m);
        std::uint64_t step = 1;
        if (count + 1 < m) {
            do {
                step = 1 + random.uniform(m - 1);
            } while (std::gcd(step, m) != 1);
        }
        std::size_t taken = 0;
        for (std::uint64_t visited = 0; visited < m; ++visited) {
            if (pos != skip && take(peers_[pos]) && ++taken == count) {
                return;
            }
            pos += step;
            if (pos >= m) {
                pos -= m;
            }
        }
    }

    // The array's bytes as malloc holds them (the index is the pool's).
    std::size_t memory_bytes() const { return capacity_ == 0 ? 0 : chunk_bytes(capacity_); }
    std::uint32_t capacity() const { return capacity_; }
    bool indexed() const { return index_ != 0; }

private:
    // glibc hands out chunks of 16-byte multiples with 8 bytes of its own: a capacity is worth
    // rounding up to what the chunk holds anyway.
    static std::size_t chunk_bytes(std::uint32_t capacity) {
        return (std::size_t{capacity} * sizeof(peer) + 8 + 15) / 16 * 16;
    }
    static std::uint32_t fitting_capacity(std::uint32_t wanted) {
        return static_cast<std::uint32_t>((chunk_bytes(wanted) - 8) / sizeof(peer));
    }
    std::uint32_t grown_capacity(std::uint32_t needed) const {
        return fitting_capacity(std::max(needed, capacity_ + capacity_ / 4));
    }

    std::uint32_t home(const peer& p, const peer_index_pool::index& index,
                       const peer_list_context& ctx) const {
        std::uint8_t key[AddressBytes + 4];
        std::memcpy(key, p.ip.data(), AddressBytes);
        std::memcpy(key + AddressBytes, &p.port, 2);
        const std::uint16_t tag = p.tag & peer::tag_mask;
        std::memcpy(key + AddressBytes + 2, &tag, 2);
        return static_cast<std::uint32_t>(ctx.hash(byte_view(key, sizeof key))) & index.mask;
    }

    std::uint32_t slot_of(std::uint32_t pos, const peer_list_context& ctx) const {
        const peer_index_pool::index& index = ctx.indexes[index_];
        std::uint32_t s = home(peers_[pos], index, ctx);
        while (index.slots[s] != pos + 1) {
            s = (s + 1) & index.mask;
        }
        return s;
    }

    void index_insert(std::uint32_t pos, const peer_list_context& ctx) {
        peer_index_pool::index& index = ctx.indexes[index_];
        std::uint32_t s = home(peers_[pos], index, ctx);
        while (index.slots[s] != 0) {
            s = (s + 1) & index.mask;
        }
        index.slots[s] = pos + 1;
    }

    // Backward-shift deletion: later entries of the probe run move up so that no lookup stops early.
    void index_remove_slot(std::uint32_t hole, const peer_list_context& ctx) {
        peer_index_pool::index& index = ctx.indexes[index_];
        for (std::uint32_t s = (hole + 1) & index.mask; index.slots[s] != 0; s = (s + 1) & index.mask) {
            const std::uint32_t wanted = home(peers_[index.slots[s] - 1], index, ctx);
            // Moves up unless its home lies cyclically in (hole, s].
            const bool stays = hole <= s ? (hole < wanted && wanted <= s) : (hole < wanted || wanted <= s);
            if (!stays) {
                index.slots[hole] = index.slots[s];
                hole = s;
            }
        }
        index.slots[hole] = 0;
    }

    void move(std::uint32_t from, std::uint32_t to, const peer_list_context& ctx) {
        if (index_ != 0) {
            ctx.indexes[index_].slots[slot_of(from, ctx)] = to + 1;
        }
        peers_[to] = peers_[from];
    }

    void swap_positions(std::uint32_t a, std::uint32_t b, const peer_list_context& ctx) {
        if (a == b) {
            return;
        }
        if (index_ != 0) {
            const std::uint32_t sa = slot_of(a, ctx);
            const std::uint32_t sb = slot_of(b, ctx);
            ctx.indexes[index_].slots[sa] = b + 1;
            ctx.indexes[index_].slots[sb] = a + 1;
        }
        std::swap(peers_[a], peers_[b]);
    }

    void rebuild_index(const peer_list_context& ctx) {
        std::uint32_t slots = 64;
        while (slots < 2 * size_ + 2) {
            slots *= 2;
        }
        if (index_ == 0) {
            index_ = ctx.indexes.acquire();
        }
        peer_index_pool::index& index = ctx.indexes[index_];
        index.slots = std::make_unique<std::uint32_t[]>(slots);
        index.mask = slots - 1;
        for (std::uint32_t i = 0; i < size_; ++i) {
            index_insert(i, ctx);
        }
    }

    void drop_index(const peer_list_context& ctx) {
        if (index_ != 0) {
            ctx.indexes.release(index_);
            index_ = 0;
        }
    }

    void reallocate(std::uint32_t capacity) {
        if (capacity == 0) {
            std::free(peers_);
            peers_ = nullptr;
        } else {
            // Records are trivially copyable: realloc may grow the chunk in place.
            void* grown = std::realloc(peers_, std::size_t{capacity} * sizeof(peer));
            if (grown == nullptr) {
                throw std::bad_alloc();
            }
            peers_ = static_cast<peer*>(grown);
        }
        capacity_ = capacity;
    }

    peer* peers_ = nullptr;  // malloc'd: [0, leechers_) leechers, [leechers_, size_) seeders
    std::uint32_t size_ = 0;
    std::uint32_t capacity_ = 0;
    std::uint32_t leechers_ = 0;
    std::uint32_t index_ = 0;  // in the pool; 0: none
};

static_assert(sizeof(peer_list<4>) == 24);

}  // namespace hyphae::tracker
