#include "transfer.hpp"

#include <array>
#include <cmath>
#include <random>
#include <tuple>

#include "commands.hpp"
#include "human_units.hpp"
#include <asio/signal_set.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include "hyphae/host/host.hpp"
#include "hyphae/proto/bittorrent/magnet.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"
#include "hyphae/runtime/host_runtime.hpp"
#include "hyphae/runtime/runtime_clock.hpp"
#include "hyphae/runtime/session_runner.hpp"
#include "hyphae/runtime/torrent_file.hpp"
#include "hyphae/session/session.hpp"

namespace hyphae::cli {
namespace {

using namespace hyphae::bittorrent;

constexpr std::uint16_t default_port = 6881;
// Where clients join the Mainline DHT when told nothing else.
constexpr std::array<std::pair<std::string_view, std::uint16_t>, 3> default_dht_routers = {
    {{"router.bittorrent.com", 6881}, {"dht.transmissionbt.com", 6881}, {"router.utorrent.com", 6881}}};

// `hyphae get` and `seed`: one torrent in a session, under the one runtime.
class transfer {
public:
    explicit transfer(const transfer_options& options) : options_(options) {}

    int run() {
        if (options_.target.rfind("magnet:", 0) == 0) {
            auto link = parse_magnet(options_.target);
            if (!link) {
                return report(link.error());
            }
            magnet_ = *link;
        } else {
            auto m = load_torrent_file(options_.target);
            if (!m) {
                return report(m.error());
            }
            meta_ = std::move(*m);
        }
        std::vector<endpoint> peers;
        for (const std::string& text : options_.peers) {
            auto ep = endpoint::parse(text);
            if (!ep) {
                fmt::print(stderr, "hyphae: --peer '{}' is not HOST:PORT with an IP address\n", text);
                return exit_usage;
            }
            peers.push_back(*ep);
        }
        auto settings = make_settings();
        if (!settings) {
            return exit_usage;
        }

        std::random_device entropy;  // the process edge: cores get seeded generators
        const std::uint64_t seed = (static_cast<std::uint64_t>(entropy()) << 32) | entropy();
        host_config hc;
        hc.connections_max = options_.connections_max + 64;  // the torrent's peers, trackers, handshakes
        host_ = std::make_unique<host>(hc);
        session_ = std::make_unique<session>(*host_, *settings, seed, runtime_now());

        runtime_config rc;
        rc.bind_address = options_.bind;
        rc.tcp_port = options_.port < 0 ? default_port : static_cast<std::uint16_t>(options_.port);
        rc.any_port_if_taken = options_.port < 0;  // the default port is taken (another client): any
        rc.udp = options_.dht ? runtime_config::udp_mode::same_as_tcp : runtime_config::udp_mode::off;
        rc.disk_threads = options_.disk_threads;
        runtime_ = std::make_unique<host_runtime>(*host_, rc);
        runner_ = std::make_unique<session_runner>(*session_, *runtime_);
        if (auto opened = runtime_->open(); !opened) {
            return report(opened.error());
        }
        const std::uint16_t port = runtime_->tcp_endpoint()->port;
        fmt::print(stderr, "listening on {}:{}\n", options_.bind, port);
        if (!runtime_->udp_error().empty()) {
            fmt::print(stderr, "warning: dht: {}; going on without the DHT\n", runtime_->udp_error());
        }
        session_->set_listen_port(runtime_now(), port);
        runner_->on_event = [this](const session_event& e) {
            on_event(e);
        };

        add_torrent_params params;
        params.peers = std::move(peers);
        params.folder = options_.folder;
        params.seed_only = options_.seed;
        if (options_.seed) {
            params.policy.when = stop_policy::kind::never;
        } else if (options_.seed_ratio > 0) {
            params.policy = stop_policy{stop_policy::kind::at_ratio, options_.seed_ratio};
        } else {
            params.policy.when = stop_policy::kind::at_completion;
        }
        if (meta_) {
            const torrent_on_disk on_disk = probe_torrent_files(*meta_, options_.folder);
            if (options_.seed && !on_disk.data_present) {
                return report(
                    error{errc::io, options_.folder + "/" + meta_->name,
                          "no data here to seed (--data is the folder that holds " + meta_->name + ")"});
            }
            params.meta = meta_;
            params.resume = on_disk.resume;
            params.data_on_disk = on_disk.data_present;
            const resume_decision decision =
                decide_resume(*meta_, params.resume, params.data_on_disk, params.seed_only);
            if (!decision.warning.empty()) {
                fmt::print(stderr, "warning: {}\n", decision.warning);
            } else if (decision.trusted) {
                fmt::print(stderr, "resuming: {} of {} pieces already verified\n", decision.trusted->count(),
                           meta_->piece_count());
            }
            if (decision.check) {
                fmt::print(stderr, "checking {} pieces on disk\n", meta_->piece_count());
            }
        } else {
            params.magnet = magnet_;
            fmt::print(stderr, "fetching the metadata of {} from peers\n", magnet_->info_hash.to_hex());
        }
        auto added = session_->add_torrent(runtime_now(), std::move(params));
        if (!added) {
            return report(added.error());
        }
        torrent_ = *added;
        started_ = std::chrono::steady_clock::now();

        asio::signal_set signals(runtime_->context(), SIGINT, SIGTERM);
        signals.async_wait([this](const asio::error_code& ec, int signal) {
            if (!ec) {
                interrupted_ = signal;
                finish();
            }
        });
        tick_timer_ = std::make_unique<asio::steady_timer>(runtime_->context());
        tick();
        runtime_->run();
        return exit_code_;
    }

private:
    std::optional<session_settings> make_settings() {
        session_settings settings;
        settings.bittorrent.torrent.client_name = "Hyphae " HYPHAE_VERSION;
        settings.bittorrent.torrent.connections_max = options_.connections_max;
        settings.trackers.user_agent = "Hyphae/" HYPHAE_VERSION;
        for (auto [text, limit, name] :
             {std::tuple{&options_.upload_limit, &settings.bittorrent.torrent.upload_rate_max,
                         "--upload-limit"},
              std::tuple{&options_.download_limit, &settings.bittorrent.torrent.download_rate_max,
                         "--download-limit"}}) {
            if (text->empty()) {
                continue;
            }
            const auto bytes = parse_size(*text);
            if (!bytes || *bytes <= 0) {
                fmt::print(stderr, "hyphae: {} '{}' is not a rate in bytes/s (e.g. 500K, 2M)\n", name, *text);
                return std::nullopt;
            }
            *limit = *bytes;
        }
        if (options_.dht) {
            settings.dht.emplace();
            for (const std::string& name : options_.dht_bootstrap) {
                if (auto ep = endpoint::parse(name)) {
                    settings.dht->bootstrap.push_back(*ep);
                    continue;
                }
                const auto colon = name.rfind(':');
                unsigned long port = 0;
                if (colon == std::string::npos || colon == 0 ||
                    (port = std::strtoul(name.c_str() + colon + 1, nullptr, 10)) == 0 || port > 65535) {
                    fmt::print(stderr, "hyphae: --dht-bootstrap '{}' is not HOST:PORT\n", name);
                    return std::nullopt;
                }
                settings.dht_bootstrap_names.emplace_back(name.substr(0, colon),
                                                          static_cast<std::uint16_t>(port));
            }
            if (options_.dht_bootstrap.empty()) {
                for (const auto& [name, port] : default_dht_routers) {
                    settings.dht_bootstrap_names.emplace_back(std::string(name), port);
                }
            }
        }
        return settings;
    }

