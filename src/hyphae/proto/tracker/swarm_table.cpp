#include "hyphae/proto/tracker/swarm_table.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace hyphae::tracker {
namespace {

template <std::size_t A>
tracked_peer<A> key_of(const endpoint& address, std::uint32_t tag) {
    tracked_peer<A> p;
    const byte_view bytes = address.address.bytes();
    std::copy(bytes.begin(), bytes.end(), p.ip.begin());
    p.port = address.port;
    p.tag = static_cast<std::uint16_t>(tag & tracked_peer<A>::tag_mask);
    return p;
}

template <std::size_t A>
endpoint endpoint_of(const tracked_peer<A>& p) {
    if constexpr (A == 4) {
        return endpoint{ip_address::v4(p.ip), p.port};
    } else {
        return endpoint{ip_address::v6(p.ip), p.port};
    }
}

// The `count` oldest of `seen` times: those strictly older than the returned time, and then as
// many of that time as `ties` says.
struct oldest_cut {
    std::uint32_t time = 0;
    std::size_t ties = 0;
};

oldest_cut find_oldest(std::vector<std::uint32_t>& times, std::size_t count) {
    const auto nth = times.begin() + static_cast<std::ptrdiff_t>(count - 1);
    std::nth_element(times.begin(), nth, times.end());
    const std::uint32_t cut = *nth;
    const auto older = static_cast<std::size_t>(
        std::count_if(times.begin(), times.end(), [cut](std::uint32_t t) { return t < cut; }));
    return {cut, count - older};
}

}  // namespace

std::uint32_t peer_id_tag(const id160& peer_id) {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::uint32_t c = 0;
    std::memcpy(&a, peer_id.bytes.data(), 8);
    std::memcpy(&b, peer_id.bytes.data() + 8, 8);
    std::memcpy(&c, peer_id.bytes.data() + 16, 4);
    const std::uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ b * 0xc2b2ae3d27d4eb4fULL ^ c * 0x165667b19e3779f9ULL;
    return static_cast<std::uint32_t>(h >> 32) ^ static_cast<std::uint32_t>(h);
}

swarm_table::swarm_table(const swarm_limits& limits, const keyed_hash& hash)
    : limits_(limits), hash_(hash), ctx_{hash_, indexes_}, swarms_(16, info_hash_hasher{hash}) {
    limits_.swarms_max = std::max<std::size_t>(limits_.swarms_max, 1);
    limits_.peers_max = std::max<std::size_t>(limits_.peers_max, 1);
    limits_.peers_per_swarm_max = std::max<std::size_t>(limits_.peers_per_swarm_max, 1);
}

swarm_counts swarm_table::counts_of(const swarm& s) const {
    swarm_counts c{s.v4.seeders(), s.v4.leechers(), s.completed};
    if (s.v6) {
        c.seeders += s.v6->seeders();
        c.leechers += s.v6->leechers();
    }
    return c;
}

swarm_counts swarm_table::counts(const sha1_hash& info_hash) const {
    auto it = swarms_.find(info_hash);
    return it == swarms_.end() ? swarm_counts{} : counts_of(it->second);
}

announce_outcome swarm_table::announce(std::uint32_t now, const peer_announce& a, std::uint32_t peer_ttl,
                                       rng& random) {
    selected_.clear();
    const bool v6 = a.address.address.is_v6();
    const std::uint32_t tag = peer_id_tag(a.peer_id);
    auto it = swarms_.find(a.info_hash);
    const bool refused = it == swarms_.end() && creation_filter_ && !creation_filter_(a.info_hash);
    if (refused) {
        return {{}, {}, true};
    }
    if (a.event == announce_event::stopped) {
        if (it == swarms_.end()) {
            return {};
        }
        swarm& s = it->second;
        s.last_active = now;
        auto remove = [&](auto& list, const auto& key) {
            if (auto pos = list.find(key, ctx_)) {
                peers_ -= 1;
                seeders_ -= list.is_seeder(*pos) ? 1 : 0;
                list.erase(*pos, ctx_);
            }
        };
        if (!v6) {
            remove(s.v4, key_of<4>(a.address, tag));
        } else if (s.v6) {
            remove(*s.v6, key_of<16>(a.address, tag));
        }
        return {counts_of(s), {}};
    }
    if (it == swarms_.end()) {
        if (swarms_.size() >= limits_.swarms_max) {
            evict_oldest_swarms();
        }
        it = swarms_.try_emplace(a.info_hash).first;
    }
    swarm& s = it->second;
    s.last_active = now;
    if (!v6) {
        const std::uint32_t self = upsert(now, s, s.v4, key_of<4>(a.address, tag), a);
        select(now, s.v4, self, a.seeder, a.numwant, peer_ttl, random);
        if (a.both_families && s.v6) {
            select(now, *s.v6, std::nullopt, a.seeder, a.numwant, peer_ttl, random);
        }
    } else {
        if (!s.v6) {
            s.v6 = std::make_unique<peer_list<16>>();
        }
        const std::uint32_t self = upsert(now, s, *s.v6, key_of<16>(a.address, tag), a);
        select(now, *s.v6, self, a.seeder, a.numwant, peer_ttl, random);
        if (a.both_families) {
            select(now, s.v4, std::nullopt, a.seeder, a.numwant, peer_ttl, random);
        }
    }
    return {counts_of(s), selected_};
}

