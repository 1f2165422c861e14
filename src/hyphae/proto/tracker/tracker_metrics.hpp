#pragma once
// The tracker's figures, as /stats shows them (JSON) and /metrics (Prometheus text format 0.0.4).
// Both come from one table of metrics, so that they never disagree: top-level figures in JSON are
// `hyphae_tracker_<name>` in Prometheus, grouped ones `hyphae_tracker_<group>_<name>`, and
// counters end in `_total`.

#include <cstdint>
#include <string>

namespace hyphae::tracker {

struct tracker_counters {
    std::uint64_t udp_datagrams = 0;
    std::uint64_t udp_connects = 0;
    std::uint64_t udp_announces = 0;
    std::uint64_t udp_scrapes = 0;
    std::uint64_t udp_errors_sent = 0;         // error responses (action 3)
    std::uint64_t udp_bad_connection_ids = 0;  // forged or expired
    std::uint64_t udp_malformed = 0;           // too short, wrong size, unknown action or magic
    std::uint64_t http_connections = 0;
    std::uint64_t http_connections_refused = 0;
    std::uint64_t http_connections_timed_out = 0;
    std::uint64_t http_requests = 0;
    std::uint64_t http_announces = 0;
    std::uint64_t http_scrapes = 0;
    std::uint64_t http_malformed = 0;  // answered 400 and closed
    std::uint64_t http_not_found = 0;
    std::uint64_t announce_failures = 0;  // refused announces and scrapes, over either transport
    std::uint64_t unknown_torrents = 0;   // not in the allow-list
    std::uint64_t rate_limited = 0;
    std::uint64_t replies_dropped = 0;  // the output queue was full
};

struct tracker_figures {
    tracker_counters counters;
    std::uint64_t swarms = 0;
    std::uint64_t peers = 0;
    std::uint64_t seeders = 0;
    std::uint64_t leechers = 0;
    std::uint64_t completed = 0;       // 'completed' events since start
    std::uint64_t memory_bytes = 0;    // the swarm table's own accounting
    std::uint64_t resident_bytes = 0;  // the process's, when the runtime tells (else 0)
    std::uint64_t uptime_seconds = 0;
    std::uint64_t allow_list_enabled = 0;
    std::uint64_t allowed_info_hashes = 0;
    std::uint64_t http_connections_open = 0;
    std::uint64_t rate_limited_addresses = 0;
    std::uint64_t peers_expired = 0;
    std::uint64_t peers_evicted = 0;
    std::uint64_t swarms_expired = 0;
    std::uint64_t swarms_evicted = 0;
};

std::string format_stats_json(const tracker_figures& figures);
std::string format_metrics(const tracker_figures& figures);

}  // namespace hyphae::tracker
