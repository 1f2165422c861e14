#include "demo_network.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "human_units.hpp"
#include <fmt/format.h>
#include <unistd.h>

#include "hyphae/host/host.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"
#include "hyphae/runtime/host_runtime.hpp"
#include "hyphae/runtime/runtime_clock.hpp"
#include "hyphae/runtime/session_runner.hpp"
#include "hyphae/runtime/torrent_file.hpp"
#include "hyphae/session/session.hpp"

namespace hyphae::cli {
using namespace hyphae::bittorrent;
namespace {

// One node of the demo, a session under its own runtime on its own thread: only that thread
// touches it; the display reads atomics.
struct demo_peer {
    std::string name;
    std::unique_ptr<host> h;
    std::unique_ptr<session> s;
    std::unique_ptr<host_runtime> runtime;
    std::unique_ptr<session_runner> runner;
    std::unique_ptr<asio::steady_timer> stats_timer;
    torrent_id handle = 0;
    std::uint16_t port = 0;
    std::atomic<std::int64_t> verified{0};
    std::atomic<std::int64_t> uploaded{0};
    std::atomic<double> download_rate{0};
    std::atomic<std::size_t> peers{0};
    std::atomic<std::size_t> dht_peers{0};  // the most one DHT lookup found
    std::atomic<bool> complete{false};
    std::atomic<bool> checked{false};
    std::atomic<bool> failed{false};
    std::atomic<bool> stopped{false};
    std::thread thread;

