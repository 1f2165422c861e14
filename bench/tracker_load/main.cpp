// hyphae_tracker_load: a BEP 15 (UDP) and HTTP announce load against a tracker, for
// bench/tracker.sh. One thread; see udp_load.hpp and http_load.hpp for how it keeps many
// announces in flight cheaply. Exit codes: 0 done, 1 the tracker failed or did not answer,
// 2 a wrong command line; with --probe, 3 when the tracker answered without swarm counts.

#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>

#include "announce_plan.hpp"
#include "http_load.hpp"
#include "load_options.hpp"
#include "phase_stats.hpp"
#include "population.hpp"
#include "udp_load.hpp"
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <netdb.h>
#include <nlohmann/json.hpp>
#include <sys/prctl.h>
#include <sys/socket.h>

namespace {

using namespace hyphae::bench;

constexpr int exit_failure = 1;
constexpr int exit_usage = 2;
constexpr int exit_probe_not_ready = 3;

// "HOST:PORT" to an IPv4 address; throws std::runtime_error.
sockaddr_in resolve(const std::string& text) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
        throw std::runtime_error{fmt::format("'{}' is not HOST:PORT", text)};
    }
    const std::string host = text.substr(0, colon);
    const std::string port = text.substr(colon + 1);
    addrinfo hints{};
    hints.ai_family = AF_INET;
    addrinfo* found = nullptr;
    if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        throw std::runtime_error{fmt::format("{}: {}", text, gai_strerror(rc))};
    }
    sockaddr_in address{};
    std::memcpy(&address, found->ai_addr, sizeof address);
    freeaddrinfo(found);
    return address;
}

const char* outcome_name(probe_outcome o) {
    switch (o) {
        case probe_outcome::full_answer:
            return "answer with counts";
        case probe_outcome::empty_answer:
            return "answer without counts";
        case probe_outcome::error_answer:
            return "error";
        case probe_outcome::no_answer:
            break;
    }
    return "no answer";
}

