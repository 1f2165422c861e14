#include "hyphae/proto/dht/peer_store.hpp"

#include <algorithm>
#include <chrono>

namespace hyphae::dht {
namespace {

std::size_t malloc_chunk(std::size_t bytes) {
    return bytes == 0 ? 0 : (bytes + 8 + 15) / 16 * 16;
}

}  // namespace

peer_store::peer_store(const peer_store_config& config, const keyed_hash& hash)
    : config_(config), torrents_(0, info_hash_hasher{hash}) {
    config_.torrents_max = std::max<std::uint32_t>(config_.torrents_max, 1);
    config_.peers_per_torrent_max = std::max<std::uint32_t>(config_.peers_per_torrent_max, 1);
    const auto lifetime = std::chrono::ceil<seconds>(config_.peer_lifetime).count();
    lifetime_seconds_ = static_cast<std::uint32_t>(std::clamp<std::int64_t>(lifetime, 1, 0x7fff'ffff));
}

// Seconds modulo 2^32: ages are differences of stamps, right while they are under 136 years.
std::uint32_t peer_store::stamp_of(time_point now) {
    return static_cast<std::uint32_t>(std::chrono::floor<seconds>(now.time_since_epoch()).count());
}

void peer_store::announce(time_point now, const id160& info_hash, const endpoint& peer, bool seed) {
    if (peer.port == 0) {
        return;
    }
    const std::uint32_t stamp = stamp_of(now);
    auto it = torrents_.find(info_hash);
    if (it == torrents_.end()) {
        if (torrents_.size() >= config_.torrents_max) {
            evict_smallest_torrent(stamp);
        }
        it = torrents_.try_emplace(info_hash).first;
    }
    torrent& t = it->second;
    t.last_announce = stamp;
    const ip_address address = peer.address.unmapped();
    const byte_view bytes = address.bytes();
    if (address.is_v4()) {
        stored_peer<4> fresh{{}, peer.port, seed, stamp};
        std::copy(bytes.begin(), bytes.end(), fresh.ip.begin());
        upsert(t, t.v4, fresh);
    } else {
        stored_peer<16> fresh{{}, peer.port, seed, stamp};
        std::copy(bytes.begin(), bytes.end(), fresh.ip.begin());
        upsert(t, t.v6, fresh);
    }
}

template <std::size_t A>
void peer_store::upsert(torrent& t, std::vector<stored_peer<A>>& list, const stored_peer<A>& fresh) {
    for (stored_peer<A>& p : list) {
        if (p.port == fresh.port && p.ip == fresh.ip) {
            p = fresh;
            return;
        }
    }
    if (t.size() >= config_.peers_per_torrent_max) {
        evict_oldest_peer(t, fresh.seen);
    }
    // Grown by hand so that no vector holds much more than the bound.
    if (list.size() == list.capacity()) {
        const std::size_t grown = std::max<std::size_t>(4, list.capacity() * 2);
        list.reserve(std::min<std::size_t>(grown, config_.peers_per_torrent_max));
    }
    list.push_back(fresh);
    ++peers_;
}

void peer_store::evict_oldest_peer(torrent& t, std::uint32_t now) {
    // The largest age over both families; ages are stamps' differences, modulo 2^32.
    std::uint32_t oldest_age = 0;
    bool in_v6 = false;
    std::size_t at = 0;
    bool found = false;
    auto scan = [&](const auto& list, bool v6) {
        for (std::size_t i = 0; i < list.size(); ++i) {
            const std::uint32_t age = now - list[i].seen;
            if (!found || age > oldest_age) {
                found = true;
                oldest_age = age;
                in_v6 = v6;
                at = i;
            }
        }
    };
    scan(t.v4, false);
    scan(t.v6, true);
    if (!found) {
        return;
    }
    auto erase_at = [&](auto& list) {
        list[at] = list.back();
        list.pop_back();
    };
    if (in_v6) {
        erase_at(t.v6);
    } else {
        erase_at(t.v4);
    }
    --peers_;
    ++counters_.peers_evicted;
}

void peer_store::evict_smallest_torrent(std::uint32_t now) {
    auto victim = torrents_.end();
    for (auto it = torrents_.begin(); it != torrents_.end(); ++it) {
        if (victim == torrents_.end()) {
            victim = it;
            continue;
        }
        const std::size_t size = it->second.size();
        const std::size_t victim_size = victim->second.size();
        if (size < victim_size ||
            (size == victim_size && now - it->second.last_announce > now - victim->second.last_announce)) {
            victim = it;
        }
    }
    if (victim == torrents_.end()) {
        return;
    }
    peers_ -= victim->second.size();
    counters_.peers_evicted += victim->second.size();
    torrents_.erase(victim);
    ++counters_.torrents_evicted;
}

std::vector<endpoint> peer_store::get(time_point now, const id160& info_hash, bool want_v6, std::size_t max,
                                      rng& random, bool noseed) const {
    auto it = torrents_.find(info_hash);
    if (it == torrents_.end() || max == 0) {
        return {};
    }
    const std::uint32_t stamp = stamp_of(now);
    return want_v6 ? pick(stamp, it->second.v6, max, noseed, random)
                   : pick(stamp, it->second.v4, max, noseed, random);
}

template <std::size_t A>
std::vector<endpoint> peer_store::pick(std::uint32_t now, const std::vector<stored_peer<A>>& list,
                                       std::size_t max, bool noseed, rng& random) const {
    auto eligible = [&](const stored_peer<A>& p) {
        return now - p.seen < lifetime_seconds_ && !(noseed && p.seed);
    };
    std::size_t left = static_cast<std::size_t>(std::count_if(list.begin(), list.end(), eligible));
    std::size_t wanted = std::min(max, left);
    std::vector<endpoint> out;
    out.reserve(wanted);
    // Selection sampling (Knuth's algorithm S): take each candidate with probability
    // wanted / left, which makes every subset of `wanted` peers equally likely.
    for (std::size_t i = 0; i < list.size() && wanted > 0; ++i) {
        const stored_peer<A>& p = list[i];
        if (!eligible(p)) {
            continue;
        }
        if (random.uniform(left) < wanted) {
            if constexpr (A == 4) {
                out.push_back(endpoint{ip_address::v4(p.ip), p.port});
            } else {
                out.push_back(endpoint{ip_address::v6(p.ip), p.port});
            }
            --wanted;
        }
        --left;
    }
    return out;
}

void peer_store::expire(time_point now) {
    if (torrents_.empty()) {
        return;
    }
    const std::uint32_t stamp = stamp_of(now);
    auto sweep = [&](auto& list) {
        const auto gone = std::remove_if(list.begin(), list.end(),
                                         [&](const auto& p) { return stamp - p.seen >= lifetime_seconds_; });
        const auto removed = static_cast<std::size_t>(list.end() - gone);
        list.erase(gone, list.end());
        peers_ -= removed;
        counters_.peers_expired += removed;
        // Memory goes back when a torrent's peers fall to a quarter of what it holds room for.
        if ((list.empty() && list.capacity() > 0) ||
            (list.capacity() > 4 && list.capacity() >= 4 * list.size())) {
            list.shrink_to_fit();
        }
    };
    for (auto it = torrents_.begin(); it != torrents_.end();) {
        sweep(it->second.v4);
        sweep(it->second.v6);
        if (it->second.size() == 0) {
            it = torrents_.erase(it);
        } else {
            ++it;
        }
    }
    if (torrents_.empty()) {
        // An empty map keeps its bucket array; a new one has none.
        torrents_ = torrent_map(0, torrents_.hash_function());
    }
}

std::vector<id160> peer_store::sample(std::size_t max, rng& random) const {
    std::size_t left = torrents_.size();
    std::size_t wanted = std::min(max, left);
    std::vector<id160> out;
    out.reserve(wanted);
    for (auto it = torrents_.begin(); it != torrents_.end() && wanted > 0; ++it, --left) {
        if (random.uniform(left) < wanted) {
            out.push_back(it->first);
            --wanted;
        }
    }
    return out;
}

std::size_t peer_store::memory_bytes() const {
    // A node: next pointer, key (padded to 8) and torrent.
    constexpr std::size_t node = sizeof(void*) + (sizeof(id160) + 7) / 8 * 8 + sizeof(torrent);
    std::size_t bytes =
        torrents_.bucket_count() > 1 ? malloc_chunk(torrents_.bucket_count() * sizeof(void*)) : 0;
    for (const auto& [info_hash, t] : torrents_) {
        bytes += malloc_chunk(node) + malloc_chunk(t.v4.capacity() * sizeof(stored_peer<4>)) +
                 malloc_chunk(t.v6.capacity() * sizeof(stored_peer<16>));
    }
    return bytes;
}

}  // namespace hyphae::dht
