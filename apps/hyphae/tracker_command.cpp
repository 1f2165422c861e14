// hyphae tracker: the HTTP and UDP tracker server, with its allow-list, state file and status.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include "commands.hpp"
#include "human_units.hpp"
#include <asio/signal_set.hpp>
#include <fmt/format.h>
#include <malloc.h>
#include <unistd.h>

#include "hyphae/host/host.hpp"
#include "hyphae/host/host_owner.hpp"
#include "hyphae/proto/tracker/info_hash_list.hpp"
#include "hyphae/proto/tracker/tracker_server.hpp"
#include "hyphae/runtime/atomic_file.hpp"
#include "hyphae/runtime/host_runtime.hpp"
#include "hyphae/runtime/runtime_clock.hpp"

namespace hyphae::cli {
using namespace hyphae::tracker;
namespace {

constexpr std::uint16_t default_port = 6969;  // the customary tracker port (opentracker's too)
constexpr std::size_t allow_list_size_max = 256u << 20;
constexpr std::size_t state_size_max = std::size_t{4} << 30;
constexpr int notices_per_second_max = 20;

struct tracker_options {
    std::optional<std::uint16_t> http_port;
    std::optional<std::uint16_t> udp_port;
    std::string bind = "0.0.0.0";
    std::string allow_file;
    std::string state_file;
    unsigned state_interval = 300;
    unsigned interval = 1800;
    std::optional<unsigned> min_interval;
    unsigned expire_intervals = 2;
    std::size_t max_swarms = 1'000'000;
    std::size_t max_peers = 10'000'000;
    std::size_t max_peers_per_swarm = 200'000;
    std::size_t numwant_max = 200;
    double rate_limit = 50;
    bool trust_ip_param = false;
    std::string ip_header;
    std::size_t max_connections = 4096;
    unsigned status_interval = 60;
    bool verbose = false;
};

std::int64_t wall_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::uint64_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t size = 0;
    std::uint64_t resident = 0;
    statm >> size >> resident;
    return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

result<std::vector<sha1_hash>> load_allow_list(const std::string& path) {
    auto text = read_whole_file(path, allow_list_size_max);
    if (!text) {
        return tl::unexpected(text.error());
    }
    auto list = parse_info_hash_list(*text);
    if (!list) {
        return fail(list.error().code, path + ": " + list.error().where, list.error().what);
    }
    return list;
}

std::string count(std::uint64_t n) {
    std::string digits = std::to_string(n);
    for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3) {
        digits.insert(static_cast<std::size_t>(at), ",");
    }
    return digits;
}

tracker_config core_config(const tracker_options& o) {
    tracker_config c;
    c.interval = std::chrono::seconds(o.interval);
    c.min_interval = std::chrono::seconds(std::min(o.min_interval.value_or(o.interval / 2), o.interval));
    c.expire_intervals = o.expire_intervals;
    c.limits.swarms_max = o.max_swarms;
    c.limits.peers_max = o.max_peers;
    c.limits.peers_per_swarm_max = o.max_peers_per_swarm;
    c.numwant_max = o.numwant_max;
    c.numwant_default = std::min(c.numwant_default, o.numwant_max);
    c.rate_per_address = o.rate_limit;
    c.burst_per_address = std::max(4 * o.rate_limit, 1.0);
    c.trust_ip_param = o.trust_ip_param;
    c.ip_header = o.ip_header;
    c.http_connections_max = o.max_connections;
    c.report_refusals = o.verbose;
    c.claims_every_connection = true;  // its own port: every request is a tracker request
    return c;
}

// The running tracker: a host with the tracker service under the one runtime, and the chores
// around them (signals, state saves, status lines, memory figures).
class tracker_service final : public host_owner {
public:
    explicit tracker_service(const tracker_options& options)
        : options_(options), host_(host_config_for(options)) {
        tracker_ = host_.add(
            runtime_now(),
            std::make_unique<tracker_server>(
                core_config(options), std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32),
                runtime_now()));
    }

