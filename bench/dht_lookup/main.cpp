// hyphae_dht_bench: get_peers lookups in a mixed loopback DHT of Hyphae and libtorrent 2.0.8 nodes,
// for bench/dht.sh. Not a test: it prints figures.
//
// Hyphae's nodes run in this process (hyphae_fleet: one dht_node and dht_runtime per node, each on
// its own UDP socket on 127.0.0.1, all on one event-loop thread); libtorrent's run as
// tests/interop/lt_dht.py processes (one Python process per node, driven over a pipe by
// lt_dht_node from tests/support). The run:
//   1. start both kinds; mesh: every node is told of a few nodes of each kind;
//   2. warm up: every node runs a few lookups for random targets, then the benchmark waits until
//      every routing table holds what a table in this network can hold (with a deadline);
//   3. announce --targets info-hashes, alternately from a Hyphae and a libtorrent node;
//   4. healthy phase: for every target, --lookups get_peers from Hyphae nodes and as many from
//      libtorrent nodes, alternating, one lookup at a time (nothing overlaps);
//   5. silent phase (--silent > 0): that fraction of each kind stops answering without a word
//      (Hyphae: its socket is replaced by one that never reads; libtorrent: SIGSTOP), then the same
//      targets are looked up again from live nodes, --silent-lookups times per implementation;
//   6. memory: the live Hyphae nodes' own accounting, and --memory-nodes sans-I/O nodes whose tables
//      are filled as in a network of --memory-network nodes.
// Times are each implementation's own: Hyphae's lookup_stats.elapsed (the core's clock, from the
// command to lookup_done) and first peers_found; libtorrent's ms= and first_ms= as lt_dht.py measures
// them (from reading the command to the alert that ends it). Messages: Hyphae's lookup_stats.queries;
// libtorrent's sent= (queries carrying the info-hash). The wall column is the benchmark's own clock
// around each call, driver and thread hops included.
// Exit codes: 0 done, 1 a failure (libtorrent missing, a node that did not start), 2 a wrong
// command line.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hyphae_fleet.hpp"
#include "lookup_report.hpp"
#include "lt_dht_node.hpp"
#include "memory_probe.hpp"
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/types.h>
#include <unistd.h>

#include "hyphae/core/rng.hpp"

namespace {

using namespace std::chrono_literals;
using namespace hyphae;
using namespace hyphae::bench;
using hyphae::test::lt_dht_node;
using steady = std::chrono::steady_clock;

struct options {
    std::size_t hyphae_nodes = 20;
    std::size_t lt_nodes = 20;
    std::size_t targets = 20;
    std::size_t lookups = 10;        // healthy phase: per target and implementation
    std::size_t silent_lookups = 3;  // silent phase: each may wait 15 s for libtorrent
    double silent = 0.1;
    std::size_t mesh_contacts = 3;  // of each kind, per node
    std::size_t warmup = 3;         // random-target lookups per node
    double fill = 1.0;
    unsigned mesh_deadline_s = 120;
    unsigned lookup_deadline_s = 30;
    std::size_t driver_probes = 10;
    std::size_t memory_nodes = 1000;
    std::size_t memory_network = 1000000;
    std::uint64_t seed = 1;
    unsigned rtt_min_ms = 0;  // 0: the core's default
    std::string json_path;
    std::string lt_script;
};

double ms_of(steady::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

double ms_of_core(duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

void progress(const std::string& text) {
    fmt::print(stderr, "{}\n", text);
    std::fflush(stderr);
}

// ---- CPU accounting: how busy the machine was, and with what ----

double ticks_per_second() {
    static const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
    return hz;
}

// user + system seconds of one process (all its threads); 0 when it is gone.
double process_cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) {
        return 0;
    }
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    double utime = 0;
    double stime = 0;
    // Fields after the command: state is field 3, utime 14, stime 15.
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) {
            utime = std::stod(field);
        } else if (i == 15) {
            stime = std::stod(field);
        }
    }
    return (utime + stime) / ticks_per_second();
}

double machine_busy_seconds() {
    std::ifstream in("/proc/stat");
    std::string cpu;
    double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    return (user + nice + system + irq + softirq + steal) / ticks_per_second();
}

struct cpu_mark {
    steady::time_point at;
    double busy = 0;
    double self = 0;
    double lt = 0;
};

struct cpu_usage {
    double wall_s = 0;
    double hyphae_pct = 0;  // this process: Hyphae's nodes and the benchmark itself
    double lt_pct = 0;      // the libtorrent processes
    double other_pct = 0;   // everything else on the machine
};

