// `hyphae sim`, the built binary: the smoke scenario (the one the test command runs) writes its
// summary, run figures, per-lookup CSV and plots; the same seed gives a byte-identical summary,
// another seed another; bad scenarios and command lines are refused with a clear message.

#include <filesystem>
#include <fstream>
#include <sstream>

#include "subprocess.hpp"
#include "temp_dir.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hyphae {
namespace {

using namespace std::chrono_literals;

const std::string smoke = std::string(HYPHAE_SOURCE_DIR) + "/scenarios/smoke.toml";
const std::string swarm_smoke = std::string(HYPHAE_SOURCE_DIR) + "/scenarios/swarm-smoke.toml";

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

test::run_result sim(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {HYPHAE_BIN, "sim"};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv, 300s);
}

TEST(sim_cli, smoke_scenario_writes_every_output_and_repeats_for_a_seed) {
    test::temp_dir dir;
    auto first = sim({smoke, "--seed", "42", "--out", dir / "a"});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_NE(first.err.find("sim: "), std::string::npos) << "progress on stderr: " << first.err;
    EXPECT_NE(first.out.find("success"), std::string::npos) << first.out;

    const auto summary = nlohmann::json::parse(slurp(dir / "a/summary.json"));
    for (const char* key : {"nodes", "lookups", "success_rate", "hops_p50", "hops_p99", "latency_ms_p50",
                            "latency_ms_p90", "latency_ms_p99", "messages_per_lookup"}) {
        EXPECT_TRUE(summary.contains(key)) << key;
    }
    EXPECT_EQ(summary["nodes"], 2000);
    EXPECT_EQ(summary["lookups"], 300);
    EXPECT_GE(summary["success_rate"].get<double>(), 0.9);
    EXPECT_GT(summary["latency_ms_p99"].get<double>(), summary["latency_ms_p50"].get<double>());
    EXPECT_GT(summary["leaves"].get<int>(), 0);
    EXPECT_GT(summary["lost"].get<int>(), 0);

    const auto run = nlohmann::json::parse(slurp(dir / "a/run.json"));
    EXPECT_GT(run["wall_seconds"].get<double>(), 0);
    EXPECT_GT(run["events_per_second"].get<double>(), 0);
    EXPECT_GT(run["peak_rss_bytes"].get<double>(), 0);

    std::istringstream csv(slurp(dir / "a/lookups.csv"));
    std::string line;
    std::size_t lines = 0;
    while (std::getline(csv, line)) {
        ++lines;
    }
    EXPECT_EQ(lines, 301u);
    if (test::have_program("gnuplot")) {
        for (const char* png : {"latency_cdf.png", "hops.png", "messages.png"}) {
            EXPECT_GT(std::filesystem::file_size(dir / (std::string("a/") + png)), 1000u) << png;
        }
    }

    auto again = sim({smoke, "--seed", "42", "--out", dir / "b", "--no-plots", "-q"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(slurp(dir / "a/summary.json"), slurp(dir / "b/summary.json"));
    EXPECT_EQ(slurp(dir / "a/lookups.csv"), slurp(dir / "b/lookups.csv"));
    EXPECT_TRUE(again.err.empty()) << again.err;

    auto other = sim({smoke, "--seed", "43", "--out", dir / "c", "--no-plots", "-q"});
    ASSERT_EQ(other.exit_code, 0) << other.err;
    EXPECT_NE(slurp(dir / "a/summary.json"), slurp(dir / "c/summary.json"));
}

// The swarm: 50 leechers of a 16 MiB torrent, every one complete with nothing wrong written, no
// faster than the access links allow, mostly fed by each other; the same seed repeats byte for byte.
TEST(sim_cli, swarm_smoke_completes_within_what_the_links_allow_and_repeats_for_a_seed) {
    test::temp_dir dir;
    auto first = sim({swarm_smoke, "--seed", "7", "--out", dir / "a"});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_NE(first.err.find("leechers complete"), std::string::npos) << "progress on stderr: " << first.err;
    EXPECT_NE(first.out.find("completed 50/50"), std::string::npos) << first.out;
    const auto s = nlohmann::json::parse(slurp(dir / "a/summary.json"));
    EXPECT_EQ(s["leechers"], 50);
    EXPECT_EQ(s["completed"], 50);
    EXPECT_EQ(s["bad_blocks"], 0);
    // 50 x 16 MiB through 50 uplinks of 2 Mbit/s and a seeder's 10 Mbit/s: at least 61 s for the
    // last; one leecher needs at least 16 MiB / 10 Mbit/s = 13.4 s.
    const double bound_all = 50.0 * 16 * 8 * 1.048576 / (10 + 50 * 2.0);
    EXPECT_GE(s["download_s_max"].get<double>() + 10, bound_all);  // + the 10 s arrival window
    EXPECT_GE(s["download_s_p50"].get<double>(), 13.4);
    EXPECT_LE(s["download_s_p99"].get<double>(), 4 * bound_all);
    EXPECT_LE(s["download_s_p50"].get<double>(), s["download_s_p90"].get<double>());
    EXPECT_LE(s["download_s_p90"].get<double>(), s["download_s_p99"].get<double>());
    EXPECT_GT(s["peer_upload_share"].get<double>(), 0.5);
    EXPECT_GE(s["seed_upload_bytes"].get<std::int64_t>(), 16 << 20);
    EXPECT_GE(s["peer_download_bytes"].get<std::int64_t>(), std::int64_t{50} * (16 << 20));
    std::istringstream csv(slurp(dir / "a/leechers.csv"));
    std::string line;
    std::size_t lines = 0;
    while (std::getline(csv, line)) {
        ++lines;
    }
    EXPECT_EQ(lines, 51u);

    auto again = sim({swarm_smoke, "--seed", "7", "--out", dir / "b", "-q"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(slurp(dir / "a/summary.json"), slurp(dir / "b/summary.json"));
    EXPECT_EQ(slurp(dir / "a/leechers.csv"), slurp(dir / "b/leechers.csv"));
}

TEST(sim_cli, overrides_change_the_scenario) {
    test::temp_dir dir;
    auto r = sim({smoke, "--seed", "1", "--out", dir / "o", "--no-plots", "-q", "--set", "network.nodes=500",
                  "--set", "workload.lookups=50", "--set", "churn.enabled=false"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto summary = nlohmann::json::parse(slurp(dir / "o/summary.json"));
    EXPECT_EQ(summary["nodes"], 500);
    EXPECT_EQ(summary["lookups"], 50);
    EXPECT_EQ(summary["leaves"], 0);
}

TEST(sim_cli, bad_scenarios_are_refused_clearly) {
    test::temp_dir dir;
    const std::string bad = dir.write("bad.toml", "[network]\nnodes = 10\nlatency = 5\n");
    auto r = sim({bad, "--out", dir / "x"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("unknown key 'network.latency'"), std::string::npos) << r.err;

    auto missing = sim({dir / "nope.toml", "--out", dir / "x"});
    EXPECT_EQ(missing.exit_code, 2) << missing.err;

    auto no_out = sim({smoke});
    EXPECT_EQ(no_out.exit_code, 2) << no_out.err;

    auto bad_set = sim({smoke, "--out", dir / "x", "--set", "network.nodes"});
    EXPECT_EQ(bad_set.exit_code, 1);
    EXPECT_NE(bad_set.err.find("TABLE.KEY=VALUE"), std::string::npos) << bad_set.err;
}

}  // namespace
}  // namespace hyphae
