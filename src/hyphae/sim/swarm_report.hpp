#pragma once
// What a swarm run reports: summary.json (simulated figures only, byte-identical for a seed) and
// leechers.csv (one line per leecher).

#include <string>

#include "hyphae/sim/swarm_simulation.hpp"

namespace hyphae::sim {

// Keys in a fixed order: leechers, completed, download_s_p50/p90/p99 (of those that completed),
// seed_upload_bytes, peer_upload_share (the share of all payload uploaded that leechers uploaded),
// and the figures they rest on.
std::string swarm_summary_json(const swarm_simulation& sim);

std::string leechers_csv(const swarm_simulation& sim);

}  // namespace hyphae::sim