class cpu_meter {
public:
    explicit cpu_meter(std::vector<pid_t> lt_pids) : lt_pids_(std::move(lt_pids)) {}
    cpu_mark mark() const {
        cpu_mark m;
        m.at = steady::now();
        m.busy = machine_busy_seconds();
        m.self = process_cpu_seconds(getpid());
        for (pid_t p : lt_pids_) {
            m.lt += process_cpu_seconds(p);
        }
        return m;
    }
    static cpu_usage between(const cpu_mark& a, const cpu_mark& b) {
        cpu_usage u;
        u.wall_s = std::chrono::duration<double>(b.at - a.at).count();
        if (u.wall_s <= 0) {
            return u;
        }
        u.hyphae_pct = 100 * (b.self - a.self) / u.wall_s;
        u.lt_pct = 100 * (b.lt - a.lt) / u.wall_s;
        u.other_pct = std::max(0.0, 100 * ((b.busy - a.busy) - (b.self - a.self) - (b.lt - a.lt)) / u.wall_s);
        return u;
    }

private:
    std::vector<pid_t> lt_pids_;
};

nlohmann::json to_json(const cpu_usage& u) {
    return {{"wall_s", u.wall_s},
            {"hyphae_cpu_pct", u.hyphae_pct},
            {"lt_cpu_pct", u.lt_pct},
            {"other_cpu_pct", u.other_pct}};
}

// ---- the network ----

// What a routing table with the given bucket limits holds when it knows every node: buckets
// split while the last one overflows; each bucket keeps min(limit, nodes in its range).
std::size_t ideal_table_size(const dht::node_id& self, const std::vector<dht::node_id>& all,
                             const std::function<std::size_t(std::size_t)>& limit) {
    std::vector<std::size_t> at_depth(161, 0);  // nodes sharing exactly i leading bits with self
    for (const auto& id : all) {
        if (id == self) {
            continue;
        }
        std::size_t depth = 0;
        while (depth < 160) {
            const std::size_t byte = depth / 8;
            const auto mask = static_cast<std::uint8_t>(0x80u >> (depth % 8));
            if ((id.bytes[byte] & mask) != (self.bytes[byte] & mask)) {
                break;
            }
            ++depth;
        }
        ++at_depth[depth];
    }
    std::size_t total = 0;
    for (std::size_t last = 0; last < 160; ++last) {
        std::size_t deeper = 0;  // nodes the last bucket would hold if it were bucket `last`
        for (std::size_t i = last; i <= 160; ++i) {
            deeper += at_depth[i];
        }
        if (deeper <= limit(last)) {
            return total + deeper;
        }
        total += std::min(limit(last), at_depth[last]);
    }
    return total;
}

id160 random_hash(rng& random) {
    id160 h;
    for (auto& b : h.bytes) {
        b = static_cast<std::uint8_t>(random());
    }
    return h;
}

template <class T>
std::vector<T> pick(const std::vector<T>& from, std::size_t count, rng& random) {
    std::vector<T> copy = from;
    for (std::size_t i = 0; i < copy.size(); ++i) {
        std::swap(copy[i], copy[i + random() % (copy.size() - i)]);
    }
    copy.resize(std::min(count, copy.size()));
    return copy;
}

std::vector<std::unique_ptr<lt_dht_node>> start_lt_nodes(std::size_t count, const std::string& script) {
    // A few at a time: each one imports libtorrent (a second of CPU) before it listens.
    std::vector<std::unique_ptr<lt_dht_node>> nodes;
    constexpr std::size_t batch = 4;
    for (std::size_t first = 0; first < count; first += batch) {
        std::vector<std::future<std::unique_ptr<lt_dht_node>>> starting;
        for (std::size_t i = first; i < std::min(count, first + batch); ++i) {
            starting.push_back(std::async(std::launch::async, [&script] {
                lt_dht_node::options o;
                o.script = script;
                return std::make_unique<lt_dht_node>(o);
            }));
        }
        for (auto& f : starting) {
            nodes.push_back(f.get());
        }
    }
    return nodes;
}

// Runs f(i) for every libtorrent node at once, one thread per node (a node's calls block).
void for_each_lt(std::vector<std::unique_ptr<lt_dht_node>>& nodes, const std::function<void(std::size_t)>& f,
                 const std::vector<bool>& skip = {}) {
    std::vector<std::future<void>> running;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (i < skip.size() && skip[i]) {
            continue;
        }
        running.push_back(std::async(std::launch::async, f, i));
    }
    for (auto& r : running) {
        r.get();
    }
}

struct mesh_state {
    std::vector<std::size_t> hyphae_sizes, hyphae_ideal, lt_sizes, lt_ideal;
    bool full = false;
    double seconds = 0;
};

nlohmann::json to_json(const mesh_state& m) {
    return {{"hyphae_table_sizes", m.hyphae_sizes},
            {"hyphae_ideal_sizes", m.hyphae_ideal},
            {"lt_table_sizes", m.lt_sizes},
            {"lt_ideal_sizes", m.lt_ideal},
            {"full", m.full},
            {"seconds", m.seconds}};
}

std::string range_text(const std::vector<std::size_t>& v) {
    if (v.empty()) {
        return "-";
    }
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return fmt::format("{}..{}", *lo, *hi);
}

// ---- lookups ----

struct target_info {
    id160 hash;
    std::string hex;
    std::string announcer_impl;
    std::size_t announcer = 0;
    std::string expected;  // the announcer's "127.0.0.1:PORT"
    int stored = 0;        // nodes the announce reached
    double announce_ms = 0;
};

