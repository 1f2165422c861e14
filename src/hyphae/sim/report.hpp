#pragma once
// What a simulation run reports: summary.json (simulated figures only, so byte-identical for a
// seed), the per-lookup CSV, and the gnuplot script that draws the plots from that CSV. Wall-clock
// figures (run.json) are the command's: the simulator never reads a clock.

#include <string>
#include <vector>

#include "hyphae/sim/dht_simulation.hpp"

namespace hyphae::sim {

// Nearest-rank percentile (p in [0, 1]) of values; 0 when empty.
double percentile(std::vector<double> values, double p);

// summary.json's text, keys in a fixed order, numbers rounded to 4 decimals.
std::string summary_json(const dht_simulation& sim);

// lookups.csv: one line per workload lookup, a header first.
std::string lookups_csv(const dht_simulation& sim);

// A gnuplot script, run in the output folder, that reads lookups.csv and writes
// latency_cdf.png, hops.png and messages.png.
std::string plot_script(const dht_simulation& sim);

}  // namespace hyphae::sim
