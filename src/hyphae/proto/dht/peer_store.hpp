#pragma once
// The peers a DHT node stores for announce_peer (BEP 5), by info-hash, and answers get_peers and
// BEP 51's sample_infohashes from. Inputs: announce(), expire() (on the core's timer, about once
// a minute); queries: get(), sample() and the counts. Every call that reads time takes `now`,
// which never goes backwards. The caller checks the write token (write_tokens) before
// announce(); the store trusts what it is given.
//
// A peer is its endpoint (address and port: two clients behind one NAT are two peers), a seed
// flag (BEP 33's optional `seed` argument) and the time of its last announce, to the second. An
// announce from a stored endpoint refreshes it and sets its flag. IPv4-mapped addresses are
// stored as IPv4; announces with port 0 (nobody can connect there) are ignored.
//
// Lifetime: BEP 5 fixes none. A peer is returned until `peer_lifetime` after its last announce,
// 45 minutes by default: libtorrent keeps peers for 1.5 times its 30-minute announce interval
// (dht_storage.cpp) and its own clients re-announce every 15 minutes, so one lost announce does
// not drop a peer. Expired peers are never returned; expire() removes them, and torrents with no
// peer left, in one sweep over everything (at most torrents_max * peers_per_torrent_max records).
//
// Bounds (libtorrent's defaults): torrents_max 2000, peers_per_torrent_max 500 (IPv4 and IPv6
// together). Unlike libtorrent, which drops announces once full, the store makes room:
//   * a full torrent drops its least recently announced peer, which is the likeliest to be gone
//     (expired ones go first), so the newest announcers are always answered;
//   * a full table drops the torrent with the fewest peers, the least recently announced of
//     those if several, so that popular torrents, the ones asked for most, stay. Finding it is a
//     scan of the table, paid only by an announce of a new torrent into a full table.
// A flood of announces from many addresses still displaces honest peers; tokens bound to
// addresses make each announcer show an address it can receive on, which is the BEP 5 defence.
//
// Answer sizes, for the callers' `max`: a value costs 8 bytes bencoded for IPv4 ("6:" + 6) and 21
// for IPv6 ("18:" + 18); the rest of a get_peers answer (id, token, t, y, ip, v) is about 100
// bytes, 320 with 8 nodes. 50 IPv4 values (400 B) or 25 IPv6 ones (525 B) keep an answer near
// 1000 bytes, below the 1232-byte UDP payload that IPv6's minimum MTU allows (libtorrent: 100 and
// 25). A BEP 51 sample costs 20 bytes a hash; libtorrent sends at most 20 (400 B).
//
// Memory: an empty store allocates nothing (the map keeps its one inline bucket; expire() hands
// the bucket array back when the last torrent goes). A peer costs 12 bytes (IPv4) or 24 (IPv6)
// in its torrent's vector, a torrent one map node of 96 bytes. The map hashes info-hashes with
// the node's keyed hash, so nobody who lacks the key can choose info-hashes that collide.

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/fixed_id.hpp"
#include "hyphae/core/keyed_hash.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/core/time.hpp"

namespace hyphae::dht {

struct peer_store_config {
    duration peer_lifetime = minutes(45);
    // 32-bit, with a million stores in one simulator process.
    std::uint32_t torrents_max = 2000;
    std::uint32_t peers_per_torrent_max = 500;
};

struct peer_store_counters {
    std::uint64_t peers_expired = 0;
    std::uint64_t peers_evicted = 0;  // dropped to make room, alone or with their torrent
    std::uint64_t torrents_evicted = 0;
};

class peer_store {
public:
    // Bounds below 1 count as 1; a lifetime below one second as one second.
    peer_store(const peer_store_config& config, const keyed_hash& hash);

    void announce(time_point now, const id160& info_hash, const endpoint& peer, bool seed);

    // Up to `max` unexpired peers of the torrent in one family, each subset of that size equally
    // likely; seeds left out when `noseed` (BEP 33). The order is the store's, not random.
    std::vector<endpoint> get(time_point now, const id160& info_hash, bool want_v6, std::size_t max,
                              rng& random, bool noseed = false) const;

    // Removes expired peers and the torrents left without one.
    void expire(time_point now);

    // BEP 51: up to `max` stored info-hashes, each subset of that size equally likely. A scan of
    // the table.
    std::vector<id160> sample(std::size_t max, rng& random) const;

    // BEP 51's `num`. Torrents and peers stored, counting expired ones that expire() has not
    // removed yet.
    std::size_t torrent_count() const { return torrents_.size(); }
    std::size_t peer_count() const { return peers_; }

    // Heap bytes held, as malloc rounds them.
    std::size_t memory_bytes() const;
    const peer_store_counters& counters() const { return counters_; }
    const peer_store_config& config() const { return config_; }

private:
    template <std::size_t A>
    struct stored_peer {
        std::array<std::uint8_t, A> ip{};  // network order
        std::uint16_t port = 0;
        bool seed = false;
        std::uint32_t seen = 0;  // last announce, in seconds (see stamp_of), modulo 2^32
    };
    static_assert(sizeof(stored_peer<4>) == 12 && sizeof(stored_peer<16>) == 24);

    struct torrent {
        std::vector<stored_peer<4>> v4;
        std::vector<stored_peer<16>> v6;
        std::uint32_t last_announce = 0;

        std::size_t size() const { return v4.size() + v6.size(); }
    };
    static_assert(sizeof(torrent) == 56, "a map node of 8 + 24 + 56 = 88 bytes, a 96-byte malloc chunk");
    struct info_hash_hasher {
        keyed_hash hash;
        // noexcept, so the map does not store each node's hash beside it.
        std::size_t operator()(const id160& id) const noexcept { return hash(id.view()); }
    };
    using torrent_map = std::unordered_map<id160, torrent, info_hash_hasher>;

    static std::uint32_t stamp_of(time_point now);
    template <std::size_t A>
    void upsert(torrent& t, std::vector<stored_peer<A>>& list, const stored_peer<A>& fresh);
    void evict_oldest_peer(torrent& t, std::uint32_t now);
    void evict_smallest_torrent(std::uint32_t now);
    template <std::size_t A>
    std::vector<endpoint> pick(std::uint32_t now, const std::vector<stored_peer<A>>& list, std::size_t max,
                               bool noseed, rng& random) const;

    peer_store_config config_;
    std::uint32_t lifetime_seconds_ = 0;
    torrent_map torrents_;
    std::size_t peers_ = 0;
    peer_store_counters counters_;
};

}  // namespace hyphae::dht
