#include "hyphae/proto/bittorrent/choker.hpp"

#include <algorithm>
#include <cstdint>

namespace hyphae::bittorrent {

namespace {

bool contains(const std::vector<peer_key>& keys, peer_key key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
}

}  // namespace

time_point choker::since(const choker_peer& peer, time_point now) const {
    const auto it = std::lower_bound(since_.begin(), since_.end(), peer.key,
                                     [](const auto& entry, peer_key key) { return entry.first < key; });
    // A peer not seen before is taken to be in its state from now on.
    return it != since_.end() && it->first == peer.key ? it->second : now;
}

bool choker::holds_regular(peer_key key) const {
    return contains(regular_, key);
}

std::optional<time_point> choker::next_decision() const {
    if (!last_decision_) {
        return std::nullopt;
    }
    return *last_decision_ + config_.unchoke_interval;
}

std::vector<peer_key> choker::decide(time_point now, std::span<const choker_peer> peers, bool we_are_seed,
                                     rng& random) {
    last_decision_ = now;
    const std::size_t regular_slots = config_.upload_slots > 0 ? config_.upload_slots - 1 : 0;

    struct ranked {
        const choker_peer* peer;
        int tier;  // lower first
        double rate;
        std::uint64_t tie;
    };
    std::vector<ranked> candidates;
    for (const choker_peer& peer : peers) {
        if (!peer.interested || peer.is_seed || (!we_are_seed && peer.snubbed)) {
            continue;
        }
        int tier = 0;
        if (we_are_seed) {
            const bool in_turn = !peer.choked && holds_regular(peer.key) &&
                                 now - since(peer, now) < config_.seed_turn_duration;
            tier = in_turn ? 0 : (optimistic_ == peer.key && !peer.choked ? 1 : 2);
        }
        candidates.push_back({&peer, tier, we_are_seed ? peer.upload_rate : peer.download_rate, random()});
    }
    std::sort(candidates.begin(), candidates.end(), [](const ranked& a, const ranked& b) {
        if (a.tier != b.tier) {
            return a.tier < b.tier;
        }
        if (a.rate != b.rate) {
            return a.rate > b.rate;
        }
        if (a.peer->choked != b.peer->choked) {
            return !a.peer->choked;
        }
        return a.tie < b.tie;
    });
    std::vector<peer_key> unchoke;
    for (std::size_t i = 0; i < std::min(regular_slots, candidates.size()); ++i) {
        unchoke.push_back(candidates[i].peer->key);
    }
    regular_ = unchoke;

    // The optimistic slot: kept for its interval unless its peer left, lost interest or won a
    // regular slot; a peer that is still eligible keeps it when nobody else could take it.
    const choker_peer* current = nullptr;
    for (const choker_peer& peer : peers) {
        if (optimistic_ == peer.key) {
            current = &peer;
        }
    }
    const bool current_eligible =
        current != nullptr && current->interested && !current->is_seed && !contains(unchoke, current->key);
    if (config_.upload_slots == 0) {
        optimistic_.reset();
    } else if (!current_eligible || now - optimistic_since_ >= config_.optimistic_interval) {
        if (auto next = pick_optimistic(now, peers, unchoke, random)) {
            optimistic_ = next;
            optimistic_since_ = now;
        } else if (!current_eligible) {
            optimistic_.reset();
        }
    }
    if (optimistic_) {
        unchoke.push_back(*optimistic_);
    }

    // Remember when each peer's state last changed, for the seed's turns; peers gone are dropped.
    std::vector<std::pair<peer_key, time_point>> next_since;
    next_since.reserve(peers.size());
    for (const choker_peer& peer : peers) {
        const bool unchoked = contains(unchoke, peer.key);
        next_since.emplace_back(peer.key, unchoked == !peer.choked ? since(peer, now) : now);
    }
    std::sort(next_since.begin(), next_since.end());
    since_ = std::move(next_since);
    return unchoke;
}

std::optional<peer_key> choker::pick_optimistic(time_point now, std::span<const choker_peer> peers,
                                                const std::vector<peer_key>& regular, rng& random) const {
    // Choked peers first; a peer that just lost its regular slot rather than an unused slot.
    for (const bool choked : {true, false}) {
        const auto weight = [&](const choker_peer& peer) -> std::uint64_t {
            if (!peer.interested || peer.is_seed || peer.choked != choked || optimistic_ == peer.key ||
                contains(regular, peer.key)) {
                return 0;
            }
            return now - peer.connected_at < config_.new_peer_window ? 3 : 1;
        };
        std::uint64_t total = 0;
        for (const choker_peer& peer : peers) {
            total += weight(peer);
        }
        if (total == 0) {
            continue;
        }
        std::uint64_t draw = random.uniform(total);
        for (const choker_peer& peer : peers) {
            const std::uint64_t w = weight(peer);
            if (draw < w) {
                return peer.key;
            }
            draw -= w;
        }
    }
    return std::nullopt;
}

}  // namespace hyphae::bittorrent