    void on_event(const session_event& e) {
        if (const auto* t = std::get_if<torrent_event>(&e.what)) {
            on_torrent_event(*t);
        } else if (const auto* tracker_e = std::get_if<tracker::tracker_event>(&e.what)) {
            on_tracker_event(*tracker_e);
        } else if (const auto* d = std::get_if<session_events::dht_announced>(&e.what)) {
            if (options_.verbose) {
                fmt::print(stderr, "\rdht: {} peers, announced to {} nodes in {} ms\x1b[K\n", d->peers,
                           d->stored,
                           std::chrono::duration_cast<std::chrono::milliseconds>(d->elapsed).count());
            }
        } else if (const auto* f = std::get_if<session_events::storage_failed>(&e.what)) {
            exit_code_ = report(error{errc::io, "storage", f->what});
            runtime_->stop();
        } else if (const auto* r = std::get_if<session_events::resume_save_failed>(&e.what)) {
            fmt::print(stderr, "\rwarning: cannot save resume data: {}\x1b[K\n", r->what);
        } else if (std::holds_alternative<session_events::finished>(e.what)) {
            finish();
        } else if (std::holds_alternative<session_events::stopped>(e.what)) {
            runtime_->stop();
        }
    }

    void on_tracker_event(const tracker::tracker_event& e) {
        if (const auto* failed = std::get_if<tracker::announce_failed>(&e)) {
            fmt::print(stderr, "\rtracker {}: {}\x1b[K\n", failed->url, failed->reason);
        } else if (const auto* ok = std::get_if<tracker::announce_succeeded>(&e)) {
            if (options_.verbose) {
                fmt::print(stderr, "\rtracker {}: announced, next in {} s\x1b[K\n", ok->url,
                           std::chrono::duration_cast<std::chrono::seconds>(ok->interval).count());
            }
            if (!ok->warning.empty()) {
                fmt::print(stderr, "\rtracker {} warns: {}\x1b[K\n", ok->url, ok->warning);
            }
        } else if (const auto* found = std::get_if<tracker::peers_found>(&e); found && options_.verbose) {
            fmt::print(stderr, "\rtracker {}: {} peers\x1b[K\n", found->url, found->peers.size());
        }
    }

