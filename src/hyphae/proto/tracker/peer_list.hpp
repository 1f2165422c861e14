#pragma once
// The peers of one swarm in one address family, as the tracker keeps them: 16 bytes a peer for
// IPv4 and 28 for IPv6, in one array with the leechers first and the seeders after them, so that a
// seeder can be answered with leechers alone and both counts are positions.
//
// A peer is its address, port and a 32-bit tag of its peer id. Up to index_threshold peers are
// found by scanning the array; larger lists also keep an open-addressing index of positions
// (linear probing, load at most 1/2) hashed with the table's keyed hash, since peers choose
// their ports and ids and must not be able to choose collisions.
//
// Positions change when peers come, go or change side: every call that moves peers returns or
// documents where they went. Nothing here knows about time but the `seen` field it stores.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <numeric>
#include <optional>
#include <utility>

#include "hyphae/core/keyed_hash.hpp"
#include "hyphae/core/rng.hpp"

namespace hyphae {

enum tracked_peer_flags : std::uint8_t {
    completed_counted = 1,  // this peer's 'completed' event has been counted
};

template <std::size_t AddressBytes>
struct tracked_peer {
    std::array<std::uint8_t, AddressBytes> ip{};  // network order
    std::uint16_t port = 0;
    std::uint8_t flags = 0;
    std::uint8_t reserved = 0;
    std::uint32_t id_tag = 0;  // 32 bits of the peer id's hash
    std::uint32_t seen = 0;    // last announce, in seconds on the table's clock

    bool same_peer(const tracked_peer& other) const {
        return ip == other.ip && port == other.port && id_tag == other.id_tag;
    }
};

static_assert(sizeof(tracked_peer<4>) == 16);
static_assert(sizeof(tracked_peer<16>) == 28);

struct removed_peers {
    std::uint32_t leechers = 0;
    std::uint32_t seeders = 0;
};

template <std::size_t AddressBytes>
class peer_list {
public:
    using peer = tracked_peer<AddressBytes>;
    static constexpr std::uint32_t index_threshold = 32;  // above this many peers, an index

    peer_list() = default;
    peer_list(peer_list&&) noexcept = default;
    peer_list& operator=(peer_list&&) noexcept = default;

    std::uint32_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    std::uint32_t leechers() const { return leechers_; }
    std::uint32_t seeders() const { return size_ - leechers_; }
    bool is_seeder(std::uint32_t pos) const { return pos >= leechers_; }
    const peer& operator[](std::uint32_t pos) const { return peers_[pos]; }
    // For `seen` and `flags` only: the address, port and tag are what the index hashes.
    peer& at(std::uint32_t pos) { return peers_[pos]; }

    std::optional<std::uint32_t> find(const peer& key, const keyed_hash& hash) const {
        if (index_mask_ == 0) {
            for (std::uint32_t i = 0; i < size_; ++i) {
                if (peers_[i].same_peer(key)) {
                    return i;
                }
            }
            return std::nullopt;
        }
        for (std::uint32_t s = home(key, hash);; s = (s + 1) & index_mask_) {
            const std::uint32_t slot = index_[s];
            if (slot == 0) {
                return std::nullopt;
            }
            if (peers_[slot - 1].same_peer(key)) {
                return slot - 1;
            }
        }
    }

    // Adds a peer that find() does not know; returns its position.
    std::uint32_t insert(const peer& p, bool seeder, const keyed_hash& hash) {
        if (size_ == capacity_) {
            reallocate(capacity_ == 0 ? 2 : capacity_ + (capacity_ + 1) / 2);
        }
        peers_[size_] = p;
        ++size_;
        if (index_mask_ != 0 && 2 * size_ <= index_mask_ + 1) {
            index_insert(size_ - 1, hash);
        } else if (size_ > index_threshold) {
            rebuild_index(hash);
        }
        if (seeder) {
            return size_ - 1;
        }
        swap_positions(size_ - 1, leechers_, hash);
        return leechers_++;
    }

    void erase(std::uint32_t pos, const keyed_hash& hash) {
        if (index_mask_ != 0) {
            index_remove_slot(slot_of(pos, hash), hash);
        }
        std::uint32_t hole = pos;
        if (pos < leechers_) {
            const std::uint32_t last_leecher = leechers_ - 1;
            if (pos != last_leecher) {
                move(last_leecher, pos, hash);
            }
            --leechers_;
            hole = last_leecher;
        }
        const std::uint32_t last = size_ - 1;
        if (hole != last) {
            move(last, hole, hash);
        }
        --size_;
        if (index_mask_ != 0 && size_ <= index_threshold / 2) {
            drop_index();
        }
        if (size_ == 0 || (capacity_ > 8 && capacity_ > 4 * size_)) {
            reallocate(size_ == 0 ? 0 : 2 * size_);
        }
    }

