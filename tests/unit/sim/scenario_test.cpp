#include "hyphae/sim/scenario.hpp"

#include <gtest/gtest.h>

namespace hyphae::sim {
namespace {

TEST(scenario, defaults_when_empty) {
    auto s = parse_scenario("", {}, "empty.toml");
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->network.nodes, 1000u);
    EXPECT_EQ(s->network.start, start_mode::warm);
    EXPECT_EQ(s->adversaries.kind, adversary_kind::none);
    EXPECT_EQ(s->defences.disjoint_paths, 1u);
    EXPECT_TRUE(s->defences.prefer_long_lived);
}

TEST(scenario, reads_every_table) {
    const char* text = R"(
name = "x"
[network]
nodes = 5000
start = "bootstrap"
join_window = "2min"
bootstrap_nodes = 3
rtt_median_ms = 80
loss = 0.02
nat_fraction = 0.25
upload_kbps = 500
[churn]
enabled = true
session = { shape = "weibull", median = "10min", shape_parameter = 0.5 }
downtime = { shape = "pareto", median = "1h" }
[adversaries]
kind = "collude"
fraction = 0.3
sybil_shared_bits = 20
target = "0123456789abcdef0123456789abcdef01234567"
[defences]
disjoint_paths = 8
check_answers = true
bep42_checks = true
prefer_long_lived = false
[dht]
k = 16
alpha = 5
replacements = 2
[workload]
lookups = 123
warmup = 30
window = "1.5min"
drain = "500ms"
same_target = true
)";
    auto s = parse_scenario(text, {}, "x.toml");
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->name, "x");
    EXPECT_EQ(s->network.nodes, 5000u);
    EXPECT_EQ(s->network.start, start_mode::bootstrap);
    EXPECT_EQ(s->network.join_window, std::chrono::minutes(2));
    EXPECT_EQ(s->network.bootstrap_nodes, 3u);
    EXPECT_DOUBLE_EQ(s->network.latency.rtt_median_ms, 80);
    EXPECT_DOUBLE_EQ(s->network.loss, 0.02);
    EXPECT_DOUBLE_EQ(s->network.nat_fraction, 0.25);
    EXPECT_DOUBLE_EQ(s->network.upload_kbps, 500);
    EXPECT_TRUE(s->churn.enabled);
    EXPECT_EQ(s->churn.session.shape, lifetime_shape::weibull);
    EXPECT_EQ(s->churn.session.median, std::chrono::minutes(10));
    EXPECT_DOUBLE_EQ(s->churn.session.shape_parameter, 0.5);
    EXPECT_EQ(s->churn.downtime.shape, lifetime_shape::pareto);
    EXPECT_EQ(s->adversaries.kind, adversary_kind::collude);
    EXPECT_DOUBLE_EQ(s->adversaries.fraction, 0.3);
    EXPECT_EQ(s->adversaries.sybil_shared_bits, 20);
    EXPECT_EQ(s->defences.disjoint_paths, 8u);
    EXPECT_TRUE(s->defences.check_answers);
    EXPECT_TRUE(s->defences.bep42_checks);
    EXPECT_FALSE(s->defences.prefer_long_lived);
    EXPECT_EQ(s->dht.k, 16u);
    EXPECT_EQ(s->dht.alpha, 5u);
    EXPECT_EQ(s->dht.replacements, 2u);
    EXPECT_EQ(s->workload.lookups, 123u);
    EXPECT_EQ(s->workload.warmup, std::chrono::seconds(30));
    EXPECT_EQ(s->workload.window, std::chrono::seconds(90));
    EXPECT_EQ(s->workload.drain, std::chrono::milliseconds(500));
    EXPECT_TRUE(s->workload.same_target);
}

TEST(scenario, overrides_apply_over_the_file) {
    auto s = parse_scenario("[network]\nnodes = 100\n",
                            {"network.nodes=250", "adversaries.kind=\"drop\"", "adversaries.fraction=0.1"},
                            "o.toml");
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->network.nodes, 250u);
    EXPECT_EQ(s->adversaries.kind, adversary_kind::drop);
    EXPECT_DOUBLE_EQ(s->adversaries.fraction, 0.1);
}

TEST(scenario, errors_say_what_and_where) {
    const auto message = [](const std::string& text, std::vector<std::string> overrides = {}) {
        auto s = parse_scenario(text, overrides, "bad.toml");
        EXPECT_FALSE(s) << text;
        return s ? std::string() : s.error().message();
    };
    EXPECT_NE(message("[network]\nnodez = 5\n").find("unknown key 'network.nodez'"), std::string::npos);
    EXPECT_NE(message("[network]\nnodes = -5\n").find("network.nodes must be"), std::string::npos);
    EXPECT_NE(message("[network]\nstart = \"hot\"\n").find("one of"), std::string::npos);
    EXPECT_NE(message("[workload]\nwarmup = \"5 parsecs\"\n").find("a duration"), std::string::npos);
    EXPECT_NE(message("[adversaries]\nkind = \"martian\"\n").find("adversaries.kind"), std::string::npos);
    EXPECT_NE(message("[adversaries]\ntarget = \"xyz\"\n").find("40 hex"), std::string::npos);
    EXPECT_NE(message("[network\n").find("bad.toml"), std::string::npos);
    EXPECT_NE(message("[network]\nnodes = 3\nbootstrap_nodes = 3\n").find("fewer than nodes"),
              std::string::npos);
    EXPECT_NE(message("", {"nodes"}).find("TABLE.KEY=VALUE"), std::string::npos);
    EXPECT_NE(message("", {"network.nodes=abc"}).find("not TOML"), std::string::npos);
    EXPECT_NE(message("[workload]\nsame_target = true\n").find("needs adversaries.target"),
              std::string::npos);
}

TEST(scenario, a_swarm_table_makes_a_swarm_scenario) {
    auto dht = parse_scenario("", {}, "x.toml");
    ASSERT_TRUE(dht);
    EXPECT_FALSE(dht->swarm.enabled);
    auto s = parse_scenario(
        "[swarm]\nleechers = 10000\nsize_mib = 64\npiece_kib = 1024\njoin_window = \"1min\"\n"
        "peer_upload_kbps = 2000\nleave_when_done = true\n",
        {"swarm.seeders=2"}, "x.toml");
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_TRUE(s->swarm.enabled);
    EXPECT_EQ(s->swarm.seeders, 2u);
    EXPECT_EQ(s->swarm.leechers, 10000u);
    EXPECT_EQ(s->swarm.size, std::uint64_t{64} << 20);
    EXPECT_EQ(s->swarm.piece_length, 1u << 20);
    EXPECT_EQ(s->swarm.join_window, std::chrono::minutes(1));
    EXPECT_TRUE(s->swarm.leave_when_done);
}

TEST(scenario, bad_swarm_tables_are_refused_with_the_key) {
    auto unknown = parse_scenario("[swarm]\nleechrs = 5\n", {}, "x.toml");
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message().find("swarm.leechrs"), std::string::npos)
        << unknown.error().message();
    auto odd = parse_scenario("[swarm]\npiece_kib = 100\n", {}, "x.toml");
    ASSERT_FALSE(odd);
    EXPECT_NE(odd.error().message().find("power of two"), std::string::npos) << odd.error().message();
    auto none = parse_scenario("[swarm]\nleechers = 0\n", {}, "x.toml");
    EXPECT_FALSE(none);
}

}  // namespace
}  // namespace hyphae::sim
