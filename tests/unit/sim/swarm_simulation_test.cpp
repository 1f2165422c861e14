#include "hyphae/sim/swarm_simulation.hpp"

#include <gtest/gtest.h>

#include "hyphae/sim/swarm_report.hpp"

namespace hyphae::sim {
namespace {

scenario small_swarm() {
    scenario s;
    s.name = "tiny";
    s.swarm.enabled = true;
    s.swarm.leechers = 6;
    s.swarm.size = 1 << 20;
    s.swarm.piece_length = 64 * 1024;
    s.swarm.join_window = std::chrono::seconds(2);
    s.swarm.seed_upload_kbps = 8000;
    s.swarm.peer_upload_kbps = 4000;
    s.swarm.peer_download_kbps = 16000;
    s.swarm.time_limit = std::chrono::minutes(10);
    return s;
}

TEST(swarm_simulation, every_leecher_completes_with_the_content_and_trades_with_the_others) {
    swarm_simulation sim(small_swarm(), 3);
    sim.run();
    EXPECT_EQ(sim.completed(), 6u);
    EXPECT_EQ(sim.bad_writes(), 0u);
    std::int64_t peers_up = 0;
    for (const leecher_record& r : sim.leechers()) {
        ASSERT_TRUE(r.completed);
        EXPECT_GE(r.downloaded, std::int64_t{1} << 20);
        // 1 MiB at 16 Mbit/s down takes 0.52 s at least.
        EXPECT_GE(*r.completed - r.joined, std::chrono::milliseconds(520));
        peers_up += r.uploaded;
    }
    EXPECT_GT(peers_up, 0);
    EXPECT_GE(sim.seed_upload_bytes(), std::int64_t{1} << 20);
    EXPECT_LT(sim.end_time() - sim.start_time(), std::chrono::minutes(10));
}

TEST(swarm_simulation, leechers_that_leave_when_done_still_leave_everyone_complete) {
    scenario s = small_swarm();
    s.swarm.leave_when_done = true;
    swarm_simulation sim(s, 4);
    sim.run();
    EXPECT_EQ(sim.completed(), 6u);
    EXPECT_EQ(sim.bad_writes(), 0u);
}

TEST(swarm_simulation, a_time_limit_ends_the_run_and_counts_who_did_not_finish) {
    scenario s = small_swarm();
    s.swarm.seed_upload_kbps = 80;  // 1 MiB takes 105 s from the seeder alone
    s.swarm.time_limit = std::chrono::seconds(20);
    swarm_simulation sim(s, 5);
    sim.run();
    EXPECT_EQ(sim.completed(), 0u);
    EXPECT_EQ(sim.end_time() - sim.start_time(), std::chrono::seconds(20));
    const std::string summary = swarm_summary_json(sim);
    EXPECT_NE(summary.find("\"completed\": 0"), std::string::npos) << summary;
}

TEST(swarm_simulation, the_same_seed_gives_the_same_summary) {
    const auto run = [](std::uint64_t seed) {
        swarm_simulation sim(small_swarm(), seed);
        sim.run();
        return swarm_summary_json(sim) + leechers_csv(sim);
    };
    EXPECT_EQ(run(9), run(9));
    EXPECT_NE(run(9), run(10));
}

}  // namespace
}  // namespace hyphae::sim
