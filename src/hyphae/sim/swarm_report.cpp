#include "hyphae/sim/swarm_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include <nlohmann/json.hpp>

#include "hyphae/sim/report.hpp"

namespace hyphae::sim {

namespace {

double seconds(duration d) {
    return std::chrono::duration<double>(d).count();
}

double rounded(double v) {
    return std::round(v * 1e4) / 1e4;
}

std::string fixed(double v) {
    char text[48];
    std::snprintf(text, sizeof text, "%.4f", v);
    return text;
}

}  // namespace

std::string swarm_summary_json(const swarm_simulation& sim) {
    const auto& w = sim.config().swarm;
    std::vector<double> times;
    std::int64_t peer_up = 0;
    std::int64_t peer_down = 0;
    for (const leecher_record& r : sim.leechers()) {
        if (r.completed) {
            times.push_back(seconds(*r.completed - r.joined));
        }
        peer_up += r.uploaded;
        peer_down += r.downloaded;
    }
    const double mean = times.empty() ? 0.0 : std::accumulate(times.begin(), times.end(), 0.0) / times.size();
    const std::int64_t all_up = peer_up + sim.seed_upload_bytes();
    nlohmann::ordered_json j;
    j["scenario"] = sim.config().name;
    j["seed"] = sim.seed();
    j["seeders"] = w.seeders;
    j["leechers"] = w.leechers;
    j["completed"] = sim.completed();
    j["size_bytes"] = w.size;
    j["piece_length"] = w.piece_length;
    j["seed_upload_kbps"] = w.seed_upload_kbps;
    j["peer_upload_kbps"] = w.peer_upload_kbps;
    j["peer_download_kbps"] = w.peer_download_kbps;
    j["download_s_p50"] = rounded(percentile(times, 0.5));
    j["download_s_p90"] = rounded(percentile(times, 0.9));
    j["download_s_p99"] = rounded(percentile(times, 0.99));
    j["download_s_mean"] = rounded(mean);
    j["download_s_max"] = rounded(times.empty() ? 0.0 : *std::max_element(times.begin(), times.end()));
    j["seed_upload_bytes"] = sim.seed_upload_bytes();
    j["peer_upload_bytes"] = peer_up;
    j["peer_download_bytes"] = peer_down;
    j["peer_upload_share"] =
        rounded(all_up > 0 ? static_cast<double>(peer_up) / static_cast<double>(all_up) : 0.0);
    j["bad_blocks"] = sim.bad_writes();
    j["simulated_seconds"] = rounded(seconds(sim.end_time() - sim.start_time()));
    j["events"] = sim.counters().events;
    j["connects"] = sim.counters().connects;
    j["stream_bytes"] = sim.counters().stream_bytes;
    return j.dump(2) + "\n";
}

std::string leechers_csv(const swarm_simulation& sim) {
    std::string out = "leecher,joined_s,completed_s,download_s,uploaded_bytes,downloaded_bytes\n";
    std::size_t i = 0;
    for (const leecher_record& r : sim.leechers()) {
        const double joined = seconds(r.joined - sim.start_time());
        if (r.completed) {
            const double done = seconds(*r.completed - sim.start_time());
            out += std::to_string(i) + "," + fixed(joined) + "," + fixed(done) + "," + fixed(done - joined) +
                   "," + std::to_string(r.uploaded) + "," + std::to_string(r.downloaded) + "\n";
        } else {
            out += std::to_string(i) + "," + fixed(joined) + ",,," + std::to_string(r.uploaded) + "," +
                   std::to_string(r.downloaded) + "\n";
        }
        ++i;
    }
    return out;
}

}  // namespace hyphae::sim
