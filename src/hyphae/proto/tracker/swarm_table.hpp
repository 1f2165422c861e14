#pragma once
// Every swarm a tracker knows, and its peers: the tracker's whole state, in bounded memory.
//
// A swarm is an info-hash with its IPv4 and IPv6 peer_lists and its count of completed downloads.
// A peer is (info-hash, address, port, peer id); the table keeps 15 bits of the peer id's hash,
// enough to tell apart peers that share an address and port (behind one NAT; two such clients
// are taken for one once in 32,768 times) but not to answer with peer ids. A swarm costs a
// 72-byte map node (80 with malloc's own 8), its peers 12 bytes each (24 for IPv6) plus the
// slack of their array. Time is seconds on the caller's clock (`now`, never going backwards); a peer is
// current while now - seen <= peer_ttl.
//
// Bounds, each evicting the oldest first in batches of 1/16 of the bound, so that the cost of
// finding them is shared by the many insertions that follow:
//   swarms_max            a new swarm past it evicts the swarms idle longest, with their peers;
//   peers_max             a new peer past it evicts the peers that announced longest ago, anywhere;
//   peers_per_swarm_max   a new peer past it evicts that swarm's peers that announced longest ago.
// Expiry is incremental: sweep() visits the next few hash buckets, drops their peers older than
// peer_ttl, and drops swarms that are empty and idle longer than swarm_ttl. Answers never carry
// a peer older than peer_ttl, even before a sweep has reached it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/keyed_hash.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/proto/tracker/announce.hpp"
#include "hyphae/proto/tracker/peer_list.hpp"

namespace hyphae::tracker {

struct swarm_limits {
    std::size_t swarms_max = 1'000'000;
    std::size_t peers_max = 10'000'000;
    std::size_t peers_per_swarm_max = 200'000;
};

struct swarm_counts {
    std::uint32_t seeders = 0;
    std::uint32_t leechers = 0;
    std::uint32_t completed = 0;

    friend bool operator==(const swarm_counts&, const swarm_counts&) = default;
};

struct peer_announce {
    sha1_hash info_hash;
    id160 peer_id;
    endpoint address;  // where other peers reach it
    bool seeder = false;
    announce_event event = announce_event::none;
    std::size_t numwant = 50;
    bool both_families = false;  // after its own family's peers, the other family's (HTTP)
};

struct announce_outcome {
    swarm_counts counts;              // after this announce
    std::span<const endpoint> peers;  // valid until the next call; never the announcer itself
    bool refused = false;             // an unknown swarm the creation filter refused
};

struct swarm_table_counters {
    std::uint64_t peers_expired = 0;
    std::uint64_t peers_evicted = 0;
    std::uint64_t swarms_expired = 0;
    std::uint64_t swarms_evicted = 0;
};

// A hash of a peer id, for telling apart peers behind one address and port (15 bits are kept).
std::uint32_t peer_id_tag(const id160& peer_id);

class swarm_table {
public:
    swarm_table(const swarm_limits& limits, const keyed_hash& hash);

    // Only swarms the filter accepts are created (an allow-list): a swarm the table holds was
    // accepted, so known swarms, the hot path, never ask it.
    void set_creation_filter(std::function<bool(const sha1_hash&)> filter) {
        creation_filter_ = std::move(filter);
    }

    // Adds, refreshes or (event 'stopped') removes the peer, and picks up to a.numwant current
    // peers for it at random: a seeder gets leechers only. A 'stopped' announce never creates a
    // swarm and is answered with counts alone. 'completed' counts once per peer. An unknown swarm
    // that the creation filter refuses is left alone and the outcome says `refused`.
    announce_outcome announce(std::uint32_t now, const peer_announce& a, std::uint32_t peer_ttl, rng& random);
    // Zeros for an unknown swarm.
    swarm_counts counts(const sha1_hash& info_hash) const;

    // Expires the peers and swarms of the next `buckets` hash buckets (bucket_count() for all).
    void sweep(std::uint32_t now, std::uint32_t peer_ttl, std::uint32_t swarm_ttl, std::size_t buckets);
    std::size_t bucket_count() const { return swarms_.bucket_count(); }
    // Drops one swarm and its peers; false if there was none.
    bool erase_swarm(const sha1_hash& info_hash);
    // Drops every swarm whose info-hash `keep` refuses (an allow-list change); returns how many.
    template <class Keep>
    std::size_t erase_swarms_unless(Keep&& keep);

    std::size_t swarms() const { return swarms_.size(); }
    std::size_t peers() const { return peers_; }
    std::size_t seeders() const { return seeders_; }
    std::size_t leechers() const { return peers_ - seeders_; }
    // 'completed' events counted since the table was made (restored counts not included).
    std::uint64_t completed_total() const { return completed_total_; }
    // What the table holds on the heap, by its own accounting (an estimate of the node overhead
    // of the swarm map included).
    std::size_t memory_bytes() const;
    const swarm_table_counters& counters() const { return counters_; }
    const swarm_limits& limits() const { return limits_; }

