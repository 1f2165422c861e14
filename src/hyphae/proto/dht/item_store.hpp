#pragma once
// The BEP 44 items a DHT node stores for others: what `put` writes and `get` serves.
//
// Immutable and mutable items share one table keyed by target (SHA-1 of v, SHA-1 of k ‖ salt).
// A mutable item keeps k, seq, sig and v; not its salt, which the target commits to and replies
// never carry. v is kept as the verbatim bencoded bytes of the put (bnode::raw(), which the store
// does not decode again), and goes into replies as it is.
//
// Every call takes `now`, which never goes backwards. An item lives for `item_lifetime` after its
// last refresh: storing it, replacing it with a newer seq, or a put of the same item again (an
// immutable v, or a mutable item at the same seq with the same v). get() never returns an item
// past its lifetime; expire() frees them, and should run every minute or so.
//
// Bounds, each making room by evicting the least recently refreshed items (so expired ones first;
// ties go in table order, which the hash key fixes):
//   items_max       items held;
//   bytes_max       bytes of v held, over all items (a longer v alone is refused with 205).
// value_size_max is the longest v accepted (BEP 44's 1000 bytes); a longer one is refused with 205.
// Memory: about 90 bytes a table node, 104 more for a mutable item, v beyond 15 bytes on the
// heap, and the table's buckets. An empty store allocates nothing.
//
// Checks on a mutable put, in order: v size (205), salt size (207), then against a live stored
// item: cas (301), seq (302, also for an equal seq with another v), and only then the signature
// (206), so that stale puts cost no verification. A put repeating the stored item byte for byte
// refreshes it without verification. Two cases only a SHA-1 collision can make are refused with
// 203: a put of the other kind (immutable, mutable) onto a live item, and a mutable put with
// another k.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/ed25519.hpp"
#include "hyphae/core/keyed_hash.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/core/time.hpp"
#include "hyphae/proto/dht/item.hpp"

namespace hyphae::dht {

struct item_store_config {
    std::size_t items_max = 700;  // libtorrent's default
    std::size_t bytes_max = 512 * 1024;
    std::size_t value_size_max = item_value_size_max;
    duration item_lifetime = std::chrono::hours(2);  // BEP 44: items MAY expire after 2 hours
};

// A mutable put as the message carries it; the views need only last for the call.
struct mutable_put {
    ed25519::public_key key;
    byte_view salt;
    std::int64_t seq = 0;
    ed25519::signature sig;
    byte_view value;
    std::optional<std::int64_t> cas;
};

enum class put_outcome : std::uint8_t {
    stored,     // a new item
    replaced,   // a mutable item with a newer seq
    refreshed,  // the same item again: its lifetime restarts
};

// What a get reply carries from the store. `value` points into the store: valid until the next
// call that is not const.
struct item_answer {
    bool is_mutable = false;
    // Mutable only: the get's seq is not older than the stored one, so the reply carries seq and
    // leaves out k, v and sig (BEP 44); value is then empty.
    bool seq_only = false;
    byte_view value;  // v, to go into the reply as it is
    std::int64_t seq = 0;
    ed25519::public_key key;
    ed25519::signature sig;
};

struct item_store_counters {
    std::uint64_t expired = 0;
    std::uint64_t evicted = 0;
};

class item_store {
public:
    // `hash` keys the table: remote parties choose the targets.
    item_store(const item_store_config& config, const keyed_hash& hash);

    // `target` is the one the core computed for the write token; a v that does not hash to it
    // is refused with 203.
    item_result<put_outcome> put_immutable(time_point now, const sha1_hash& target, byte_view value);
    item_result<put_outcome> put_mutable(time_point now, const mutable_put& put);

    // The live item under `target`, if any. `seq` is the get's optional seq field.
    std::optional<item_answer> get(time_point now, const sha1_hash& target,
                                   std::optional<std::int64_t> seq = std::nullopt) const;

    // Frees the items past their lifetime; returns how many.
    std::size_t expire(time_point now);

    std::size_t size() const { return items_.size(); }
    std::size_t bytes() const { return bytes_; }
    // What the store holds on the heap, by its own estimate.
    std::size_t memory_bytes() const;
    const item_store_counters& counters() const { return counters_; }
    const item_store_config& config() const { return config_; }

private:
    struct signed_fields {
        ed25519::public_key key;
        ed25519::signature sig;
        std::int64_t seq = 0;
    };
    struct entry {
        std::string value;
        time_point refreshed;
        std::unique_ptr<signed_fields> signed_part;  // null for an immutable item
    };
    struct target_hasher {
        keyed_hash hash;
        std::size_t operator()(const sha1_hash& target) const { return hash(target.view()); }
    };
    using item_map = std::unordered_map<sha1_hash, entry, target_hasher>;

    bool alive(time_point now, const entry& e) const { return now - e.refreshed < config_.item_lifetime; }
    // Drops an item past its lifetime under `target`; returns the live one, or end().
    item_map::iterator find_live(time_point now, const sha1_hash& target);
    // Evicts the least recently refreshed items other than `keep` until `adding` more items and
    // `extra_bytes` more bytes fit.
    void make_room(std::size_t adding, std::size_t extra_bytes, const sha1_hash& keep);
    void erase(item_map::iterator it);
    void release_if_empty();

    item_store_config config_;
    item_map items_;
    std::size_t bytes_ = 0;
    item_store_counters counters_;
};

}  // namespace hyphae::dht