lookup_record hyphae_lookup(hyphae_fleet& fleet, std::size_t origin, const target_info& t, std::size_t index,
                            const std::string& phase, std::chrono::milliseconds deadline) {
    lookup_record r;
    r.phase = phase;
    r.impl = "hyphae";
    r.target = index;
    r.origin = origin;
    const auto start = steady::now();
    const auto id = fleet.start_lookup(origin, dht::lookup_kind::get_peers, t.hash);
    if (id == 0) {
        return r;
    }
    fleet_lookup result = fleet.wait(origin, id, deadline);
    r.wall_ms = ms_of(steady::now() - start);
    if (!result.done) {
        fleet.cancel(origin, id);
    }
    r.complete = result.done;
    r.peers = static_cast<int>(result.peers.size());
    r.found = std::any_of(result.peers.begin(), result.peers.end(),
                          [&](const endpoint& ep) { return ep.to_string() == t.expected; });
    if (result.first_peer) {
        r.first_ms = ms_of_core(*result.first_peer);
    }
    r.messages = -1;  // unknown unless lookup_done came
    r.responses = -1;
    if (result.result) {
        const auto& s = result.result->stats;
        r.done_ms = ms_of_core(s.elapsed);
        r.messages = static_cast<int>(s.queries);
        r.responses = static_cast<int>(s.responses);
        r.timeouts = static_cast<int>(s.timeouts);
        r.hops = s.hops;
    }
    return r;
}

lookup_record lt_lookup(lt_dht_node& node, std::size_t origin, const target_info& t, std::size_t index,
                        const std::string& phase, std::chrono::milliseconds deadline) {
    lookup_record r;
    r.phase = phase;
    r.impl = "libtorrent";
    r.target = index;
    r.origin = origin;
    const auto start = steady::now();
    const auto result = node.get_peers(t.hex, deadline);
    r.wall_ms = ms_of(steady::now() - start);
    if (!result) {
        progress(fmt::format("  libtorrent node {}: no answer to get_peers: {}", origin, node.last_answer()));
        return r;
    }
    r.complete = result->complete;
    r.peers = static_cast<int>(result->peers.size());
    r.found = std::find(result->peers.begin(), result->peers.end(), t.expected) != result->peers.end();
    // lt_dht.py's us= and first_us= (microseconds) when it has them, else its ms= and first_ms=.
    const auto micros = [&](const std::string& name) -> std::optional<double> {
        std::istringstream words(node.last_answer());
        std::string word;
        while (words >> word) {
            if (word.rfind(name + "=", 0) == 0) {
                return std::stod(word.substr(name.size() + 1));
            }
        }
        return std::nullopt;
    };
    const auto us = micros("us");
    const auto first_us = micros("first_us");
    r.first_ms = first_us ? (*first_us < 0 ? -1 : *first_us / 1000)
                          : static_cast<double>(result->stats.first_result.count());
    const double elapsed = us ? *us / 1000 : static_cast<double>(result->stats.elapsed.count());
    r.done_ms = result->complete ? elapsed : -1;
    r.messages = result->stats.queries_sent;
    r.responses = result->stats.replies;
    return r;
}

// Origins for target `index`: `count` live nodes of one kind, not the announcer, rotating so that
// every node looks up about as often.
std::vector<std::size_t> origins_for(std::size_t index, std::size_t count, std::size_t nodes,
                                     const std::vector<bool>& silent, std::optional<std::size_t> announcer) {
    std::vector<std::size_t> eligible;
    for (std::size_t i = 0; i < nodes; ++i) {
        if (!silent[i] && announcer != i) {
            eligible.push_back(i);
        }
    }
    std::vector<std::size_t> out;
    for (std::size_t r = 0; r < count && !eligible.empty(); ++r) {
        out.push_back(eligible[(index * count + r) % eligible.size()]);
    }
    return out;
}

std::string short_record(const lookup_record& r) {
    const auto count = [](int v) {
        return v >= 0 ? std::to_string(v) : std::string("?");
    };
    return fmt::format("{} {:>2}: {} first {} done {} msgs {} replies {}", r.impl == "hyphae" ? "hy" : "lt",
                       r.origin, r.found ? "found" : "MISS ",
                       r.first_ms >= 0 ? fmt::format("{:.2f}", r.first_ms) : std::string("-"),
                       r.complete ? fmt::format("{:.2f}", r.done_ms) : std::string("INCOMPLETE"),
                       count(r.messages), count(r.responses));
}

