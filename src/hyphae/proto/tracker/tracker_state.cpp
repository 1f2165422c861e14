#include "hyphae/proto/tracker/tracker_state.hpp"

#include <algorithm>
#include <string_view>

#include "hyphae/core/sha.hpp"

namespace hyphae::tracker {
namespace {

constexpr std::string_view magic = "HYTRKST\n";
constexpr std::uint32_t version = 1;
constexpr std::size_t header_size = 8 + 4 + 8 + 8 + 8;
constexpr std::size_t swarm_header_size = 20 + 4 + 4 + 4 + 4;
constexpr std::string_view where = "tracker state";

enum : std::uint8_t { seeder_flag = 1, completed_flag = 2 };

void put(byte_buffer& out, std::uint64_t value, int bytes) {
    for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(value >> shift));
    }
}

std::uint64_t get(byte_view in, std::size_t at, int bytes) {
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) {
        value = value << 8 | in[at + static_cast<std::size_t>(i)];
    }
    return value;
}

template <std::size_t A>
void put_peers(byte_buffer& out, const peer_list<A>& list, std::uint32_t now) {
    for (std::uint32_t i = 0; i < list.size(); ++i) {
        const tracked_peer<A>& p = list[i];
        out.insert(out.end(), p.ip.begin(), p.ip.end());
        put(out, p.port, 2);
        const std::uint8_t flags =
            static_cast<std::uint8_t>((list.is_seeder(i) ? seeder_flag : 0) |
                                      (p.tag & tracked_peer<A>::completed_counted ? completed_flag : 0));
        out.push_back(flags);
        put(out, p.tag & tracked_peer<A>::tag_mask, 2);
        put(out, now - std::min(p.seen, now), 4);
    }
}

// The sizes of one swarm's record, read from its header.
struct swarm_record {
    std::size_t size = 0;
    std::uint32_t v4 = 0;
    std::uint32_t v6 = 0;
};

constexpr std::size_t peer_record_size(std::size_t address_bytes) {
    return address_bytes + 2 + 1 + 2 + 4;
}

result<swarm_record> read_swarm_record(byte_view body, std::size_t at) {
    if (body.size() - at < swarm_header_size) {
        return fail(errc::invalid_input, std::string(where), "truncated swarm at byte " + std::to_string(at));
    }
    swarm_record r;
    r.v4 = static_cast<std::uint32_t>(get(body, at + 28, 4));
    r.v6 = static_cast<std::uint32_t>(get(body, at + 32, 4));
    const std::uint64_t size = swarm_header_size + std::uint64_t{r.v4} * peer_record_size(4) +
                               std::uint64_t{r.v6} * peer_record_size(16);
    if (size > body.size() - at) {
        return fail(errc::invalid_input, std::string(where),
                    "swarm at byte " + std::to_string(at) + " runs past the end of the file");
    }
    r.size = static_cast<std::size_t>(size);
    return r;
}

}  // namespace

byte_buffer encode_tracker_state(const swarm_table& table, std::uint32_t now, std::int64_t wall_seconds) {
    byte_buffer out;
    out.reserve(header_size + table.swarms() * swarm_header_size + table.peers() * peer_record_size(4) + 20);
    for (const char c : magic) {  // (an insert of the range trips g++ 12's -Wstringop-overflow at -O2)
        out.push_back(static_cast<std::uint8_t>(c));
    }
    put(out, version, 4);
    put(out, static_cast<std::uint64_t>(wall_seconds), 8);
    put(out, table.swarms(), 8);
    put(out, table.peers(), 8);
    table.for_each_swarm([&](const sha1_hash& info_hash, std::uint32_t completed, std::uint32_t last_active,
                             const peer_list<4>& v4, const peer_list<16>* v6) {
        out.insert(out.end(), info_hash.bytes.begin(), info_hash.bytes.end());
        put(out, completed, 4);
        put(out, now - std::min(last_active, now), 4);
        put(out, v4.size(), 4);
        put(out, v6 ? v6->size() : 0, 4);
        put_peers(out, v4, now);
        if (v6) {
            put_peers(out, *v6, now);
        }
    });
    const sha1_hash digest = sha1(out);
    out.insert(out.end(), digest.bytes.begin(), digest.bytes.end());
    return out;
}