    ~tracker_service() {
        if (saver_.joinable()) {
            saver_.join();
        }
    }

    int run() {
        if (!options_.allow_file.empty()) {
            auto list = load_allow_list(options_.allow_file);
            if (!list) {
                return report(list.error());
            }
            fmt::print("tracker: allow-list {}: {} info-hashes\n", options_.allow_file, count(list->size()));
            core().set_allow_list(runtime_now(), std::move(*list));
        }
        if (!options_.state_file.empty()) {
            load_state();
        }
        runtime_config rc;
        rc.bind_address = options_.bind;
        rc.tcp_port = options_.http_port;
        if (options_.udp_port) {
            rc.udp = runtime_config::udp_mode::port;
            rc.udp_port = *options_.udp_port;
        }
        if (!options_.http_port && !options_.udp_port) {
            rc.tcp_port = default_port;
            rc.udp = runtime_config::udp_mode::port;
            rc.udp_port = default_port;
        }
        rc.read_buffer_size = 64 * 1024;  // requests are small; one buffer serves every connection
        runtime_ = std::make_unique<host_runtime>(host_, rc, this);
        if (auto opened = runtime_->open(); !opened) {
            return report(opened.error());
        }
        if (auto http = runtime_->tcp_endpoint()) {
            fmt::print("tracker: http on {} (announce http://{}/announce)\n", http->to_string(),
                       http->to_string());
        }
        if (auto udp = runtime_->udp_endpoint()) {
            fmt::print("tracker: udp on {} (announce udp://{}/announce)\n", udp->to_string(),
                       udp->to_string());
        }

        asio::io_context& io = runtime_->context();
        asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
        std::function<void()> wait_signal = [&] {
            signals.async_wait([&](const asio::error_code& ec, int signal) {
                if (ec) {
                    return;
                }
                if (signal == SIGHUP) {
                    reload_allow_list();
                    wait_signal();
                    return;
                }
                fmt::print("tracker: {} received, stopping\n", signal == SIGINT ? "SIGINT" : "SIGTERM");
                runtime_->stop();
            });
        };
        wait_signal();
        asio::steady_timer chores(io);
        std::function<void()> schedule = [&] {
            chores.expires_after(std::chrono::seconds(1));
            chores.async_wait([&](const asio::error_code& ec) {
                if (!ec) {
                    every_second();
                    schedule();
                }
            });
        };
        schedule();
        // Reading the allow-list and the state file went through large buffers that glibc keeps
        // in its heap once freed: give them back before serving.
        malloc_trim(0);
        core().set_resident_bytes(resident_bytes());
        fmt::print("tracker: ready\n");
        std::fflush(stdout);
        runtime_->run();

        if (!options_.state_file.empty()) {
            if (saver_.joinable()) {
                saver_.join();
            }
            if (!save_state_now()) {
                return exit_failure;
            }
        }
        fmt::print("tracker: stopped\n");
        return 0;
    }

    // The tracker's notices (refused requests, closed connections), for the log.
    void on_ready(time_point, service_id) override {
        while (auto n = core().poll_event()) {
            print_notice(*n);
        }
    }

private:
    static host_config host_config_for(const tracker_options& o) {
        host_config c;
        // HTTP clients send at once; the tracker's own http_connections_max bounds them.
        c.pending_streams_max = o.max_connections;
        c.connections_max = 2 * o.max_connections + 64;
        return c;
    }

    tracker_server& core() { return host_.get<tracker_server>(tracker_); }

    void every_second() {
        ++seconds_;
        if (seconds_ % 5 == 0) {
            core().set_resident_bytes(resident_bytes());
        }
        if (suppressed_ > 0) {
            fmt::print("tracker: {} more refusals not shown\n", suppressed_);
            suppressed_ = 0;
        }
        notices_this_second_ = 0;
        if (options_.status_interval > 0 && seconds_ % options_.status_interval == 0) {
            print_status();
        }
        if (!options_.state_file.empty() && options_.state_interval > 0 &&
            seconds_ % options_.state_interval == 0) {
            save_state_in_background();
        }
        std::fflush(stdout);
    }