// Fill, then steady; the table on stderr; returns the report with both phases added.
template <class Load>
nlohmann::json run_load(Load& load, const population& pop, bool skip_fill, nlohmann::json report) {
    announce_plan plan{pop.peers(), pop.seed() ^ 0x5eedULL};
    phase_stats fill;
    phase_stats steady;
    fmt::print(stderr, "{}\n", table_header());
    if (!skip_fill) {
        plan.start_fill();
        load.run(plan, fill);
        fmt::print(stderr, "{}\n", table_row(fill));
        report["fill"] = fill.to_json();
    }
    plan.start_steady();
    load.run(plan, steady);
    fmt::print(stderr, "{}\n", table_row(steady));
    for (phase_stats* s : {&fill, &steady}) {
        if (!s->first_error.empty()) {
            fmt::print(stderr, "{}: first error: {}\n", s->name, s->first_error);
        }
    }
    report["steady"] = steady.to_json();
    return report;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Announce load against a BitTorrent tracker (BEP 15 UDP or HTTP), for bench/tracker.sh",
                 "hyphae_tracker_load"};
    std::string udp_target;
    std::string http_target;
    std::string hash_file;
    std::uint32_t swarms = 100'000;
    std::uint32_t peers = 1'000'000;
    std::uint64_t seed = 1;
    load_options options;
    std::uint32_t timeout_ms = 1000;
    std::uint32_t poll_us = 100;
    bool json = false;
    bool probe = false;
    bool skip_fill = false;
    auto* udp = app.add_option("--udp", udp_target, "BEP 15 load against HOST:PORT");
    auto* http = app.add_option("--http", http_target, "HTTP announce load against HOST:PORT");
    auto* write = app.add_option("--write-hashes", hash_file,
                                 "write the swarms' hex info-hashes, one a line, and exit");
    udp->excludes(http)->excludes(write);
    http->excludes(write);
    app.add_option("--swarms", swarms, "swarms (info-hashes)")
        ->capture_default_str()
        ->check(CLI::Range(1U, 100'000'000U));
    app.add_option("--peers", peers, "peers; peer i is in swarm i % swarms")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--seed", seed, "seed of the info-hashes and of the steady phase's peer choice")
        ->capture_default_str();
    app.add_option("--in-flight", options.in_flight, "UDP: announces outstanding at once")
        ->capture_default_str()
        ->check(CLI::Range(1U, 65'535U));
    app.add_option("--sockets", options.sockets, "UDP: sockets to spread the announces over")
        ->capture_default_str()
        ->check(CLI::Range(1U, 256U));
    app.add_option("--connections", options.connections, "HTTP: connections, one request in flight on each")
        ->capture_default_str()
        ->check(CLI::Range(1U, 10'000U));
    app.add_option("--duration", options.duration_s, "seconds of the steady phase")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 3600.0));
    app.add_option("--timeout-ms", timeout_ms, "a request unanswered this long is a timeout")
        ->capture_default_str()
        ->check(CLI::Range(10U, 60'000U));
    app.add_option(
           "--poll-us", poll_us,
           "while answers arrive, sleep this long between reads to read them in batches (0: wake per answer)")
        ->capture_default_str()
        ->check(CLI::Range(0U, 10'000U));
    app.add_option("--numwant", options.numwant, "peers asked for in each announce")->capture_default_str();
    app.add_flag("--json", json, "print one JSON object with the figures on stdout");
    app.add_flag("--skip-fill", skip_fill,
                 "only the steady phase (against a tracker filled by an earlier run)");
    app.add_flag(
        "--probe", probe,
        "send one announce (event=stopped) for swarm 0 and exit 0 if the answer carries swarm counts");
    try {
        app.parse(argc, argv);
        if (udp_target.empty() && http_target.empty() && hash_file.empty()) {
            throw CLI::ValidationError{"one of --udp, --http or --write-hashes is needed"};
        }
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : exit_usage;
    }
    options.timeout_ns = std::uint64_t{timeout_ms} * 1'000'000;
    options.poll_ns = std::uint64_t{poll_us} * 1'000;
    prctl(PR_SET_TIMERSLACK, 1'000UL);  // the --poll-us sleeps: 1 us of slack, not 50
    try {
        const population pop{seed, swarms, peers};
        if (!hash_file.empty()) {
            std::ofstream out{hash_file, std::ios::binary | std::ios::trunc};
            out << pop.hash_list();
            out.close();
            if (!out) {
                throw std::runtime_error{fmt::format("cannot write {}", hash_file)};
            }
            return 0;
        }
        const bool is_udp = !udp_target.empty();
        options.target_text = is_udp ? udp_target : http_target;
        options.target = resolve(options.target_text);
        nlohmann::json report = {{"mode", is_udp ? "udp" : "http"},
                                 {"target", options.target_text},
                                 {"swarms", swarms},
                                 {"peers", peers},
                                 {"seed", seed},
                                 {"duration_s", options.duration_s},
                                 {"timeout_ms", timeout_ms},
                                 {"poll_us", poll_us}};
        if (is_udp) {
            report["in_flight"] = options.in_flight;
            report["sockets"] = options.sockets;
        } else {
            report["connections"] = options.connections;
        }
        fmt::print(stderr, "{}://{}: {} swarms, {} peers, seed {}, {}\n", is_udp ? "udp" : "http",
                   options.target_text, swarms, peers, seed,
                   is_udp ? fmt::format("{} in flight over {} sockets", options.in_flight, options.sockets)
                          : fmt::format("{} connections", options.connections));
        if (probe) {
            probe_result result;
            if (is_udp) {
                udp_load load{pop, options};
                result = load.probe();
            } else {
                http_load load{pop, options};
                result = load.probe();
            }
            fmt::print(stderr, "probe: {}{}{}\n", outcome_name(result.outcome),
                       result.detail.empty() ? "" : ": ", result.detail);
            if (result.outcome == probe_outcome::no_answer) {
                return exit_failure;
            }
            return result.outcome == probe_outcome::full_answer ? 0 : exit_probe_not_ready;
        }
        if (is_udp) {
            udp_load load{pop, options};
            load.connect();
            report = run_load(load, pop, skip_fill, std::move(report));
        } else {
            http_load load{pop, options};
            report = run_load(load, pop, skip_fill, std::move(report));
            report["tracker_closes_connections"] = load.tracker_closes();
            fmt::print(stderr, "the tracker closed connections after each answer: {}\n",
                       load.tracker_closes() ? "yes" : "no");
        }
        if (json) {
            fmt::print("{}\n", report.dump());
        }
        return 0;
    } catch (const std::exception& e) {
        fmt::print(stderr, "hyphae_tracker_load: {}\n", e.what());
        return exit_failure;
    }
}
