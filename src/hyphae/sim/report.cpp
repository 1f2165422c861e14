#include "hyphae/sim/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace hyphae::sim {

namespace {

double rounded(double v) {
    return std::round(v * 1e4) / 1e4;
}

double ms_of(duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

std::string hex_of(const dht::node_id& id) {
    return id.to_hex();
}

}  // namespace

double percentile(std::vector<double> values, double p) {
    if (values.empty()) {
        return 0;
    }
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
    return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

std::string summary_json(const dht_simulation& sim) {
    const scenario& s = sim.config();
    const auto& records = sim.lookups();
    const auto& c = sim.counters();
    std::vector<double> hops;
    std::vector<double> latency;
    std::vector<double> messages;
    std::vector<double> timeouts;
    std::size_t started = 0;
    std::size_t done = 0;
    std::size_t found_closest = 0;
    std::size_t exact_k = 0;
    double k_found = 0;
    for (const auto& r : records) {
        started += r.started_ok ? 1 : 0;
        if (!r.started_ok || !r.done) {
            continue;
        }
        ++done;
        found_closest += r.found_closest ? 1 : 0;
        exact_k += r.k_found == s.dht.k ? 1 : 0;
        k_found += r.k_found;
        hops.push_back(r.hops);
        latency.push_back(ms_of(r.latency));
        messages.push_back(r.queries);
        timeouts.push_back(r.timeouts);
    }
    const auto mean = [](const std::vector<double>& v) {
        double sum = 0;
        for (double x : v) {
            sum += x;
        }
        return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
    };
    const double n_lookups = std::max<double>(1, static_cast<double>(records.size()));
    const table_health t = sim.tables();
    const double simulated_s = std::chrono::duration<double>(sim.end_time().time_since_epoch()).count();

    // ordered_json: keys in the order written, so the file reads top-down and diffs cleanly.
    nlohmann::ordered_json j;
    j["scenario"] = s.name;
    j["seed"] = sim.seed();
    j["nodes"] = s.network.nodes;
    j["honest_nodes"] = sim.honest_nodes();
    j["adversaries"] = sim.adversary_nodes();
    j["adversary_kind"] = std::string(to_string(s.adversaries.kind));
    j["nat_nodes"] = sim.nat_nodes();
    j["churn"] = s.churn.enabled;
    j["defences"] = {{"disjoint_paths", s.defences.disjoint_paths},
                     {"check_answers", s.defences.check_answers},
                     {"bep42_checks", s.defences.bep42_checks},
                     {"prefer_long_lived", s.defences.prefer_long_lived}};
    j["lookups"] = records.size();
    j["lookups_started"] = started;
    j["lookups_done"] = done;
    j["success_rate"] = rounded(static_cast<double>(found_closest) / n_lookups);
    j["exact_k_rate"] = rounded(static_cast<double>(exact_k) / n_lookups);
    j["k_found_mean"] = rounded(done == 0 ? 0 : k_found / static_cast<double>(done));
    j["hops_p50"] = percentile(hops, 0.5);
    j["hops_p99"] = percentile(hops, 0.99);
    j["hops_mean"] = rounded(mean(hops));
    j["log2_n"] = rounded(std::log2(static_cast<double>(s.network.nodes)));
    j["latency_ms_p50"] = rounded(percentile(latency, 0.5));
    j["latency_ms_p90"] = rounded(percentile(latency, 0.9));
    j["latency_ms_p99"] = rounded(percentile(latency, 0.99));
    j["messages_per_lookup"] = rounded(mean(messages));
    j["messages_p50"] = percentile(messages, 0.5);
    j["messages_p99"] = percentile(messages, 0.99);
    j["timeouts_per_lookup"] = rounded(mean(timeouts));
    j["bandwidth_bytes_per_node_s"] =
        rounded(c.honest_up_seconds > 0 ? static_cast<double>(c.bytes_honest) / c.honest_up_seconds : 0);
    j["table_entries_mean"] = rounded(t.entries_mean);
    j["table_buckets_mean"] = rounded(t.buckets_mean);
    j["table_replacements_mean"] = rounded(t.replacements_mean);
    j["table_live_fraction"] = rounded(t.live_fraction);
    j["table_adversary_fraction"] = rounded(t.adversary_fraction);
    j["table_bytes_per_node"] = rounded(t.table_bytes_mean);
    j["node_bytes_per_node"] = rounded(t.node_bytes_mean);
    j["tables_sampled"] = t.sampled;
    j["simulated_seconds"] = rounded(simulated_s);
    j["events"] = c.events;
    j["datagrams"] = c.datagrams;
    j["delivered"] = c.delivered;
    j["lost"] = c.lost;
    j["to_down_node"] = c.to_down_node;
    j["nat_dropped"] = c.nat_dropped;
    j["unknown_address"] = c.unknown_address;
    j["maintenance_lookups"] = c.maintenance_lookups;
    j["joins"] = c.joins;
    j["leaves"] = c.leaves;
    j["returns"] = c.returns;
    return j.dump(2) + "\n";
}

std::string lookups_csv(const dht_simulation& sim) {
    std::string out =
        "lookup,start_ms,node,target,done,latency_ms,hops,queries,responses,timeouts,k_found,found_closest\n";
    const auto& records = sim.lookups();
    char line[256];
    for (std::size_t i = 0; i < records.size(); ++i) {
        const auto& r = records[i];
        const bool done = r.started_ok && r.done;
        std::snprintf(line, sizeof line, "%zu,%.3f,%u,%s,%d,%.3f,%u,%u,%u,%u,%u,%d\n", i,
                      ms_of(r.started.time_since_epoch()), r.node, hex_of(r.target).c_str(), done ? 1 : 0,
                      ms_of(r.latency), r.hops, r.queries, r.responses, r.timeouts, r.k_found,
                      r.found_closest ? 1 : 0);
        out += line;
    }
    return out;
}

std::string plot_script(const dht_simulation& sim) {
    const scenario& s = sim.config();
    const std::string title = (s.name.empty() ? std::string("simulation") : s.name) +
                              ", N = " + std::to_string(s.network.nodes) + ", seed " +
                              std::to_string(sim.seed());
    std::string g;
    g += "# gnuplot script written by hyphae sim; run in this folder: gnuplot plots.gp\n";
    g += "set terminal pngcairo size 900,560 font 'sans,10'\n";
    g += "set datafile separator ','\n";
    g += "set key off\nset grid\n";
    g += "set title '" + title + "' noenhanced\n";
    g += "set output 'latency_cdf.png'\n";
    g += "set xlabel 'lookup completion time (ms, virtual)'\nset ylabel 'fraction of completed lookups'\n";
    g += "set logscale x\nset yrange [0:1]\n";
    g += "plot 'lookups.csv' every ::1 using ($5 == 1 ? $6 : 1/0):(1) smooth cnormal with lines lw 2\n";
    g += "unset logscale x\nset yrange [*:*]\n";
    g += "set output 'hops.png'\n";
    g += "set xlabel 'hops to the closest node that answered'\nset ylabel 'lookups'\n";
    g += "set boxwidth 0.8\nset style fill solid 0.6\n";
    g += "plot 'lookups.csv' every ::1 using ($5 == 1 ? $7 : 1/0):(1) smooth frequency with boxes\n";
    g += "set output 'messages.png'\n";
    g += "set xlabel 'queries sent per lookup'\nset ylabel 'lookups'\n";
    g += "plot 'lookups.csv' every ::1 using ($5 == 1 ? $8 : 1/0):(1) smooth frequency with boxes\n";
    return g;
}

}  // namespace hyphae::sim