    void publish() {
        if (const torrent* t = s->get(handle)) {
            const auto stats = t->stats(runtime_now());
            verified = stats.verified_bytes;
            uploaded = stats.uploaded;
            download_rate = stats.download_rate;
            peers = stats.peers;
        }
    }
    void tick() {
        publish();
        stats_timer->expires_after(std::chrono::milliseconds(200));
        stats_timer->async_wait([this](const asio::error_code& ec) {
            if (!ec) {
                tick();
            }
        });
    }
    void on_event(const session_event& e) {
        if (const auto* d = std::get_if<session_events::dht_announced>(&e.what)) {
            dht_peers = std::max(dht_peers.load(), d->peers);
        } else if (const auto* t = std::get_if<torrent_event>(&e.what)) {
            if (std::holds_alternative<torrent_events::checking_done>(*t)) {
                checked = true;
            } else if (std::holds_alternative<torrent_events::download_complete>(*t)) {
                complete = true;
            } else if (std::holds_alternative<torrent_events::disk_error>(*t)) {
                failed = true;
            }
        } else if (std::holds_alternative<session_events::storage_failed>(e.what)) {
            failed = true;
        } else if (std::holds_alternative<session_events::stopped>(e.what)) {
            stats_timer->cancel();
            runtime->stop();
        }
    }
};

}  // namespace

result<demo_network_summary> run_demo_network(const demo_network_options& options) {
    auto meta = load_torrent_file(options.torrent);
    if (!meta) {
        return tl::unexpected(meta.error());
    }
    rng random(static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::vector<std::unique_ptr<demo_peer>> peers;
    for (int i = 0; i <= options.leechers; ++i) {
        auto p = std::make_unique<demo_peer>();
        p->name = i == 0 ? "seeder" : fmt::format("leecher {}", i);
        session_settings settings;
        settings.bittorrent.torrent.client_name = "Hyphae demo";
        settings.trackers.user_agent = "Hyphae demo";
        if (i == 0) {
            settings.bittorrent.torrent.upload_rate_max = options.seed_upload_rate;
        }
        if (options.dht) {
            settings.dht.emplace();
            // Leechers that start together find nobody in the DHT at first: a loopback swarm done
            // in seconds asks again within one, not the five a real node waits.
            settings.dht_retry_min = std::chrono::milliseconds(500);
            if (i > 0) {
                settings.dht->bootstrap = {endpoint{ip_address::v4(0x7f000001), peers[0]->port}};
            }
        }
        p->h = std::make_unique<host>();
        p->s = std::make_unique<session>(*p->h, settings, random(), runtime_now());
        runtime_config rc;
        rc.bind_address = "127.0.0.1";
        rc.tcp_port = 0;
        rc.udp = options.dht ? runtime_config::udp_mode::same_as_tcp : runtime_config::udp_mode::off;
        p->runtime = std::make_unique<host_runtime>(*p->h, rc);
        p->runner = std::make_unique<session_runner>(*p->s, *p->runtime);
        if (auto opened = p->runtime->open(); !opened) {
            return tl::unexpected(opened.error());
        }
        p->port = p->runtime->tcp_endpoint()->port;
        p->s->set_listen_port(runtime_now(), p->port);
        p->stats_timer = std::make_unique<asio::steady_timer>(p->runtime->context());
        demo_peer* raw = p.get();
        p->runner->on_event = [raw](const session_event& e) {
            raw->on_event(e);
        };
        peers.push_back(std::move(p));
    }
    // Through trackers, or else everyone knows the seeder and every other leecher, as --peer would
    // tell them.
    for (std::size_t i = 0; i < peers.size(); ++i) {
        demo_peer& p = *peers[i];
        const bool seeder = i == 0;
        add_torrent_params params;
        params.meta = *meta;
        params.folder = seeder ? options.seed_folder : fmt::format("{}/leecher-{}", options.work_folder, i);
        params.seed_only = seeder;
        params.data_on_disk = seeder;
        params.use_trackers = options.through_trackers;
        params.policy.when = stop_policy::kind::never;  // the demo stops them all at the end
        for (std::size_t j = 0; j < peers.size() && !options.through_trackers && !seeder; ++j) {
            if (j != i) {
                params.peers.push_back(endpoint{ip_address::v4(0x7f000001), peers[j]->port});
            }
        }
        auto added = p.s->add_torrent(runtime_now(), std::move(params));
        if (!added) {
            return tl::unexpected(added.error());
        }
        p.handle = *added;
    }
    const auto launch = [](demo_peer* raw) {
        raw->thread = std::thread([raw] {
            raw->tick();
            raw->runtime->run();
        });
    };
    // The leechers start once the seeder has verified its data.
    launch(peers[0].get());
    while (!peers[0]->checked && !peers[0]->failed) {
        std::this_thread::sleep_for(
            std::chrono::milliseconds(10));  // polling an atomic the seeder's thread sets
    }
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 1; i < peers.size(); ++i) {
        launch(peers[i].get());
    }

    const bool terminal = isatty(STDOUT_FILENO) != 0;
    const auto all_done = [&] {
        for (std::size_t i = 1; i < peers.size(); ++i) {
            if (!peers[i]->complete && !peers[i]->failed) {
                return false;
            }
        }
        return true;
    };
    auto last_plain = start;
    std::size_t lines_drawn = 0;
    while (true) {
        const bool done = all_done();
        const auto now = std::chrono::steady_clock::now();
        if (terminal || done || now - last_plain >= std::chrono::seconds(1)) {
            last_plain = now;
            if (terminal && lines_drawn > 0) {
                fmt::print("\x1b[{}A", lines_drawn);  // redraw the table in place
            }
            lines_drawn = 0;
            for (std::size_t i = 1; i < peers.size(); ++i) {
                const demo_peer& p = *peers[i];
                const double fraction =
                    static_cast<double>(p.verified) / static_cast<double>(meta->total_size);
                const int filled = static_cast<int>(fraction * 20);
                fmt::print("  {:<10} [{}{}] {:5.1f}%  down {:>12}  up {:>10}  peers {}\x1b[K\n", p.name,
                           std::string(static_cast<std::size_t>(filled), '#'),
                           std::string(static_cast<std::size_t>(20 - filled), '.'), 100 * fraction,
                           format_rate(p.download_rate), format_bytes(p.uploaded), p.peers.load());
                ++lines_drawn;
            }
            if (!terminal) {
                lines_drawn = 0;
            }
        }
        if (done) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // display refresh, not a wait on work
    }
    demo_network_summary summary;
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (options.all_complete) {
        options.all_complete();
    }
    summary.size = meta->total_size;
    summary.all_verified = true;
    // Each session stops itself (its trackers told) and then ends its loop.
    for (auto& p : peers) {
        asio::post(p->runtime->context(), [raw = p.get()] {
            raw->publish();
            raw->s->stop(runtime_now());
            raw->runtime->pump();
        });
    }
    for (std::size_t i = 0; i < peers.size(); ++i) {
        peers[i]->thread.join();
        if (i == 0) {
            summary.seed_uploaded = peers[i]->uploaded;
        } else {
            summary.leechers_uploaded += peers[i]->uploaded;
            summary.dht_peers += peers[i]->dht_peers;
            summary.all_verified = summary.all_verified && peers[i]->complete && !peers[i]->failed;
        }
    }
    return summary;
}

}  // namespace hyphae::cli