    void print_status() {
        const tracker_figures f = core().figures(runtime_now());
        const std::uint64_t announces = f.counters.udp_announces + f.counters.http_announces;
        const double rate = static_cast<double>(announces - last_announces_) / options_.status_interval;
        last_announces_ = announces;
        fmt::print("tracker: {} swarms, {} peers ({} seeders), {:.1f} announces/s, {} resident\n",
                   count(f.swarms), count(f.peers), count(f.seeders), rate,
                   format_bytes(static_cast<std::int64_t>(f.resident_bytes)));
    }

    void print_notice(const tracker_notice& n) {
        if (notices_this_second_ >= notices_per_second_max) {
            ++suppressed_;
            return;
        }
        ++notices_this_second_;
        fmt::print("tracker: {} {}: {}\n", n.udp ? "udp" : "http", n.from.to_string(), n.text);
    }

    void reload_allow_list() {
        if (options_.allow_file.empty()) {
            fmt::print("tracker: SIGHUP: no allow-list to reload (start with --allow FILE)\n");
            return;
        }
        auto list = load_allow_list(options_.allow_file);
        if (!list) {
            fmt::print("tracker: allow-list not reloaded, keeping the previous one: {}\n",
                       list.error().message());
            return;
        }
        const std::size_t size = list->size();
        const std::size_t dropped = host_.call<tracker_server>(
            runtime_now(), tracker_,
            [&](tracker_server& t) { return t.set_allow_list(runtime_now(), std::move(*list)); });
        runtime_->pump();
        malloc_trim(0);
        fmt::print("tracker: allow-list reloaded: {} info-hashes, {} swarms dropped\n", count(size),
                   count(dropped));
        std::fflush(stdout);
    }

    void load_state() {
        const std::string& path = options_.state_file;
        if (!std::filesystem::exists(path)) {
            fmt::print("tracker: state {}: none yet, starting empty\n", path);
            return;
        }
        auto bytes = read_whole_file(path, state_size_max);
        result<tracker_state_summary> restored = tl::unexpected(bytes ? error{} : bytes.error());
        if (bytes) {
            restored = core().import_state(runtime_now(), wall_seconds(), as_bytes(*bytes));
        }
        if (!restored) {
            // The peers re-announce within an interval anyway: start, but keep the file for a look.
            const std::string aside = path + ".unreadable";
            std::error_code ec;
            std::filesystem::rename(path, aside, ec);
            fmt::print("tracker: state {} not restored ({}); moved to {}, starting empty\n", path,
                       restored.error().message(), ec ? std::string("nowhere: ") + ec.message() : aside);
            return;
        }
        fmt::print(
            "tracker: state {}: restored {} swarms and {} peers ({} expired while down for {}, {} refused)\n",
            path, count(restored->swarms), count(restored->peers), count(restored->peers_expired),
            format_duration(static_cast<double>(restored->downtime_seconds)), count(restored->refused));
    }

    void save_state_in_background() {
        if (saver_.joinable()) {
            if (!saved_.load()) {
                return;  // the last save is still being written
            }
            saver_.join();
        }
        auto bytes = std::make_shared<byte_buffer>(core().export_state(runtime_now(), wall_seconds()));
        saved_ = false;
        saver_ = std::thread([this, bytes, path = options_.state_file, &io = runtime_->context()] {
            auto written = write_file_atomically(path, as_chars(*bytes), overwrite::allow);
            if (!written) {
                asio::post(
                    io, [e = written.error()] { fmt::print("tracker: state not saved: {}\n", e.message()); });
            }
            saved_ = true;
        });
    }

