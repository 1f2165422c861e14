#pragma once
// Who gets our upload slots: BitTorrent's tit-for-tat choker, for one torrent.
//
// Contract: the torrent calls decide() every unchoke_interval (next_decision() says when; calling
// it sooner, e.g. when an unchoked peer leaves, is fine) with every connected peer (keys unique),
// its current state and the rates it measured; it unchokes exactly the returned peers and chokes
// all others.
// `now` never goes backwards. The choker keeps only the optimistic peer and, for the peers of the
// last call, when it last changed their state: its memory is bounded by the torrent's peers.
//
// Rules (upload_slots = N):
// - Never unchoked: peers that are not interested (a slot is wasted on a peer that will not
//   request; choking them costs nothing, and they get a slot at the next decision once they are
//   interested) and seeds (they never are).
// - Leecher, regular slots (N - 1): the interested, non-snubbed peers that upload to us fastest
//   (download_rate). Snubbed peers (they stopped sending us data) get no regular slot: only the
//   optimistic one (anti-snubbing).
// - Seed, regular slots (N - 1): we get nothing back, so peers rank by the rate we upload to
//   them (upload_rate), with turns for fairness (libtorrent's round robin, with rates): a peer
//   that holds a regular slot keeps it for seed_turn_duration from its unchoke; a slot that comes
//   free goes to the optimistic peer first (a waiting peer's way in), then to the fastest of the
//   rest, so holders whose turn is over keep slots only while nobody waits. Every interested peer
//   gets turns; fast peers keep slots longer in small swarms.
// - Ties in rate go to the peer already unchoked (no needless choke/unchoke churn), then at random.
// - Optimistic slot (1, both modes): a choked interested peer drawn at random, peers connected
//   less than new_peer_window ago three times as likely (as mainline BitTorrent: they have
//   nothing to trade yet). It rotates every optimistic_interval, and sooner if its peer leaves,
//   loses interest, or wins a regular slot. With no choked candidate it stays with its peer, or
//   goes to an unchoked peer that just lost its regular slot, rather than stay unused.
// N = 0 unchokes nobody; N = 1 leaves only the optimistic slot.

#include <cstddef>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "hyphae/core/rng.hpp"
#include "hyphae/core/time.hpp"
#include "hyphae/proto/bittorrent/peer_key.hpp"

namespace hyphae::bittorrent {

struct choker_peer {
    peer_key key = 0;
    bool interested = false;   // the peer is interested in us
    bool choked = true;        // we choke it now
    bool snubbed = false;      // we want its data, it has sent us none for a while
    double download_rate = 0;  // bytes/s it sends us, measured by the torrent
    double upload_rate = 0;    // bytes/s we send it
    time_point connected_at;
    bool is_seed = false;
};

struct choker_config {
    std::size_t upload_slots = 4;
    duration unchoke_interval = seconds(10);
    duration optimistic_interval = seconds(30);
    duration new_peer_window = seconds(60);
    duration seed_turn_duration = seconds(60);
};

class choker {
public:
    explicit choker(choker_config config = {}) : config_(config) {}

    // The peers to unchoke (regular slots in rank order, then the optimistic one); choke the rest.
    std::vector<peer_key> decide(time_point now, std::span<const choker_peer> peers, bool we_are_seed,
                                 rng& random);

    // When decide() is due next; empty before the first call.
    std::optional<time_point> next_decision() const;
    std::optional<peer_key> optimistic() const { return optimistic_; }
    const choker_config& config() const { return config_; }

private:
    time_point since(const choker_peer& peer, time_point now) const;
    std::optional<peer_key> pick_optimistic(time_point now, std::span<const choker_peer> peers,
                                            const std::vector<peer_key>& regular, rng& random) const;
    bool holds_regular(peer_key key) const;

    choker_config config_;
    std::optional<time_point> last_decision_;
    std::optional<peer_key> optimistic_;
    time_point optimistic_since_;
    std::vector<std::pair<peer_key, time_point>> since_;  // by key: when we last (un)choked it
    std::vector<peer_key> regular_;                       // the last decision's regular slots
};

}  // namespace hyphae::bittorrent