void run_phase(const std::string& phase, std::size_t lookups, const options& o,
               std::vector<target_info>& targets, hyphae_fleet& fleet,
               std::vector<std::unique_ptr<lt_dht_node>>& lts, const std::vector<bool>& hy_silent,
               const std::vector<bool>& lt_silent, std::vector<lookup_record>& records) {
    const auto deadline = std::chrono::milliseconds(o.lookup_deadline_s * 1000);
    for (std::size_t t = 0; t < targets.size(); ++t) {
        const auto& target = targets[t];
        const auto hy =
            origins_for(t, lookups, fleet.size(), hy_silent,
                        target.announcer_impl == "hyphae" ? std::optional(target.announcer) : std::nullopt);
        const auto lt = origins_for(
            t, lookups, lts.size(), lt_silent,
            target.announcer_impl == "libtorrent" ? std::optional(target.announcer) : std::nullopt);
        std::string line = fmt::format("  {} target {:>2} ({}):", phase, t, target.announcer_impl);
        for (std::size_t r = 0; r < std::max(hy.size(), lt.size()); ++r) {
            // Alternate which goes first, so neither always follows the other.
            const bool hyphae_first = (t + r) % 2 == 0;
            for (int k = 0; k < 2; ++k) {
                const bool do_hyphae = (k == 0) == hyphae_first;
                if (do_hyphae && r < hy.size()) {
                    records.push_back(hyphae_lookup(fleet, hy[r], target, t, phase, deadline));
                } else if (!do_hyphae && r < lt.size()) {
                    records.push_back(lt_lookup(*lts[lt[r]], lt[r], target, t, phase, deadline));
                } else {
                    continue;
                }
                line += "\n    " + short_record(records.back());
            }
        }
        progress(line);
    }
}