    bool save_state_now() {
        const byte_buffer bytes = core().export_state(runtime_now(), wall_seconds());
        auto written = write_file_atomically(options_.state_file, as_chars(bytes), overwrite::allow);
        if (!written) {
            report(written.error());
            return false;
        }
        const tracker_figures f = core().figures(runtime_now());
        fmt::print("tracker: state saved to {} ({} swarms, {} peers, {})\n", options_.state_file,
                   count(f.swarms), count(f.peers), format_bytes(static_cast<std::int64_t>(bytes.size())));
        return true;
    }

    tracker_options options_;
    host host_;
    service_id tracker_ = 0;
    std::unique_ptr<host_runtime> runtime_;
    std::thread saver_;
    std::atomic<bool> saved_{true};
    std::uint64_t seconds_ = 0;
    std::uint64_t last_announces_ = 0;
    int notices_this_second_ = 0;
    std::uint64_t suppressed_ = 0;
};

}  // namespace

command add_tracker_command(CLI::App& parent) {
    auto o = std::make_shared<tracker_options>();
    CLI::App* app = parent.add_subcommand(
        "tracker",
        "Run a BitTorrent tracker: HTTP and UDP announce and scrape (without --http or --udp: both on 6969)");
    app->add_option("--http", o->http_port,
                    "HTTP port for /announce, /scrape, /stats, /metrics (0: any free)");
    app->add_option("--udp", o->udp_port, "UDP port for BEP 15 announce and scrape (0: any free)");
    app->add_option("--bind", o->bind, "Address to listen on (default 0.0.0.0; :: for IPv6 and IPv4)");
    app->add_option("--allow", o->allow_file,
                    "Track only the info-hashes in FILE (40 hex digits a line); SIGHUP reloads it");
    app->add_option("--state", o->state_file, "Keep the swarms in FILE across restarts (written atomically)");
    app->add_option("--state-interval", o->state_interval,
                    "Seconds between state saves (default 300; 0: at exit only)");
    app->add_option("--interval", o->interval, "Seconds between a peer's announces (default 1800)")
        ->check(CLI::Range(1u, 86400u));
    app->add_option("--min-interval", o->min_interval,
                    "The 'min interval' to send (default: half the interval)");
    app->add_option("--expire-intervals", o->expire_intervals,
                    "Intervals without an announce before a peer expires (default 2)")
        ->check(CLI::Range(1u, 100u));
    app->add_option("--max-swarms", o->max_swarms,
                    "Swarms at most; the longest idle are evicted (default 1000000)")
        ->check(CLI::PositiveNumber);
    app->add_option("--max-peers", o->max_peers, "Peers at most, all swarms together (default 10000000)")
        ->check(CLI::PositiveNumber);
    app->add_option("--max-peers-per-swarm", o->max_peers_per_swarm,
                    "Peers at most in one swarm (default 200000)")
        ->check(CLI::PositiveNumber);
    app->add_option("--numwant-max", o->numwant_max, "Peers in one answer at most (default 200)")
        ->check(CLI::Range(0, 10000));
    app->add_option(
           "--rate-limit", o->rate_limit,
           "Requests a second from one address (IPv6: one /64), bursts of 4x; 0: no limit (default 50)")
        ->check(CLI::NonNegativeNumber);
    app->add_flag("--trust-ip-param", o->trust_ip_param,
                  "Believe the 'ip' a peer announces instead of the address it comes from");
    app->add_option("--ip-header", o->ip_header,
                    "Behind a reverse proxy: take HTTP peers' address from this header (X-Forwarded-For)");
    app->add_option("--max-connections", o->max_connections, "HTTP connections at most (default 4096)")
        ->check(CLI::PositiveNumber);
    app->add_option("--status-interval", o->status_interval,
                    "Seconds between status lines (default 60; 0: none)");
    app->add_flag("-v,--verbose", o->verbose,
                  "Print refused requests with their reasons (at most 20 a second)");
    return {app, [o] {
                tracker_service service(*o);
                return service.run();
            }};
}

}  // namespace hyphae::cli