template <std::size_t A>
std::uint32_t swarm_table::upsert(std::uint32_t now, swarm& s, peer_list<A>& list, const tracked_peer<A>& key,
                                  const peer_announce& a) {
    std::optional<std::uint32_t> pos = list.find(key, ctx_);
    if (!pos) {
        if (s.size() >= limits_.peers_per_swarm_max) {
            evict_oldest_in(s);
        }
        if (peers_ >= limits_.peers_max) {
            evict_oldest_peers(now);
        }
        tracked_peer<A> fresh = key;
        fresh.seen = now;
        pos = list.insert(fresh, a.seeder, ctx_);
        ++peers_;
        seeders_ += a.seeder ? 1 : 0;
    } else {
        if (list.is_seeder(*pos) != a.seeder) {
            seeders_ += a.seeder ? 1 : 0;
            seeders_ -= a.seeder ? 0 : 1;
            pos = list.set_seeder(*pos, a.seeder, ctx_);
        }
        list.at(*pos).seen = now;
    }
    tracked_peer<A>& p = list.at(*pos);
    if (a.event == announce_event::completed && !(p.tag & tracked_peer<A>::completed_counted)) {
        p.tag |= tracked_peer<A>::completed_counted;
        ++s.completed;
        ++completed_total_;
    }
    return *pos;
}

template <std::size_t A>
void swarm_table::select(std::uint32_t now, const peer_list<A>& list, std::optional<std::uint32_t> self,
                         bool seeder, std::size_t numwant, std::uint32_t peer_ttl, rng& random) {
    if (selected_.size() >= numwant) {
        return;
    }
    const std::uint32_t range_end = seeder ? list.leechers() : list.size();
    list.sample(range_end, numwant - selected_.size(), self, random, [&](const tracked_peer<A>& p) {
        if (now - p.seen > peer_ttl) {
            return false;
        }
        selected_.push_back(endpoint_of(p));
        return true;
    });
}

void swarm_table::evict_oldest_swarms() {
    const std::size_t batch = std::min(swarms_.size(), std::max<std::size_t>(1, limits_.swarms_max / 16));
    if (batch == 0) {
        return;
    }
    scratch_.clear();
    for (const auto& [info_hash, s] : swarms_) {
        scratch_.push_back(s.last_active);
    }
    oldest_cut cut = find_oldest(scratch_, batch);
    for (auto it = swarms_.begin(); it != swarms_.end();) {
        const std::uint32_t t = it->second.last_active;
        if (t < cut.time || (t == cut.time && cut.ties > 0)) {
            cut.ties -= t == cut.time ? 1 : 0;
            const std::size_t before = peers_;
            remove_from(it->second.v4, [](const auto&) { return true; });
            if (it->second.v6) {
                remove_from(*it->second.v6, [](const auto&) { return true; });
            }
            counters_.peers_evicted += before - peers_;
            it = swarms_.erase(it);
            ++counters_.swarms_evicted;
        } else {
            ++it;
        }
    }
}

void swarm_table::evict_oldest_in(swarm& s) {
    const std::size_t batch =
        std::min<std::size_t>(s.size(), std::max<std::size_t>(1, limits_.peers_per_swarm_max / 16));
    if (batch == 0) {
        return;
    }
    scratch_.clear();
    auto collect = [&](const auto& list) {
        for (std::uint32_t i = 0; i < list.size(); ++i) {
            scratch_.push_back(list[i].seen);
        }
    };
    collect(s.v4);
    if (s.v6) {
        collect(*s.v6);
    }
    oldest_cut cut = find_oldest(scratch_, batch);
    auto older = [&cut](const auto& p) {
        if (p.seen < cut.time) {
            return true;
        }
        if (p.seen == cut.time && cut.ties > 0) {
            --cut.ties;
            return true;
        }
        return false;
    };
    const std::size_t before = peers_;
    remove_from(s.v4, older);
    if (s.v6) {
        remove_from(*s.v6, older);
    }
    counters_.peers_evicted += before - peers_;
}

