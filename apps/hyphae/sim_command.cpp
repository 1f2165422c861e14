// hyphae sim SCENARIO.toml --seed N --out DIR: runs the DHT simulator and writes summary.json
// (simulated figures, byte-identical for a seed), run.json (wall-clock figures), lookups.csv and
// the gnuplot plots; a scenario with a [swarm] table runs a BitTorrent swarm instead (summary.json,
// run.json, leechers.csv). Wall time and memory are measured here, never inside the simulator.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include "hyphae/sim/dht_simulation.hpp"
#include "hyphae/sim/report.hpp"
#include "hyphae/sim/swarm_report.hpp"
#include "hyphae/sim/swarm_simulation.hpp"

namespace hyphae::cli {

namespace {

namespace fs = std::filesystem;
using wall_clock = std::chrono::steady_clock;

struct sim_options {
    std::string scenario_file;
    std::uint64_t seed = 1;
    std::string out_dir;
    std::vector<std::string> overrides;
    bool plots = true;
    bool quiet = false;
};

std::uint64_t peak_rss_bytes() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

result<void> write_file(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
        return fail(errc::io, path.string(), "cannot write");
    }
    return {};
}

std::string shell_quoted(const std::string& s) {
    std::string q = "'";
    for (char c : s) {
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return q + "'";
}

// Progress on stderr: in place on a terminal, else a line every few seconds (CI logs).
class sim_progress {
public:
    explicit sim_progress(bool quiet) : quiet_(quiet), terminal_(isatty(fileno(stderr)) != 0) {}

    void operator()(const sim::progress_report& p) {
        if (quiet_) {
            return;
        }
        const auto now = wall_clock::now();
        const bool last = p.phase == "running" ? p.now >= p.end : p.done == p.total;
        const auto gap = terminal_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000);
        if (!last && now - last_draw_ < gap) {
            return;
        }
        last_draw_ = now;
        std::string line;
        if (p.phase == "building") {
            line = fmt::format("sim: building nodes {}/{}", p.done, p.total);
        } else {
            const double virt = std::chrono::duration<double>(p.now.time_since_epoch()).count();
            const double end = std::chrono::duration<double>(p.end.time_since_epoch()).count();
            line = fmt::format("sim: {:5.1f}% virtual {:.0f}/{:.0f} s, lookups {}/{}, {:.2f} M events",
                               end > 0 ? 100 * virt / end : 100.0, virt, end, p.lookups_done, p.lookups_total,
                               static_cast<double>(p.done) / 1e6);
        }
        if (terminal_) {
            fmt::print(stderr, "\r{:<78}", line);
            if (last && p.phase == "running") {
                fmt::print(stderr, "\n");
            }
        } else {
            fmt::print(stderr, "{}\n", line);
        }
        std::fflush(stderr);
    }

private:
    bool quiet_;
    bool terminal_;
    wall_clock::time_point last_draw_{};
};

// run.json's wall-clock figures, common to every kind of scenario.
nlohmann::ordered_json run_figures(const sim_options& o, double build_s, double run_s, std::uint64_t events,
                                   std::uint64_t peak) {
    nlohmann::ordered_json run;
    run["hyphae_version"] = HYPHAE_VERSION;
    run["scenario_file"] = o.scenario_file;
    run["seed"] = o.seed;
    run["overrides"] = o.overrides;
    run["wall_seconds"] = build_s + run_s;
    run["build_seconds"] = build_s;
    run["run_seconds"] = run_s;
    run["events"] = events;
    run["events_per_second"] = run_s > 0 ? static_cast<double>(events) / run_s : 0.0;
    run["peak_rss_bytes"] = peak;
    return run;
}

// A swarm scenario: summary.json, run.json and leechers.csv.
int run_swarm(const sim_options& o, const sim::scenario& scenario) {
    const bool terminal = isatty(fileno(stderr)) != 0;
    const std::uint64_t rss_before = peak_rss_bytes();
    const auto t0 = wall_clock::now();
    auto last_draw = wall_clock::time_point{};
    sim::swarm_simulation simulation(scenario, o.seed, [&](const sim::swarm_progress& p) {
        const auto now = wall_clock::now();
        const bool last = p.elapsed >= p.limit || p.completed == p.leechers;
        if (o.quiet || (!last && now - last_draw <
                                     (terminal ? std::chrono::milliseconds(200) : std::chrono::seconds(5)))) {
            return;
        }
        last_draw = now;
        const std::string line =
            fmt::format("sim: swarm virtual {:.0f} s, {}/{} leechers complete, {:.1f} M events",
                        std::chrono::duration<double>(p.elapsed).count(), p.completed, p.leechers,
                        static_cast<double>(p.events) / 1e6);
        if (terminal) {
            fmt::print(stderr, "\r{:<78}", line);
        } else {
            fmt::print(stderr, "{}\n", line);
        }
        std::fflush(stderr);
    });
    const auto t_built = wall_clock::now();
    simulation.run();
    const auto t_ran = wall_clock::now();
    if (!o.quiet && terminal) {
        fmt::print(stderr, "\n");
    }
    const fs::path dir(o.out_dir);
    const std::string summary = sim::swarm_summary_json(simulation);
    for (auto r : {write_file(dir / "summary.json", summary),
                   write_file(dir / "leechers.csv", sim::leechers_csv(simulation))}) {
        if (!r) {
            return report(r.error());
        }
    }
    const double build_s = std::chrono::duration<double>(t_built - t0).count();
    const double run_s = std::chrono::duration<double>(t_ran - t_built).count();
    const std::uint64_t peak = peak_rss_bytes();
    const auto events = simulation.counters().events;
    const std::uint32_t hosts = scenario.swarm.seeders + scenario.swarm.leechers;
    nlohmann::ordered_json run = run_figures(o, build_s, run_s, events, peak);
    run["peak_rss_bytes_per_host"] = static_cast<double>(peak - std::min(peak, rss_before)) / hosts;
    if (auto r = write_file(dir / "run.json", run.dump(2) + "\n"); !r) {
        return report(r.error());
    }
    const auto s = nlohmann::json::parse(summary);
    fmt::print("scenario {} (seed {}): {} seeder(s), {} leechers, {:.1f} MiB\n", scenario.name, o.seed,
               scenario.swarm.seeders, scenario.swarm.leechers,
               static_cast<double>(scenario.swarm.size) / (1 << 20));
    fmt::print("  completed {}/{}  download p50 {:.1f} s  p90 {:.1f} s  p99 {:.1f} s (virtual)\n",
               s["completed"].get<int>(), s["leechers"].get<int>(), s["download_s_p50"].get<double>(),
               s["download_s_p90"].get<double>(), s["download_s_p99"].get<double>());
    fmt::print("  seeder uploaded {:.1f} MiB, leechers uploaded {:.1f}% of all{}\n",
               static_cast<double>(s["seed_upload_bytes"].get<std::int64_t>()) / (1 << 20),
               100 * s["peer_upload_share"].get<double>(),
               s["bad_blocks"].get<std::uint64_t>() == 0 ? "" : ", BAD BLOCKS WRITTEN");
    fmt::print("  wall {:.1f} s, {:.2f} M events/s, peak RSS {:.0f} MiB\n", build_s + run_s,
               run_s > 0 ? static_cast<double>(events) / run_s / 1e6 : 0.0,
               static_cast<double>(peak) / (1 << 20));
    fmt::print("  wrote {}/summary.json, run.json, leechers.csv\n", dir.string());
    return s["bad_blocks"].get<std::uint64_t>() == 0 ? 0 : 1;
}

int run_sim(const sim_options& o) {
    std::ifstream in(o.scenario_file, std::ios::binary);
    if (!in) {
        return report(error{errc::io, o.scenario_file, "cannot read the scenario"});
    }
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = sim::parse_scenario(text.str(), o.overrides, o.scenario_file);
    if (!parsed) {
        return report(parsed.error());
    }
    if (parsed->name.empty()) {
        parsed->name = fs::path(o.scenario_file).stem().string();
    }
    std::error_code ec;
    fs::create_directories(o.out_dir, ec);
    if (ec) {
        return report(error{errc::io, o.out_dir, "cannot create the output folder: " + ec.message()});
    }

    if (parsed->swarm.enabled) {
        return run_swarm(o, *parsed);
    }
    const std::uint64_t rss_before = peak_rss_bytes();
    const auto t0 = wall_clock::now();
    auto progress = std::make_shared<sim_progress>(o.quiet);
    sim::dht_simulation simulation(*parsed, o.seed,
                                   [progress](const sim::progress_report& p) { (*progress)(p); });
    const auto t_built = wall_clock::now();
    simulation.run();
    const auto t_ran = wall_clock::now();

    const fs::path dir(o.out_dir);
    const std::string summary = sim::summary_json(simulation);
    for (auto r : {write_file(dir / "summary.json", summary),
                   write_file(dir / "lookups.csv", sim::lookups_csv(simulation)),
                   write_file(dir / "plots.gp", sim::plot_script(simulation))}) {
        if (!r) {
            return report(r.error());
        }
    }

    const double build_s = std::chrono::duration<double>(t_built - t0).count();
    const double run_s = std::chrono::duration<double>(t_ran - t_built).count();
    const std::uint64_t peak = peak_rss_bytes();
    const auto events = simulation.counters().events;
    nlohmann::ordered_json run = run_figures(o, build_s, run_s, events, peak);
    run["peak_rss_bytes_per_node"] =
        static_cast<double>(peak - std::min(peak, rss_before)) / parsed->network.nodes;
    run["simulated_seconds"] =
        std::chrono::duration<double>(simulation.end_time().time_since_epoch()).count();
    if (auto r = write_file(dir / "run.json", run.dump(2) + "\n"); !r) {
        return report(r.error());
    }

    bool plotted = false;
    if (o.plots) {
        const std::string command = "cd " + shell_quoted(dir.string()) + " && gnuplot plots.gp 2>/dev/null";
        plotted = std::system(command.c_str()) == 0;
        if (!plotted && !o.quiet) {
            fmt::print(stderr,
                       "hyphae: sim: gnuplot failed or is missing; the plots were not drawn ({}/plots.gp)\n",
                       dir.string());
        }
    }

    const auto s = nlohmann::json::parse(summary);
    fmt::print("scenario {} (seed {}): {} nodes, {} lookups\n", parsed->name, o.seed, s["nodes"].get<int>(),
               s["lookups"].get<int>());
    fmt::print("  success {:.2f}%  exact-k {:.2f}%  hops p50 {} p99 {}  messages/lookup {:.1f}\n",
               100 * s["success_rate"].get<double>(), 100 * s["exact_k_rate"].get<double>(),
               s["hops_p50"].get<double>(), s["hops_p99"].get<double>(),
               s["messages_per_lookup"].get<double>());
    fmt::print("  latency p50 {:.0f} ms  p90 {:.0f} ms  p99 {:.0f} ms (virtual)\n",
               s["latency_ms_p50"].get<double>(), s["latency_ms_p90"].get<double>(),
               s["latency_ms_p99"].get<double>());
    fmt::print("  wall {:.1f} s (build {:.1f} s), {:.2f} M events/s, peak RSS {:.0f} MiB\n", build_s + run_s,
               build_s, run_s > 0 ? static_cast<double>(events) / run_s / 1e6 : 0.0,
               static_cast<double>(peak) / (1 << 20));
    fmt::print("  wrote {}/summary.json, run.json, lookups.csv{}\n", dir.string(),
               plotted ? ", latency_cdf.png, hops.png, messages.png" : ", plots.gp");
    return 0;
}

}  // namespace

command add_sim_command(CLI::App& parent) {
    auto o = std::make_shared<sim_options>();
    CLI::App* app = parent.add_subcommand(
        "sim", "Simulate a DHT network (scenarios/*.toml) in virtual time and report its figures");
    app->add_option("scenario", o->scenario_file, "Scenario file (TOML), e.g. scenarios/smoke.toml")
        ->required()
        ->check(CLI::ExistingFile);
    app->add_option("--seed", o->seed, "Seed: the same seed gives the same summary.json (default 1)");
    app->add_option("--out", o->out_dir, "Folder for summary.json, run.json, lookups.csv and plots")
        ->required();
    app->add_option(
           "--set", o->overrides,
           "Override a scenario value, TABLE.KEY=VALUE in TOML syntax (e.g. network.nodes=5000); repeatable")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app->add_flag("!--no-plots", o->plots, "Do not run gnuplot");
    app->add_flag("-q,--quiet", o->quiet, "No progress on stderr");
    return {app, [o] {
                return run_sim(*o);
            }};
}

}  // namespace hyphae::cli