    // State files. visit(info_hash, completed, last_active, v4 peers, v6 peers or null).
    template <class Visit>
    void for_each_swarm(Visit&& visit) const;
    // Re-adds what a state file holds, within the bounds (refusing, not evicting): false when a
    // bound, a repeat, or an unknown swarm refuses it.
    bool restore_swarm(const sha1_hash& info_hash, std::uint32_t completed, std::uint32_t last_active);
    template <std::size_t A>
    bool restore_peer(const sha1_hash& info_hash, const tracked_peer<A>& peer, bool seeder);

private:
    struct swarm {
        peer_list<4> v4;
        std::unique_ptr<peer_list<16>> v6;  // most swarms have no IPv6 peer
        std::uint32_t completed = 0;
        std::uint32_t last_active = 0;

        std::uint32_t size() const { return v4.size() + (v6 ? v6->size() : 0); }
    };
    static_assert(sizeof(swarm) == 40, "a map node of 8 + 20 + 4 + 40 = 72 bytes");
    struct info_hash_hasher {
        keyed_hash hash;
        std::size_t operator()(const sha1_hash& id) const { return hash(id.view()); }
    };
    using swarm_map = std::unordered_map<sha1_hash, swarm, info_hash_hasher>;

    template <std::size_t A>
    std::uint32_t upsert(std::uint32_t now, swarm& s, peer_list<A>& list, const tracked_peer<A>& key,
                         const peer_announce& a);
    template <std::size_t A>
    void select(std::uint32_t now, const peer_list<A>& list, std::optional<std::uint32_t> self, bool seeder,
                std::size_t numwant, std::uint32_t peer_ttl, rng& random);
    template <std::size_t A, class Predicate>
    void remove_from(peer_list<A>& list, Predicate&& remove);
    swarm_counts counts_of(const swarm& s) const;
    void evict_oldest_swarms();
    void evict_oldest_peers(std::uint32_t now);
    void evict_oldest_in(swarm& s);

    swarm_limits limits_;
    std::function<bool(const sha1_hash&)> creation_filter_;
    keyed_hash hash_;
    peer_index_pool indexes_;
    peer_list_context ctx_;
    swarm_map swarms_;
    std::size_t peers_ = 0;
    std::size_t seeders_ = 0;
    std::uint64_t completed_total_ = 0;
    std::size_t sweep_cursor_ = 0;  // the next bucket sweep() visits
    swarm_table_counters counters_;
    std::vector<endpoint> selected_;      // the peers of the last answer
    std::vector<std::uint32_t> scratch_;  // times, for finding the oldest
};

template <class Keep>
std::size_t swarm_table::erase_swarms_unless(Keep&& keep) {
    std::size_t erased = 0;
    for (auto it = swarms_.begin(); it != swarms_.end();) {
        if (keep(it->first)) {
            ++it;
            continue;
        }
        remove_from(it->second.v4, [](const auto&) { return true; });
        if (it->second.v6) {
            remove_from(*it->second.v6, [](const auto&) { return true; });
        }
        it = swarms_.erase(it);
        ++erased;
    }
    return erased;
}

template <class Visit>
void swarm_table::for_each_swarm(Visit&& visit) const {
    for (const auto& [info_hash, s] : swarms_) {
        visit(info_hash, s.completed, s.last_active, s.v4, s.v6.get());
    }
}

template <std::size_t A, class Predicate>
void swarm_table::remove_from(peer_list<A>& list, Predicate&& remove) {
    const removed_peers gone = list.remove_if(remove, ctx_);
    peers_ -= gone.leechers + gone.seeders;
    seeders_ -= gone.seeders;
}

template <std::size_t A>
bool swarm_table::restore_peer(const sha1_hash& info_hash, const tracked_peer<A>& peer, bool seeder) {
    auto it = swarms_.find(info_hash);
    if (it == swarms_.end() || peers_ >= limits_.peers_max ||
        it->second.size() >= limits_.peers_per_swarm_max) {
        return false;
    }
    swarm& s = it->second;
    peer_list<A>* list = nullptr;
    if constexpr (A == 4) {
        list = &s.v4;
    } else {
        if (!s.v6) {
            s.v6 = std::make_unique<peer_list<16>>();
        }
        list = s.v6.get();
    }
    if (list->find(peer, ctx_)) {
        return false;
    }
    list->insert(peer, seeder, ctx_);
    ++peers_;
    seeders_ += seeder ? 1 : 0;
    return true;
}

}  // namespace hyphae::tracker