// Ages, not times, go into a histogram: the table may hold billions of seconds of range but only
// needs to tell the oldest 1/16 of its peers apart.
void swarm_table::evict_oldest_peers(std::uint32_t now) {
    const std::size_t batch = std::min(peers_, std::max<std::size_t>(1, limits_.peers_max / 16));
    if (batch == 0) {
        return;
    }
    std::uint32_t oldest_age = 0;
    for (const auto& [info_hash, s] : swarms_) {
        for (std::uint32_t i = 0; i < s.v4.size(); ++i) {
            oldest_age = std::max(oldest_age, now - s.v4[i].seen);
        }
        if (s.v6) {
            for (std::uint32_t i = 0; i < s.v6->size(); ++i) {
                oldest_age = std::max(oldest_age, now - (*s.v6)[i].seen);
            }
        }
    }
    constexpr std::uint32_t bins = 4096;
    const std::uint32_t width = oldest_age / bins + 1;
    std::vector<std::size_t> histogram(bins, 0);
    auto bin_of = [&](std::uint32_t seen) {
        return (now - seen) / width;
    };
    for (const auto& [info_hash, s] : swarms_) {
        for (std::uint32_t i = 0; i < s.v4.size(); ++i) {
            ++histogram[bin_of(s.v4[i].seen)];
        }
        if (s.v6) {
            for (std::uint32_t i = 0; i < s.v6->size(); ++i) {
                ++histogram[bin_of((*s.v6)[i].seen)];
            }
        }
    }
    // Walk from the oldest bin until the batch is covered.
    std::uint32_t cut_bin = bins - 1;
    std::size_t covered = 0;
    while (covered + histogram[cut_bin] < batch) {
        covered += histogram[cut_bin];
        --cut_bin;
    }
    std::size_t ties = batch - covered;
    auto older = [&](const auto& p) {
        const std::uint32_t b = bin_of(p.seen);
        if (b > cut_bin) {
            return true;
        }
        if (b == cut_bin && ties > 0) {
            --ties;
            return true;
        }
        return false;
    };
    const std::size_t before = peers_;
    for (auto& [info_hash, s] : swarms_) {
        remove_from(s.v4, older);
        if (s.v6) {
            remove_from(*s.v6, older);
        }
    }
    counters_.peers_evicted += before - peers_;
}

void swarm_table::sweep(std::uint32_t now, std::uint32_t peer_ttl, std::uint32_t swarm_ttl,
                        std::size_t buckets) {
    const std::size_t count = swarms_.bucket_count();
    buckets = std::min(buckets, count);
    std::vector<sha1_hash> idle;
    auto expired = [&](const auto& p) {
        return now - p.seen > peer_ttl;
    };
    for (std::size_t n = 0; n < buckets; ++n) {
        const std::size_t b = sweep_cursor_++ % count;
        for (auto it = swarms_.begin(b); it != swarms_.end(b); ++it) {
            swarm& s = it->second;
            const std::size_t before = peers_;
            remove_from(s.v4, expired);
            if (s.v6) {
                remove_from(*s.v6, expired);
                if (s.v6->empty()) {
                    s.v6.reset();
                }
            }
            counters_.peers_expired += before - peers_;
            if (s.size() == 0 && now - s.last_active > swarm_ttl) {
                idle.push_back(it->first);
            }
        }
    }
    sweep_cursor_ %= count;
    for (const sha1_hash& info_hash : idle) {
        swarms_.erase(info_hash);
        ++counters_.swarms_expired;
    }
}

std::size_t swarm_table::memory_bytes() const {
    // A node of the map: its next pointer, the key and the swarm, rounded up as malloc does.
    constexpr std::size_t node = (sizeof(void*) + sizeof(sha1_hash) + 4 + sizeof(swarm) + 8 + 15) / 16 * 16;
    std::size_t bytes =
        swarms_.bucket_count() * sizeof(void*) + swarms_.size() * node + indexes_.memory_bytes();
    for (const auto& [info_hash, s] : swarms_) {
        bytes += s.v4.memory_bytes();
        if (s.v6) {
            bytes += (sizeof(peer_list<16>) + 8 + 15) / 16 * 16 + s.v6->memory_bytes();
        }
    }
    return bytes;
}

bool swarm_table::erase_swarm(const sha1_hash& info_hash) {
    auto it = swarms_.find(info_hash);
    if (it == swarms_.end()) {
        return false;
    }
    remove_from(it->second.v4, [](const auto&) { return true; });
    if (it->second.v6) {
        remove_from(*it->second.v6, [](const auto&) { return true; });
    }
    swarms_.erase(it);
    return true;
}

bool swarm_table::restore_swarm(const sha1_hash& info_hash, std::uint32_t completed,
                                std::uint32_t last_active) {
    if (swarms_.size() >= limits_.swarms_max || swarms_.contains(info_hash)) {
        return false;
    }
    swarm& s = swarms_[info_hash];
    s.completed = completed;
    s.last_active = last_active;
    return true;
}

}  // namespace hyphae::tracker