result<tracker_state_summary> restore_tracker_state(byte_view file, swarm_table& table, std::uint32_t now,
                                                    std::int64_t wall_seconds, std::uint32_t peer_ttl,
                                                    std::uint32_t swarm_ttl,
                                                    const std::function<bool(const sha1_hash&)>& allowed) {
    if (file.size() < header_size + 20 || as_chars(file.first(magic.size())) != magic) {
        return fail(errc::invalid_input, std::string(where), "not a Hyphae tracker state file");
    }
    const byte_view body = file.first(file.size() - 20);
    if (sha1(body) != *sha1_hash::from_bytes(file.last(20))) {
        return fail(errc::invalid_input, std::string(where), "checksum mismatch (truncated or corrupt)");
    }
    if (get(body, 8, 4) != version) {
        return fail(errc::unsupported, std::string(where),
                    "version " + std::to_string(get(body, 8, 4)) + " (this build reads version 1)");
    }
    const auto saved_at = static_cast<std::int64_t>(get(body, 12, 8));
    if (saved_at < 0) {
        return fail(errc::invalid_input, std::string(where),
                    "saved at " + std::to_string(saved_at) + ", before 1970");
    }
    const std::uint64_t swarm_count = get(body, 20, 8);
    const std::uint64_t peer_count = get(body, 28, 8);

    // First pass: the structure, before anything changes.
    std::uint64_t swarms_seen = 0;
    std::uint64_t peers_seen = 0;
    std::size_t at = header_size;
    while (at < body.size()) {
        auto record = read_swarm_record(body, at);
        if (!record) {
            return tl::unexpected(record.error());
        }
        ++swarms_seen;
        peers_seen += record->v4 + record->v6;
        at += record->size;
    }
    if (swarms_seen != swarm_count || peers_seen != peer_count) {
        return fail(errc::invalid_input, std::string(where),
                    "holds " + std::to_string(swarms_seen) + " swarms and " + std::to_string(peers_seen) +
                        " peers, its header says " + std::to_string(swarm_count) + " and " +
                        std::to_string(peer_count));
    }

    tracker_state_summary summary;
    // Both are at least 0 here, so the difference cannot overflow; a save "in the future" (a clock
    // set back) counts as no downtime.
    summary.downtime_seconds = std::max<std::int64_t>(0, std::max<std::int64_t>(wall_seconds, 0) - saved_at);
    const auto downtime = static_cast<std::uint64_t>(summary.downtime_seconds);
    // Times on the table's clock cannot go below zero: older is older than any ttl anyway.
    auto time_of = [now](std::uint64_t age) {
        return static_cast<std::uint32_t>(now - std::min<std::uint64_t>(age, now));
    };
    at = header_size;
    while (at < body.size()) {
        const swarm_record record = *read_swarm_record(body, at);
        const sha1_hash info_hash = *sha1_hash::from_bytes(body.subspan(at, 20));
        const auto completed = static_cast<std::uint32_t>(get(body, at + 20, 4));
        const std::uint64_t idle = get(body, at + 24, 4) + downtime;
        std::size_t p = at + swarm_header_size;
        at += record.size;

        if (!allowed(info_hash)) {
            summary.refused += 1 + record.v4 + record.v6;
            continue;
        }
        if (!table.restore_swarm(info_hash, completed, time_of(idle))) {
            summary.refused += 1 + record.v4 + record.v6;
            continue;
        }
        ++summary.swarms;
        auto restore = [&]<std::size_t A>(std::uint32_t count) {
            for (std::uint32_t i = 0; i < count; ++i, p += peer_record_size(A)) {
                const std::uint64_t age = get(body, p + A + 5, 4) + downtime;
                if (age > peer_ttl) {
                    ++summary.peers_expired;
                    continue;
                }
                tracked_peer<A> peer;
                std::copy_n(body.begin() + static_cast<std::ptrdiff_t>(p), A, peer.ip.begin());
                peer.port = static_cast<std::uint16_t>(get(body, p + A, 2));
                const std::uint8_t flags = body[p + A + 2];
                peer.tag = static_cast<std::uint16_t>(
                    (get(body, p + A + 3, 2) & tracked_peer<A>::tag_mask) |
                    (flags & completed_flag ? tracked_peer<A>::completed_counted : 0));
                peer.seen = time_of(age);
                if (peer.port != 0 && table.restore_peer(info_hash, peer, (flags & seeder_flag) != 0)) {
                    ++summary.peers;
                } else {
                    ++summary.refused;
                }
            }
        };
        const std::size_t before = summary.peers;
        restore.operator()<4>(record.v4);
        restore.operator()<16>(record.v6);
        // An old swarm is worth keeping only for peers that are still current.
        if (summary.peers == before && idle > swarm_ttl) {
            table.erase_swarm(info_hash);
            --summary.swarms;
        }
    }
    return summary;
}

}  // namespace hyphae::tracker