    void on_torrent_event(const torrent_event& e) {
        using namespace torrent_events;
        if (std::holds_alternative<metadata_received>(e)) {
            meta_ = session_->get(torrent_)->meta();
            fmt::print(stderr, "metadata received: {} ({}, {} files)\n", meta_->name,
                       format_bytes(meta_->total_size), meta_->files.size());
        } else if (auto* c = std::get_if<checking_done>(&e)) {
            fmt::print(stderr, "\rchecked: {} of {} pieces are good\x1b[K\n", c->pieces_have,
                       meta_->piece_count());
        } else if (auto* d = std::get_if<disk_error>(&e)) {
            fmt::print(stderr, "\nhyphae: disk error: {}\n", d->what);
            exit_code_ = exit_failure;
            finish();
        } else if (auto* pc = std::get_if<peer_connected>(&e); pc && options_.verbose) {
            fmt::print(stderr, "peer {} connected\n", pc->remote.to_string());
        } else if (auto* pd = std::get_if<peer_disconnected>(&e); pd && options_.verbose) {
            fmt::print(stderr, "peer {} disconnected: {}\n", pd->remote.to_string(), pd->reason);
        } else if (auto* b = std::get_if<peer_banned>(&e)) {
            fmt::print(stderr, "\nbanned {}: {}\n", b->remote.to_string(), b->reason);
        } else if (std::holds_alternative<download_complete>(e)) {
            completed_ = true;
            if (!options_.seed) {
                const double seconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
                draw(true);
                fmt::print(stderr, "complete: {} verified in {} ({})\n", format_bytes(meta_->total_size),
                           format_duration(seconds),
                           format_rate(static_cast<double>(meta_->total_size) / seconds));
                if (options_.seed_ratio > 0) {
                    fmt::print(stderr, "seeding until the ratio reaches {}\n", options_.seed_ratio);
                }
            }
        }
    }

    void tick() {
        if (finishing_) {
            return;
        }
        draw(false);
        tick_timer_->expires_after(std::chrono::seconds(1));
        tick_timer_->async_wait([this](const asio::error_code& ec) {
            if (!ec) {
                tick();
            }
        });
    }

    void draw(bool last) {
        const bool terminal = isatty(STDERR_FILENO) != 0;
        const auto now = std::chrono::steady_clock::now();
        if (!last && !terminal && now - last_line_ < std::chrono::seconds(1)) {
            return;
        }
        last_line_ = now;
        const torrent* t = session_->get(torrent_);
        if (t == nullptr) {
            return;
        }
        const auto stats = t->stats(runtime_now());
        std::string line;
        if (!t->has_metadata()) {
            line = fmt::format("metadata: waiting  peers {}", stats.peers);
        } else {
            const double total = static_cast<double>(t->meta().total_size);
            const double done = static_cast<double>(stats.verified_bytes);
            const std::string what = t->checking() ? "checking" : (t->complete() ? "seeding" : "");
            std::string eta = "--";
            if (!t->complete() && stats.download_rate > 0) {
                eta = format_duration((total - done) / stats.download_rate);
            }
            line = fmt::format("{:5.1f}% {} / {}  down {}  up {}  peers {}  ETA {} {}", 100 * done / total,
                               format_bytes(stats.verified_bytes), format_bytes(t->meta().total_size),
                               format_rate(stats.download_rate), format_rate(stats.upload_rate), stats.peers,
                               eta, what);
        }
        if (terminal) {
            fmt::print(stderr, "\r{}\x1b[K{}", line, last ? "\n" : "");
        } else {
            fmt::print(stderr, "{}\n", line);
        }
    }

    // Resume data saved, trackers told 'stopped' (the session's `stopped` event ends the loop).
    void finish() {
        if (finishing_) {
            return;
        }
        finishing_ = true;
        tick_timer_->cancel();
        if (interrupted_ != 0) {
            draw(true);
            fmt::print(stderr, "stopping ({})\n", interrupted_ == SIGINT ? "interrupted" : "terminated");
            if (exit_code_ == 0) {
                exit_code_ = options_.seed || completed_ ? 0 : exit_failure;
            }
        }
        session_->stop(runtime_now());
        runtime_->pump();
    }

    transfer_options options_;
    std::optional<metainfo> meta_;
    std::optional<magnet_link> magnet_;
    std::unique_ptr<host> host_;
    std::unique_ptr<session> session_;
    std::unique_ptr<host_runtime> runtime_;
    std::unique_ptr<session_runner> runner_;
    std::unique_ptr<asio::steady_timer> tick_timer_;
    torrent_id torrent_ = 0;
    std::chrono::steady_clock::time_point started_;
    std::chrono::steady_clock::time_point last_line_{};
    bool completed_ = false;
    bool finishing_ = false;
    int interrupted_ = 0;
    int exit_code_ = 0;
};

}  // namespace

int run_transfer(const transfer_options& options) {
    return transfer(options).run();
}

}  // namespace hyphae::cli
