#pragma once
// What the DHT benchmark measured per lookup, and the summaries it prints: median, p90 and max of
// time to the first peer, time to completion and messages, per implementation and phase, with
// the ratios Hyphae / libtorrent.

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hyphae::bench {

struct lookup_record {
    std::string phase;       // "healthy" or "silent"
    std::string impl;        // "hyphae" or "libtorrent"
    std::size_t target = 0;  // index of the info-hash
    std::size_t origin = 0;  // index of the node that looked up, within its implementation
    bool found = false;      // the announcer's endpoint was among the peers
    bool complete = false;   // the lookup ended before the deadline
    double first_ms = -1;    // to the first peer, by the implementation's clock; -1: none
    double done_ms = -1;     // to completion, by the implementation's clock; -1: not complete
    double wall_ms = -1;     // command to answer on the benchmark's main thread
    int messages = 0;        // queries sent for the lookup; -1: unknown (no lookup_done)
    int responses = 0;       // answers to them; -1: unknown
    int timeouts = -1;       // Hyphae: lookup_stats.timeouts; -1 for libtorrent
    int hops = -1;           // Hyphae: lookup_stats.hops; -1 for libtorrent
    int peers = 0;           // distinct peers returned
};

nlohmann::json to_json(const lookup_record& r);

struct distribution {
    std::size_t n = 0;
    double p50 = 0;
    double p90 = 0;
    double max = 0;
    double mean = 0;
};

// Linear interpolation between closest ranks (numpy's default); zeros when empty.
distribution distribution_of(std::vector<double> values);
nlohmann::json to_json(const distribution& d);

struct impl_summary {
    std::size_t lookups = 0;
    std::size_t found = 0;
    std::size_t complete = 0;
    distribution first_ms;     // over lookups that found a peer
    distribution done_ms;      // over complete lookups
    distribution wall_ms;      // over complete lookups
    distribution messages;     // over lookups whose count is known
    distribution responses;    // over lookups whose count is known
    distribution timeouts;     // Hyphae only
    distribution hops;         // Hyphae only
    distribution overhead_ms;  // wall_ms - done_ms of complete lookups: what the call around the lookup adds
    std::size_t slow = 0;      // complete lookups of 50 ms or more (they waited for a timeout)
};

impl_summary summarize(const std::vector<lookup_record>& records, const std::string& phase,
                       const std::string& impl);
nlohmann::json to_json(const impl_summary& s);

// The phase's table, Hyphae, libtorrent and the ratio row, as text.
std::string format_phase_table(const std::string& title, const impl_summary& hyphae, const impl_summary& lt);

}  // namespace hyphae::bench