int run(const options& o) {
    if (!lt_dht_node::available()) {
        fmt::print(stderr, "hyphae_dht_bench: {}\n", lt_dht_node::unavailable_reason());
        return 1;
    }
    rng random(o.seed);
    nlohmann::json report;
    report["options"] = {{"hyphae_nodes", o.hyphae_nodes},
                         {"lt_nodes", o.lt_nodes},
                         {"targets", o.targets},
                         {"lookups", o.lookups},
                         {"silent_lookups", o.silent_lookups},
                         {"silent", o.silent},
                         {"mesh_contacts", o.mesh_contacts},
                         {"warmup", o.warmup},
                         {"fill", o.fill},
                         {"lookup_deadline_s", o.lookup_deadline_s},
                         {"seed", o.seed}};

    // Every node shares 127.0.0.1: the per-address query limit would throttle the whole network
    // (as libtorrent's dht_block_ratelimit would; lt_dht.py lifts that one).
    dht::dht_config config;
    config.query_rate = 0;
    if (o.rtt_min_ms > 0) {
        config.rtt.timeout_min = std::chrono::milliseconds(o.rtt_min_ms);
    }
    report["options"]["soft_timeout_min_ms"] =
        std::chrono::duration_cast<std::chrono::milliseconds>(config.rtt.timeout_min).count();

    // ---- 1. start and mesh ----
    // libtorrent's processes first: a child started later would inherit the Hyphae nodes' sockets
    // (Asio opens them without SOCK_CLOEXEC) and keep their ports bound after we close them.
    const auto t_start = steady::now();
    auto lts = start_lt_nodes(o.lt_nodes, o.lt_script);
    progress(
        fmt::format("started {} libtorrent nodes ({:.0f} ms)", lts.size(), ms_of(steady::now() - t_start)));
    const std::size_t rss_empty = resident_bytes();
    hyphae_fleet fleet(o.seed);
    fleet.start(o.hyphae_nodes, config);
    progress(fmt::format("started {} Hyphae nodes", fleet.size()));
    std::vector<pid_t> lt_pids;
    for (auto& n : lts) {
        lt_pids.push_back(n->process().pid());
    }
    cpu_meter meter(lt_pids);

    std::vector<dht::node_contact> hy_contacts, lt_contacts;
    std::vector<dht::node_id> all_ids;
    for (std::size_t i = 0; i < fleet.size(); ++i) {
        hy_contacts.push_back({fleet.id_of(i), fleet.endpoint_of(i)});
        all_ids.push_back(fleet.id_of(i));
    }
    for (auto& n : lts) {
        const auto id = dht::node_id::from_hex(n->node_id_hex());
        if (!id) {
            fmt::print(stderr, "libtorrent node {} gave no node id:\n{}\n", n->endpoint(), n->output());
            return 1;
        }
        lt_contacts.push_back({*id, *endpoint::parse(n->endpoint())});
        all_ids.push_back(*id);
    }
    for (const auto& [name, list] :
         {std::pair{"hyphae", &hy_contacts}, std::pair{"libtorrent", &lt_contacts}}) {
        for (const auto& c : *list) {
            report["nodes"][name].push_back({{"id", c.id.to_hex()}, {"endpoint", c.ep.to_string()}});
        }
    }
    const auto others = [](const std::vector<dht::node_contact>& v, std::size_t self) {
        std::vector<dht::node_contact> out;
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (i != self) {
                out.push_back(v[i]);
            }
        }
        return out;
    };
    for (std::size_t i = 0; i < fleet.size(); ++i) {
        auto hy = pick(others(hy_contacts, i), o.mesh_contacts, random);
        auto lt = pick(lt_contacts, o.mesh_contacts, random);
        std::vector<endpoint> bootstrap;
        std::vector<dht::node_contact> contacts;
        for (const auto& c : hy) {
            contacts.push_back(c);
        }
        for (const auto& c : lt) {
            contacts.push_back(c);
        }
        // One of each kind is also a bootstrap endpoint, as a user would give one.
        if (!hy.empty()) {
            bootstrap.push_back(hy.front().ep);
        }
        if (!lt.empty()) {
            bootstrap.push_back(lt.front().ep);
        }
        fleet.join(i, bootstrap, contacts);
    }
    std::vector<std::vector<dht::node_contact>> lt_told(lts.size());
    for (std::size_t i = 0; i < lts.size(); ++i) {
        for (const auto& c : pick(hy_contacts, o.mesh_contacts, random)) {
            lt_told[i].push_back(c);
        }
        for (const auto& c : pick(others(lt_contacts, i), o.mesh_contacts, random)) {
            lt_told[i].push_back(c);
        }
    }
    for_each_lt(lts, [&](std::size_t i) {
        for (const auto& c : lt_told[i]) {
            lts[i]->add_node(c.ep.to_string());
        }
    });

    // ---- 2. warm up and wait for full tables ----
    mesh_state mesh;
    for (std::size_t i = 0; i < fleet.size(); ++i) {
        mesh.hyphae_ideal.push_back(
            ideal_table_size(fleet.id_of(i), all_ids, [&](std::size_t) { return config.table.bucket_size; }));
    }
    for (std::size_t i = 0; i < lts.size(); ++i) {
        // libtorrent's extended routing table: its first buckets hold 16, 8, 4 and 2 times k.
        mesh.lt_ideal.push_back(ideal_table_size(lt_contacts[i].id, all_ids, [](std::size_t bucket) {
            constexpr std::size_t factors[] = {16, 8, 4, 2};
            return std::size_t{8} * (bucket < 4 ? factors[bucket] : 1);
        }));
    }
    const auto mesh_start = steady::now();
    const auto mesh_end = mesh_start + std::chrono::seconds(o.mesh_deadline_s);
    const auto tables_full = [&] {
        mesh.hyphae_sizes = fleet.table_sizes();
        mesh.lt_sizes.assign(lts.size(), 0);
        for_each_lt(lts, [&](std::size_t i) { mesh.lt_sizes[i] = lts[i]->node_count(5s).value_or(0); });
        bool full = true;
        for (std::size_t i = 0; i < fleet.size(); ++i) {
            full = full && static_cast<double>(mesh.hyphae_sizes[i]) >=
                               o.fill * static_cast<double>(mesh.hyphae_ideal[i]);
        }
        for (std::size_t i = 0; i < lts.size(); ++i) {
            full = full &&
                   static_cast<double>(mesh.lt_sizes[i]) >= o.fill * static_cast<double>(mesh.lt_ideal[i]);
        }
        return full;
    };
    std::this_thread::sleep_for(1s);  // the bootstrap lookups and pings
    for (std::size_t round = 0; round < o.warmup; ++round) {
        std::vector<std::pair<std::size_t, dht::lookup_id>> running;
        std::vector<id160> hy_targets, lt_targets;
        for (std::size_t i = 0; i < fleet.size(); ++i) {
            hy_targets.push_back(random_hash(random));
        }
        for (std::size_t i = 0; i < lts.size(); ++i) {
            lt_targets.push_back(random_hash(random));
        }
        for (std::size_t i = 0; i < fleet.size(); ++i) {
            running.emplace_back(i, fleet.start_lookup(i, dht::lookup_kind::find_node, hy_targets[i]));
        }
        for_each_lt(lts, [&](std::size_t i) { lts[i]->get_peers(lt_targets[i].to_hex(), 20s); });
        for (const auto& [i, id] : running) {
            if (id != 0 && !fleet.wait(i, id, 20s).done) {
                fleet.cancel(i, id);
            }
        }
        mesh.full = tables_full();
        progress(fmt::format("warm-up round {}: Hyphae tables {} (full: {}), libtorrent tables {} (full: {})",
                             round + 1, range_text(mesh.hyphae_sizes), range_text(mesh.hyphae_ideal),
                             range_text(mesh.lt_sizes), range_text(mesh.lt_ideal)));
    }
    while (!(mesh.full = tables_full())) {
        if (steady::now() >= mesh_end) {
            progress("mesh: deadline passed before every table was full; measuring anyway");
            break;
        }
        // Nudge the nodes whose tables lack entries: a random lookup each.
        std::vector<std::pair<std::size_t, dht::lookup_id>> running;
        for (std::size_t i = 0; i < fleet.size(); ++i) {
            if (static_cast<double>(mesh.hyphae_sizes[i]) <
                o.fill * static_cast<double>(mesh.hyphae_ideal[i])) {
                running.emplace_back(i,
                                     fleet.start_lookup(i, dht::lookup_kind::find_node, random_hash(random)));
            }
        }
        std::vector<bool> skip(lts.size());
        std::vector<id160> lt_targets;
        for (std::size_t i = 0; i < lts.size(); ++i) {
            skip[i] = static_cast<double>(mesh.lt_sizes[i]) >= o.fill * static_cast<double>(mesh.lt_ideal[i]);
            lt_targets.push_back(random_hash(random));
        }
        for_each_lt(
            lts, [&](std::size_t i) { lts[i]->get_peers(lt_targets[i].to_hex(), 20s); }, skip);
        for (const auto& [i, id] : running) {
            if (id != 0 && !fleet.wait(i, id, 20s).done) {
                fleet.cancel(i, id);
            }
        }
        std::this_thread::sleep_for(500ms);
    }
    mesh.seconds = std::chrono::duration<double>(steady::now() - mesh_start).count();
    progress(
        fmt::format("mesh after {:.1f} s: Hyphae tables {} (full: {}), libtorrent tables {} (full: {}){}",
                    mesh.seconds, range_text(mesh.hyphae_sizes), range_text(mesh.hyphae_ideal),
                    range_text(mesh.lt_sizes), range_text(mesh.lt_ideal), mesh.full ? "" : " NOT FULL"));
    report["mesh"] = to_json(mesh);

    // ---- what the driver adds: a `nodes` round trip through lt_dht.py ----
    std::vector<double> driver_rtt;
    for (std::size_t p = 0; p < o.driver_probes; ++p) {
        for (auto& n : lts) {
            const auto start = steady::now();
            if (n->node_count(5s)) {
                driver_rtt.push_back(ms_of(steady::now() - start));
            }
        }
    }
    const distribution driver = distribution_of(driver_rtt);
    progress(
        fmt::format("driver: a `nodes` round trip through lt_dht.py takes {:.2f} ms (median; p90 {:.2f})",
                    driver.p50, driver.p90));
    report["driver_nodes_roundtrip_ms"] = to_json(driver);

    // ---- 3. announce ----
    std::vector<target_info> targets(o.targets);
    for (std::size_t t = 0; t < o.targets; ++t) {
        target_info& ti = targets[t];
        ti.hash = random_hash(random);
        ti.hex = ti.hash.to_hex();
        ti.announcer_impl = t % 2 == 0 ? "hyphae" : "libtorrent";
        const auto start = steady::now();
        if (ti.announcer_impl == "hyphae") {
            ti.announcer = (t / 2) % fleet.size();
            ti.expected = fleet.endpoint_of(ti.announcer).to_string();
            const auto id = fleet.start_lookup(ti.announcer, dht::lookup_kind::announce, ti.hash);
            const auto done = fleet.wait(ti.announcer, id, 30s);
            ti.stored = done.result ? static_cast<int>(done.result->stored) : -1;
        } else {
            ti.announcer = (t / 2) % lts.size();
            ti.expected = lts[ti.announcer]->endpoint();
            const auto done = lts[ti.announcer]->announce(ti.hex, 30s);
            ti.stored = done ? done->nodes : -1;
        }
        ti.announce_ms = ms_of(steady::now() - start);
        progress(fmt::format("announce {:>2} by {} {:>2} ({}): {} nodes, {:.0f} ms", t, ti.announcer_impl,
                             ti.announcer, ti.expected, ti.stored, ti.announce_ms));
    }
    std::this_thread::sleep_for(1s);  // the last announce_peer queries land
    for (const auto& ti : targets) {
        report["targets"].push_back({{"info_hash", ti.hex},
                                     {"announcer", ti.announcer_impl},
                                     {"announcer_index", ti.announcer},
                                     {"peer", ti.expected},
                                     {"stored_at", ti.stored},
                                     {"announce_ms", ti.announce_ms}});
    }

    // ---- 4. healthy phase ----
    std::vector<lookup_record> records;
    std::vector<bool> hy_silent(fleet.size(), false), lt_silent(lts.size(), false);
    const auto healthy_start = meter.mark();
    run_phase("healthy", o.lookups, o, targets, fleet, lts, hy_silent, lt_silent, records);
    report["cpu"]["healthy"] = to_json(cpu_meter::between(healthy_start, meter.mark()));

    // ---- 5. silent phase ----
    std::vector<std::size_t> silenced_hy, silenced_lt;
    if (o.silent > 0) {
        const auto count_of = [&](std::size_t n) {
            return std::min(n, static_cast<std::size_t>(std::llround(o.silent * static_cast<double>(n))));
        };
        std::vector<std::size_t> hy_index(fleet.size()), lt_index(lts.size());
        std::iota(hy_index.begin(), hy_index.end(), 0);
        std::iota(lt_index.begin(), lt_index.end(), 0);
        silenced_hy = pick(hy_index, count_of(fleet.size()), random);
        silenced_lt = pick(lt_index, count_of(lts.size()), random);
        for (auto i : silenced_hy) {
            fleet.silence(i);
            hy_silent[i] = true;
        }
        for (auto i : silenced_lt) {
            kill(lts[i]->process().pid(), SIGSTOP);
            lt_silent[i] = true;
        }
        std::sort(silenced_hy.begin(), silenced_hy.end());
        std::sort(silenced_lt.begin(), silenced_lt.end());
        progress(fmt::format("silent phase: Hyphae nodes {} and libtorrent nodes {} stop answering",
                             fmt::join(silenced_hy, ","), fmt::join(silenced_lt, ",")));
        const auto silent_start = meter.mark();
        run_phase("silent", o.silent_lookups, o, targets, fleet, lts, hy_silent, lt_silent, records);
        report["cpu"]["silent"] = to_json(cpu_meter::between(silent_start, meter.mark()));
        report["silenced"] = {{"hyphae", silenced_hy}, {"libtorrent", silenced_lt}};
    }

    // ---- 6. memory ----
    const auto fleet_memory = fleet.memory();
    const std::size_t rss_with_fleet = resident_bytes();
    nlohmann::json live_memory = nlohmann::json::array();
    std::vector<double> live_accounted, live_table_sizes;
    for (std::size_t i = 0; i < fleet_memory.size(); ++i) {
        const auto& m = fleet_memory[i];
        const double accounted =
            static_cast<double>(sizeof(dht::dht_node) + m.table_bytes - sizeof(dht::routing_table) +
                                m.peer_store_bytes + m.item_store_bytes);
        live_accounted.push_back(accounted);
        live_table_sizes.push_back(static_cast<double>(m.table_size));
        live_memory.push_back({{"table_size", m.table_size},
                               {"replacements", m.replacements},
                               {"buckets", m.buckets},
                               {"table_bytes", m.table_bytes},
                               {"peer_store_bytes", m.peer_store_bytes},
                               {"item_store_bytes", m.item_store_bytes},
                               {"torrents", m.torrents},
                               {"peers", m.peers},
                               {"accounted_bytes", accounted}});
    }
    report["memory"]["live_nodes"] = live_memory;
    report["memory"]["sizeof_dht_node"] = sizeof(dht::dht_node);
    report["memory"]["sizeof_routing_table"] = sizeof(dht::routing_table);
    report["memory"]["live_rss_per_node_bytes"] =
        (static_cast<double>(rss_with_fleet) - static_cast<double>(rss_empty)) /
        static_cast<double>(fleet.size());
    std::optional<memory_probe_result> probe;
    if (o.memory_nodes > 0) {
        probe = probe_memory(o.memory_nodes, o.memory_network, config, o.seed);
        report["memory"]["full_table_probe"] = to_json(*probe);
    }

    // ---- output ----
    std::vector<nlohmann::json> all_records;
    for (const auto& r : records) {
        all_records.push_back(to_json(r));
    }
    report["lookups"] = all_records;
    std::string out;
    out += fmt::format(
        "\nMixed loopback DHT: {} Hyphae + {} libtorrent 2.0.8 nodes, {} targets, {} (healthy) and "
        "{} (silent) lookups per target and implementation; tables {} (Hyphae {} of {}, libtorrent "
        "{} of {}).\n",
        fleet.size(), lts.size(), targets.size(), o.lookups, o.silent_lookups,
        mesh.full ? "full" : "NOT full", range_text(mesh.hyphae_sizes), range_text(mesh.hyphae_ideal),
        range_text(mesh.lt_sizes), range_text(mesh.lt_ideal));
    int announces_ok = 0;
    for (const auto& ti : targets) {
        announces_ok += ti.stored > 0 ? 1 : 0;
    }
    out += fmt::format("Announces that reached a node: {}/{}.\n", announces_ok, targets.size());
    for (const std::string phase : {"healthy", "silent"}) {
        if (phase == "silent" && o.silent <= 0) {
            continue;
        }
        const auto hy = summarize(records, phase, "hyphae");
        const auto lt = summarize(records, phase, "libtorrent");
        report["summary"][phase] = {{"hyphae", to_json(hy)}, {"libtorrent", to_json(lt)}};
        std::string title =
            phase == "healthy" ? std::string("\nHealthy network (ms; msgs = queries sent per lookup):")
                               : fmt::format("\n{} of each kind silent ({} Hyphae, {} libtorrent nodes; ms):",
                                             fmt::format("{:.0f} %", 100 * o.silent), silenced_hy.size(),
                                             silenced_lt.size());
        out += format_phase_table(title, hy, lt);
        const auto cpu = report["cpu"][phase];
        out += fmt::format(
            "CPU meanwhile (% of one core): this process {:.0f}, libtorrent processes {:.0f}, "
            "others {:.0f}; {:.0f} s\n",
            cpu["hyphae_cpu_pct"].get<double>(), cpu["lt_cpu_pct"].get<double>(),
            cpu["other_cpu_pct"].get<double>(), cpu["wall_s"].get<double>());
        out += fmt::format(
            "Lookups of 50 ms or more: Hyphae {}/{}, libtorrent {}/{}. Call overhead (wall - own "
            "clock) p50: Hyphae {:.2f} ms, libtorrent {:.2f} ms.\n",
            hy.slow, hy.complete, lt.slow, lt.complete, hy.overhead_ms.p50, lt.overhead_ms.p50);
        if (hy.hops.n > 0) {
            out += fmt::format(
                "Hyphae hops p50 {:.0f}, max {:.0f}; lookup_stats.timeouts p50 {:.0f}, max {:.0f}\n",
                hy.hops.p50, hy.hops.max, hy.timeouts.p50, hy.timeouts.max);
        }
    }
    const distribution accounted = distribution_of(live_accounted);
    const distribution sizes = distribution_of(live_table_sizes);
    out += fmt::format("\nMemory per Hyphae node: sizeof(dht_node) {} B.\n", sizeof(dht::dht_node));
    out += fmt::format(
        "  in this network (table {:.0f} entries median): {:.0f} B accounted (median); "
        "process RSS {:.0f} B per node (sockets and runtimes included)\n",
        sizes.p50, accounted.p50, report["memory"]["live_rss_per_node_bytes"].get<double>());
    if (probe) {
        out += fmt::format(
            "  full table as in a {} node network ({} nodes built): {:.0f} live + {:.0f} replacement "
            "entries in {:.1f} buckets; {:.0f} B accounted ({} node + {:.0f} table heap + {:.0f} "
            "stores), {:.0f} B malloc'd, {:.0f} B RSS per node\n",
            probe->network_size, probe->nodes, probe->table_size, probe->replacements, probe->buckets,
            probe->accounted_bytes, probe->sizeof_node, probe->table_heap_bytes, probe->stores_bytes,
            probe->malloc_bytes, probe->rss_bytes);
    }
    out += fmt::format(
        "\ndriver: a `nodes` round trip through lt_dht.py (pipe, Python, libtorrent alert) takes "
        "{:.2f} ms median, {:.2f} ms p90.\n",
        driver.p50, driver.p90);
    out +=
        "first/done: each implementation's own clock (Hyphae's core; libtorrent's lt_dht.py, from reading "
        "the\n"
        "command to the alert); wall: the benchmark's clock around the call. found: the announcer's "
        "endpoint\n"
        "was among the peers; complete: the lookup ended before the deadline. Ratios: Hyphae / libtorrent.\n";
    fmt::print("{}", out);
    std::fflush(stdout);

    if (!o.json_path.empty()) {
        std::ofstream(o.json_path) << report.dump(1) << "\n";
    }

    // Stopped processes cannot read the end of their input: let them go on before they are stopped.
    for (auto i : silenced_lt) {
        kill(lts[i]->process().pid(), SIGCONT);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    CLI::App app{"get_peers lookups in a mixed loopback DHT of Hyphae and libtorrent nodes (bench/dht.sh)"};
    app.add_option("--hyphae", o.hyphae_nodes, "Hyphae nodes (in this process)")->capture_default_str();
    app.add_option("--libtorrent", o.lt_nodes, "libtorrent nodes (lt_dht.py processes)")
        ->capture_default_str();
    app.add_option("--targets", o.targets, "info-hashes announced, half by each kind")->capture_default_str();
    app.add_option("--lookups", o.lookups, "healthy phase: get_peers per target and implementation")
        ->capture_default_str();
    app.add_option("--silent-lookups", o.silent_lookups,
                   "silent phase: get_peers per target and implementation")
        ->capture_default_str();
    app.add_option("--silent", o.silent,
                   "fraction of each kind silenced for the second phase (0: no such phase)")
        ->capture_default_str();
    app.add_option("--mesh-contacts", o.mesh_contacts, "nodes of each kind every node is told of")
        ->capture_default_str();
    app.add_option("--warmup", o.warmup, "random-target lookups per node before measuring")
        ->capture_default_str();
    app.add_option("--fill", o.fill, "fraction of the ideal table size every node must reach")
        ->capture_default_str();
    app.add_option("--mesh-deadline", o.mesh_deadline_s, "seconds to wait for full tables")
        ->capture_default_str();
    app.add_option("--lookup-deadline", o.lookup_deadline_s, "seconds a lookup may take")
        ->capture_default_str();
    app.add_option("--driver-probes", o.driver_probes, "`nodes` round trips per libtorrent node")
        ->capture_default_str();
    app.add_option("--memory-nodes", o.memory_nodes, "sans-I/O nodes built for the full-table memory figure")
        ->capture_default_str();
    app.add_option("--memory-network", o.memory_network, "network size their tables are filled for")
        ->capture_default_str();
    app.add_option(
        "--soft-timeout-min", o.rtt_min_ms,
        "diagnostic: Hyphae's smallest soft timeout in ms (rtt_config::timeout_min; 0: the default)");
    app.add_option("--seed", o.seed, "seed for ids, targets and choices")->capture_default_str();
    app.add_option("--json", o.json_path, "write the full report (every lookup) as JSON here");
    app.add_option("--lt-script", o.lt_script, "lt_dht.py to run (default: this tree's)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    try {
        return run(o);
    } catch (const std::exception& e) {
        fmt::print(stderr, "hyphae_dht_bench: {}\n", e.what());
        return 1;
    }
}