    // Moves the peer at `pos` to the seeders' or the leechers' side; returns its new position.
    std::uint32_t set_seeder(std::uint32_t pos, bool seeder, const keyed_hash& hash) {
        if (seeder && pos < leechers_) {
            swap_positions(pos, leechers_ - 1, hash);
            return --leechers_;
        }
        if (!seeder && pos >= leechers_) {
            swap_positions(pos, leechers_, hash);
            return leechers_++;
        }
        return pos;
    }

    // Removes every peer for which `remove(const peer&)` holds, visiting leechers then seeders in
    // position order; the order of those kept is kept.
    template <class Predicate>
    removed_peers remove_if(Predicate&& remove, const keyed_hash& hash) {
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
            reallocate(size_ == 0 ? 0 : size_ + (size_ + 1) / 2);
        }
        if (size_ > index_threshold) {
            rebuild_index(hash);
        } else {
            drop_index();
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

    std::size_t memory_bytes() const {
        return std::size_t{capacity_} * sizeof(peer) + (index_mask_ == 0 ? 0 : (index_mask_ + 1) * 4u);
    }
    std::uint32_t capacity() const { return capacity_; }
    bool indexed() const { return index_mask_ != 0; }

private:
    std::uint32_t home(const peer& p, const keyed_hash& hash) const {
        std::uint8_t key[AddressBytes + 6];
        std::memcpy(key, p.ip.data(), AddressBytes);
        std::memcpy(key + AddressBytes, &p.port, 2);
        std::memcpy(key + AddressBytes + 2, &p.id_tag, 4);
        return static_cast<std::uint32_t>(hash(byte_view(key, sizeof key))) & index_mask_;
    }

    std::uint32_t slot_of(std::uint32_t pos, const keyed_hash& hash) const {
        std::uint32_t s = home(peers_[pos], hash);
        while (index_[s] != pos + 1) {
            s = (s + 1) & index_mask_;
        }
        return s;
    }

    void index_insert(std::uint32_t pos, const keyed_hash& hash) {
        std::uint32_t s = home(peers_[pos], hash);
        while (index_[s] != 0) {
            s = (s + 1) & index_mask_;
        }
        index_[s] = pos + 1;
    }

    // Backward-shift deletion: later entries of the probe run move up so that no lookup stops early.
    void index_remove_slot(std::uint32_t hole, const keyed_hash& hash) {
        for (std::uint32_t s = (hole + 1) & index_mask_; index_[s] != 0; s = (s + 1) & index_mask_) {
            const std::uint32_t wanted = home(peers_[index_[s] - 1], hash);
            // Moves up unless its home lies cyclically in (hole, s].
            const bool stays = hole <= s ? (hole < wanted && wanted <= s) : (hole < wanted || wanted <= s);
            if (!stays) {
                index_[hole] = index_[s];
                hole = s;
            }
        }
        index_[hole] = 0;
    }

    void move(std::uint32_t from, std::uint32_t to, const keyed_hash& hash) {
        if (index_mask_ != 0) {
            index_[slot_of(from, hash)] = to + 1;
        }
        peers_[to] = peers_[from];
    }

    void swap_positions(std::uint32_t a, std::uint32_t b, const keyed_hash& hash) {
        if (a == b) {
            return;
        }
        if (index_mask_ != 0) {
            const std::uint32_t sa = slot_of(a, hash);
            const std::uint32_t sb = slot_of(b, hash);
            index_[sa] = b + 1;
            index_[sb] = a + 1;
        }
        std::swap(peers_[a], peers_[b]);
    }

    void rebuild_index(const keyed_hash& hash) {
        std::uint32_t slots = 64;
        while (slots < 2 * size_ + 2) {
            slots *= 2;
        }
        index_ = std::make_unique<std::uint32_t[]>(slots);
        index_mask_ = slots - 1;
        for (std::uint32_t i = 0; i < size_; ++i) {
            index_insert(i, hash);
        }
    }

    void drop_index() {
        index_.reset();
        index_mask_ = 0;
    }

    void reallocate(std::uint32_t capacity) {
        if (capacity == 0) {
            peers_.reset();
        } else {
            auto fresh = std::make_unique_for_overwrite<peer[]>(capacity);
            std::copy(peers_.get(), peers_.get() + size_, fresh.get());
            peers_ = std::move(fresh);
        }
        capacity_ = capacity;
    }

    std::unique_ptr<peer[]> peers_;
    std::uint32_t size_ = 0;
    std::uint32_t capacity_ = 0;
    std::uint32_t leechers_ = 0;              // peers_[0, leechers_) are leechers, the rest seeders
    std::uint32_t index_mask_ = 0;            // slots - 1, or 0 without an index
    std::unique_ptr<std::uint32_t[]> index_;  // position + 1 per slot, 0 for free
};

}  // namespace hyphae
