#include "hyphae/proto/tracker/tracker_metrics.hpp"

#include <string_view>

namespace hyphae::tracker {
namespace {

enum class kind { gauge, counter };

struct metric {
    std::string_view group;  // empty: top level
    std::string_view name;
    kind type;
    std::uint64_t tracker_figures::*figure = nullptr;
    std::uint64_t tracker_counters::*counter = nullptr;
    std::string_view help;
};

using F = tracker_figures;
using C = tracker_counters;

// Grouped rows of one group must follow each other (JSON objects are written in one go).
constexpr metric metrics[] = {
    {"", "swarms", kind::gauge, &F::swarms, nullptr, "Swarms tracked."},
    {"", "peers", kind::gauge, &F::peers, nullptr, "Peers tracked, seeders and leechers."},
    {"", "seeders", kind::gauge, &F::seeders, nullptr, "Peers with nothing left to download."},
    {"", "leechers", kind::gauge, &F::leechers, nullptr, "Peers still downloading."},
    {"", "completed", kind::counter, &F::completed, nullptr, "Completed events counted since start."},
    {"", "memory_bytes", kind::gauge, &F::memory_bytes, nullptr, "Heap held by the swarm table."},
    {"", "resident_bytes", kind::gauge, &F::resident_bytes, nullptr, "Resident memory of the process."},
    {"", "uptime_seconds", kind::gauge, &F::uptime_seconds, nullptr, "Seconds since the tracker started."},
    {"", "allow_list_enabled", kind::gauge, &F::allow_list_enabled, nullptr,
     "1 when only listed info-hashes are tracked."},
    {"", "allowed_info_hashes", kind::gauge, &F::allowed_info_hashes, nullptr,
     "Info-hashes in the allow-list."},
    {"", "announce_failures", kind::counter, nullptr, &C::announce_failures,
     "Announces and scrapes refused with a failure reason."},
    {"", "unknown_torrents", kind::counter, nullptr, &C::unknown_torrents,
     "Requests for info-hashes not in the allow-list."},
    {"", "rate_limited", kind::counter, nullptr, &C::rate_limited,
     "Requests refused by the per-address rate limit."},
    {"", "rate_limited_addresses", kind::gauge, &F::rate_limited_addresses, nullptr,
     "Addresses with a rate-limit bucket."},
    {"", "replies_dropped", kind::counter, nullptr, &C::replies_dropped,
     "Replies dropped because the output queue was full."},
    {"udp", "datagrams", kind::counter, nullptr, &C::udp_datagrams, "UDP datagrams received."},
    {"udp", "connects", kind::counter, nullptr, &C::udp_connects, "UDP connect requests answered."},
    {"udp", "announces", kind::counter, nullptr, &C::udp_announces, "UDP announces answered with peers."},
    {"udp", "scrapes", kind::counter, nullptr, &C::udp_scrapes, "UDP scrapes answered."},
    {"udp", "errors_sent", kind::counter, nullptr, &C::udp_errors_sent, "UDP error responses sent."},
    {"udp", "bad_connection_ids", kind::counter, nullptr, &C::udp_bad_connection_ids,
     "UDP requests with a forged or expired connection id."},
    {"udp", "malformed", kind::counter, nullptr, &C::udp_malformed,
     "UDP datagrams too short, of the wrong size, or of an unknown action."},
    {"http", "connections_open", kind::gauge, &F::http_connections_open, nullptr, "HTTP connections open."},
    {"http", "connections", kind::counter, nullptr, &C::http_connections, "HTTP connections accepted."},
    {"http", "connections_refused", kind::counter, nullptr, &C::http_connections_refused,
     "HTTP connections closed at once: too many open."},
    {"http", "connections_timed_out", kind::counter, nullptr, &C::http_connections_timed_out,
     "HTTP connections closed for idleness."},
    {"http", "requests", kind::counter, nullptr, &C::http_requests, "HTTP requests read."},
    {"http", "announces", kind::counter, nullptr, &C::http_announces, "HTTP announces answered with peers."},
    {"http", "scrapes", kind::counter, nullptr, &C::http_scrapes, "HTTP scrapes answered."},
    {"http", "malformed", kind::counter, nullptr, &C::http_malformed,
     "HTTP requests that did not parse (answered 400)."},
    {"http", "not_found", kind::counter, nullptr, &C::http_not_found, "HTTP requests for unknown paths."},
    {"evictions", "peers_expired", kind::counter, &F::peers_expired, nullptr,
     "Peers dropped after not announcing for the expiry time."},
    {"evictions", "peers_evicted", kind::counter, &F::peers_evicted, nullptr,
     "Peers dropped to keep within a peer bound."},
    {"evictions", "swarms_expired", kind::counter, &F::swarms_expired, nullptr,
     "Empty swarms dropped after idling."},
    {"evictions", "swarms_evicted", kind::counter, &F::swarms_evicted, nullptr,
     "Swarms dropped to keep within the swarm bound."},
};

std::uint64_t value_of(const metric& m, const tracker_figures& f) {
    return m.figure ? f.*m.figure : f.counters.*m.counter;
}

}  // namespace

std::string format_stats_json(const tracker_figures& figures) {
    std::string out = "{";
    std::string_view open_group;
    bool first = true;
    for (const metric& m : metrics) {
        if (m.group != open_group) {
            if (!open_group.empty()) {
                out += "}";
            }
            open_group = m.group;
            out += first ? "" : ",";
            out += "\"" + std::string(m.group) + "\":{";
            first = true;
        }
        out += first ? "" : ",";
        first = false;
        out += "\"" + std::string(m.name) + "\":" + std::to_string(value_of(m, figures));
    }
    if (!open_group.empty()) {
        out += "}";
    }
    out += "}\n";
    return out;
}

std::string format_metrics(const tracker_figures& figures) {
    std::string out;
    for (const metric& m : metrics) {
        std::string name = "hyphae_tracker_";
        if (!m.group.empty() && m.group != "evictions") {
            name += std::string(m.group) + "_";
        }
        name += m.name;
        if (m.type == kind::counter) {
            name += "_total";
        }
        out += "# HELP " + name + " " + std::string(m.help) + "\n";
        out += "# TYPE " + name + (m.type == kind::counter ? " counter\n" : " gauge\n");
        out += name + " " + std::to_string(value_of(m, figures)) + "\n";
    }
    return out;
}

}  // namespace hyphae::tracker
