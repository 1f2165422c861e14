#pragma once
// The tracker's state file, so that a restarted tracker keeps its swarms: every swarm (info-hash,
// completed count, idle time) and every peer (address, port, seeder, peer-id tag, age), with ages
// instead of times, and the wall-clock time of the save so that the downtime ages them on load.
//
//   "HYTRKST\n" version:u32 saved_at:i64 (Unix seconds) swarms:u64 peers:u64
//   per swarm: info-hash[20] completed:u32 idle:u32 v4_peers:u32 v6_peers:u32, then its peers:
//     address[4|16] port:u16 flags:u8 (1 seeder, 2 completed counted) tag:u16 age:u32
//   SHA-1 of all the above
// Integers are big-endian. The file is written by the runtime atomically; a file that does not
// check out (truncated, corrupt, another version) is an error before anything is restored.
// Restoring keeps the table's bounds (refusing what does not fit, not evicting) and the
// allow-list, and drops peers whose age, downtime included, passed peer_ttl and swarms with no
// peer left whose idle time passed swarm_ttl.

#include <cstdint>
#include <functional>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/error.hpp"
#include "hyphae/proto/tracker/swarm_table.hpp"

namespace hyphae::tracker {

struct tracker_state_summary {
    std::size_t swarms = 0;         // restored
    std::size_t peers = 0;          // restored
    std::size_t peers_expired = 0;  // too old, downtime included
    std::size_t refused = 0;        // swarms and peers beyond a bound, repeated, or not allowed
    std::int64_t downtime_seconds = 0;
};

byte_buffer encode_tracker_state(const swarm_table& table, std::uint32_t now, std::int64_t wall_seconds);

result<tracker_state_summary> restore_tracker_state(byte_view file, swarm_table& table, std::uint32_t now,
                                                    std::int64_t wall_seconds, std::uint32_t peer_ttl,
                                                    std::uint32_t swarm_ttl,
                                                    const std::function<bool(const sha1_hash&)>& allowed);

}  // namespace hyphae::tracker
