#include "transfer.hpp"

#include <array>
#include <cmath>
#include <filesystem>
#include <random>
#include <tuple>

#include "commands.hpp"
#include "human_units.hpp"
#include <asio/signal_set.hpp>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyphae/node/node.hpp"
#include "hyphae/proto/bittorrent/magnet.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"
#include "hyphae/proto/bittorrent/resume_data.hpp"
#include "hyphae/runtime/atomic_file.hpp"
#include "hyphae/runtime/node_runtime.hpp"
#include "hyphae/runtime/socket_address.hpp"
#include "hyphae/runtime/torrent_file.hpp"

namespace hyphae::cli {
using namespace hyphae::bittorrent;
using namespace hyphae::tracker;
namespace {

constexpr std::uint16_t default_port = 6881;
// Where clients join the Mainline DHT when told nothing else.
constexpr std::array<std::string_view, 3> default_dht_routers = {
    "router.bittorrent.com:6881", "dht.transmissionbt.com:6881", "router.utorrent.com:6881"};
constexpr auto resume_save_interval = std::chrono::seconds(10);

std::string resume_path(const std::string& folder, const sha1_hash& info_hash) {
    return folder + "/.hyphae/" + info_hash.to_hex() + ".resume";
}

bool any_file_present(const metainfo& meta, const std::string& folder) {
    for (const file_entry& f : meta.files) {
        struct stat st {};
        if (!f.pad && ::stat((folder + "/" + f.path).c_str(), &st) == 0 && st.st_size > 0) {
            return true;
        }
    }
    return false;
}

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

        std::random_device entropy;  // the process edge: cores get seeded generators
        const std::uint64_t seed = (static_cast<std::uint64_t>(entropy()) << 32) | entropy();
        rng random(seed);
        node_config config;
        config.peer_id = make_peer_id(random);
        config.torrent.client_name = "Hyphae " HYPHAE_VERSION;
        config.torrent.connections_max = options_.connections_max;
        for (auto [text, limit, name] :
             {std::tuple{&options_.upload_limit, &config.torrent.upload_rate_max, "--upload-limit"},
              std::tuple{&options_.download_limit, &config.torrent.download_rate_max, "--download-limit"}}) {
            if (text->empty()) {
                continue;
            }
            const auto bytes = parse_size(*text);
            if (!bytes || *bytes <= 0) {
                fmt::print(stderr, "hyphae: {} '{}' is not a rate in bytes/s (e.g. 500K, 2M)\n", name, *text);
                return exit_usage;
            }
            *limit = *bytes;
        }
        std::vector<std::string> dht_names;
        if (options_.dht) {
            config.dht.emplace();
            const auto& names = options_.dht_bootstrap;
            for (const std::string& name : names) {
                if (auto ep = endpoint::parse(name)) {
                    config.dht->bootstrap.push_back(*ep);
                } else if (name.rfind(':') == std::string::npos) {
                    fmt::print(stderr, "hyphae: --dht-bootstrap '{}' is not HOST:PORT\n", name);
                    return exit_usage;
                } else {
                    dht_names.push_back(name);
                }
            }
            if (names.empty()) {
                dht_names.assign(default_dht_routers.begin(), default_dht_routers.end());
            }
        }
        node_ = std::make_unique<node>(config, random(), runtime_now());

        runtime_config rc;
        rc.bind_address = options_.bind;
        rc.listen_port = options_.port < 0 ? default_port : static_cast<std::uint16_t>(options_.port);
        rc.disk_threads = options_.disk_threads;
        runtime_ = std::make_unique<node_runtime>(*node_, rc);
        auto port = runtime_->listen();
        if (!port && options_.port < 0) {
            // The default port is taken (another client): any free one will do.
            runtime_ =
                std::make_unique<node_runtime>(*node_, runtime_config{rc.bind_address, 0, rc.disk_threads});
            port = runtime_->listen();
        }
        if (!port) {
            return report(port.error());
        }
        fmt::print(stderr, "listening on {}:{}\n", options_.bind, *port);
        if (!runtime_->dht_error().empty()) {
            fmt::print(stderr, "warning: {}; going on without the DHT\n", runtime_->dht_error());
        }
        resolve_dht_routers(dht_names);
        runtime_->on_event = [this](const node_event& e) {
            on_event(e);
        };

        add_torrent_params params;
        params.peers = peers;
        if (meta_) {
            if (auto r = open_storage(); r != 0) {
                return r;
            }
            params.meta = meta_;
            params.have = resumed_;
            params.check = check_;
        } else {
            params.magnet = magnet_;
            fmt::print(stderr, "fetching the metadata of {} from peers\n", magnet_->info_hash.to_hex());
        }
        handle_ = node_->add_torrent(runtime_now(), std::move(params));
        if (meta_) {
            runtime_->attach_storage(handle_, std::move(storage_));
        }
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
    // Names are resolved in the background: a slow or absent DNS must not hold the download up.
    void resolve_dht_routers(const std::vector<std::string>& names) {
        if (names.empty()) {
            return;
        }
        resolver_ = std::make_unique<asio::ip::udp::resolver>(runtime_->context());
        for (const std::string& name : names) {
            const auto colon = name.rfind(':');
            resolver_->async_resolve(asio::ip::udp::v4(), name.substr(0, colon), name.substr(colon + 1),
                                     [this, name](const asio::error_code& ec,
                                                  const asio::ip::udp::resolver::results_type& results) {
                                         if (ec || results.empty()) {
                                             if (options_.verbose) {
                                                 fmt::print(stderr, "\rdht: cannot resolve {}: {}\x1b[K\n",
                                                            name, ec ? ec.message() : "no address");
                                             }
                                             return;
                                         }
                                         node_->add_dht_bootstrap(runtime_now(),
                                                                  from_asio(results.begin()->endpoint()));
                                         runtime_->pump();
                                     });
        }
    }

    int open_storage() {
        const bool existing = any_file_present(*meta_, options_.folder);
        if (options_.seed && !existing) {
            return report(
                error{errc::io, options_.folder + "/" + meta_->name,
                      "no data here to seed (--data is the folder that holds " + meta_->name + ")"});
        }
        auto resume_bytes = read_whole_file(resume_path(options_.folder, meta_->info_hash), 16u << 20);
        if (resume_bytes && !options_.seed) {
            auto r = parse_resume_data(as_bytes(*resume_bytes), meta_->info_hash, meta_->piece_count());
            if (r) {
                resumed_ = r->pieces;
                fmt::print(stderr, "resuming: {} of {} pieces already verified\n", r->pieces.count(),
                           meta_->piece_count());
            } else {
                fmt::print(stderr, "warning: ignoring resume data: {}\n", r.error().message());
            }
        }
        // Pieces resume data does not vouch for are hashed, not trusted: after a crash that keeps what
        // reached the disk without ever marking unverified data complete.
        check_ = options_.seed || existing;
        auto storage = file_storage::open(*meta_, options_.folder, !options_.seed);
        if (!storage) {
            return report(storage.error());
        }
        storage_ = std::move(*storage);
        if (check_) {
            fmt::print(stderr, "checking {} pieces on disk\n", meta_->piece_count());
        }
        return 0;
    }

    void on_event(const node_event& e) {
        if (const auto* t = std::get_if<torrent_event>(&e.what)) {
            on_torrent_event(*t);
        } else if (const auto* d = std::get_if<dht_announce_done>(&e.what)) {
            if (options_.verbose) {
                fmt::print(stderr, "\rdht: {} peers, announced to {} nodes in {} ms\x1b[K\n", d->peers,
                           d->stored,
                           std::chrono::duration_cast<std::chrono::milliseconds>(d->elapsed).count());
            }
        } else {
            on_tracker_event(std::get<tracker_event>(e.what));
        }
    }

    void on_tracker_event(const tracker_event& e) {
        if (const auto* failed = std::get_if<announce_failed>(&e)) {
            fmt::print(stderr, "\rtracker {}: {}\x1b[K\n", failed->url, failed->reason);
        } else if (const auto* ok = std::get_if<announce_succeeded>(&e)) {
            if (options_.verbose) {
                fmt::print(stderr, "\rtracker {}: announced, next in {} s\x1b[K\n", ok->url,
                           std::chrono::duration_cast<std::chrono::seconds>(ok->interval).count());
            }
            if (!ok->warning.empty()) {
                fmt::print(stderr, "\rtracker {} warns: {}\x1b[K\n", ok->url, ok->warning);
            }
        } else if (const auto* found = std::get_if<peers_found>(&e); found && options_.verbose) {
            fmt::print(stderr, "\rtracker {}: {} peers\x1b[K\n", found->url, found->peers.size());
        }
    }

    void on_torrent_event(const torrent_event& t) {
        using namespace torrent_events;
        const auto& e = t;
        if (std::holds_alternative<metadata_received>(e)) {
            meta_ = node_->get(handle_).meta();
            fmt::print(stderr, "metadata received: {} ({}, {} files)\n", meta_->name,
                       format_bytes(meta_->total_size), meta_->files.size());
            auto storage = file_storage::open(*meta_, options_.folder, true);
            if (!storage) {
                exit_code_ = report(storage.error());
                runtime_->stop();
                return;
            }
            runtime_->attach_storage(handle_, std::move(*storage));
        } else if (std::holds_alternative<piece_verified>(e)) {
            resume_dirty_ = true;
        } else if (auto* c = std::get_if<checking_done>(&e)) {
            fmt::print(stderr, "\rchecked: {} of {} pieces are good\x1b[K\n", c->pieces_have,
                       meta_->piece_count());
            resume_dirty_ = true;
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
                save_resume();
                if (options_.seed_ratio <= 0) {
                    finish();
                } else {
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
        const auto now = std::chrono::steady_clock::now();
        if (resume_dirty_ && now - last_resume_save_ >= resume_save_interval) {
            save_resume_in_background();
        }
        if (completed_ && options_.seed_ratio > 0 && meta_) {
            const auto stats = node_->get(handle_).stats(runtime_now());
            if (static_cast<double>(stats.uploaded) >=
                options_.seed_ratio * static_cast<double>(meta_->total_size)) {
                finish();
                return;
            }
        }
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
        const torrent& t = node_->get(handle_);
        const auto stats = t.stats(runtime_now());
        std::string line;
        if (!t.has_metadata()) {
            line = fmt::format("metadata: waiting  peers {}", stats.peers);
        } else {
            const double total = static_cast<double>(t.meta().total_size);
            const double done = static_cast<double>(stats.verified_bytes);
            const std::string what = t.checking() ? "checking" : (t.complete() ? "seeding" : "");
            std::string eta = "--";
            if (!t.complete() && stats.download_rate > 0) {
                eta = format_duration((total - done) / stats.download_rate);
            }
            line = fmt::format("{:5.1f}% {} / {}  down {}  up {}  peers {}  ETA {} {}", 100 * done / total,
                               format_bytes(stats.verified_bytes), format_bytes(t.meta().total_size),
                               format_rate(stats.download_rate), format_rate(stats.upload_rate), stats.peers,
                               eta, what);
        }
        if (terminal) {
            fmt::print(stderr, "\r{}\x1b[K{}", line, last ? "\n" : "");
        } else {
            fmt::print(stderr, "{}\n", line);
        }
    }

    resume_data snapshot() const {
        const torrent& t = node_->get(handle_);
        const auto stats = t.stats(runtime_now());
        return resume_data{meta_->info_hash, t.have(), stats.uploaded, stats.downloaded};
    }

    // Pieces are listed only after their data is synced: after a crash, resume data never claims
    // a piece that is not on disk.
    void save_resume_in_background() {
        if (!meta_ || node_->get(handle_).checking() || saving_) {
            return;
        }
        saving_ = true;
        resume_dirty_ = false;
        last_resume_save_ = std::chrono::steady_clock::now();
        auto data = std::make_shared<resume_data>(snapshot());
        file_storage* storage = runtime_->storage(handle_);
        const std::string path = resume_path(options_.folder, meta_->info_hash);
        runtime_->run_on_disk(
            [storage, data, path] {
                if (storage != nullptr && storage->sync()) {
                    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
                    (void)write_file_atomically(path, encode_resume_data(*data), overwrite::allow);
                }
            },
            [this] { saving_ = false; });
    }

    void save_resume() {
        if (!meta_ || node_->get(handle_).checking()) {
            return;
        }
        file_storage* storage = runtime_->storage(handle_);
        if (storage == nullptr || !storage->sync()) {
            return;
        }
        const std::string path = resume_path(options_.folder, meta_->info_hash);
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
        if (auto w = write_file_atomically(path, encode_resume_data(snapshot()), overwrite::allow); !w) {
            fmt::print(stderr, "warning: cannot save resume data: {}\n", w.error().message());
        }
    }

    void finish() {
        if (finishing_) {
            return;
        }
        finishing_ = true;
        if (interrupted_ != 0) {
            draw(true);
            fmt::print(stderr, "stopping ({})\n", interrupted_ == SIGINT ? "interrupted" : "terminated");
            exit_code_ = options_.seed || completed_ ? 0 : exit_failure;
        }
        save_resume();
        // Tell the trackers we are gone, waiting a moment for them, then leave.
        node_->stop_torrent(runtime_now(), handle_);
        runtime_->pump();
        wait_for_trackers(std::chrono::steady_clock::now() + std::chrono::seconds(3));
    }

    void wait_for_trackers(std::chrono::steady_clock::time_point deadline) {
        if (node_->trackers_idle() || std::chrono::steady_clock::now() >= deadline) {
            runtime_->stop();
            return;
        }
        tick_timer_->expires_after(std::chrono::milliseconds(20));
        tick_timer_->async_wait([this, deadline](const asio::error_code& ec) {
            if (ec != asio::error::operation_aborted) {
                wait_for_trackers(deadline);
            }
        });
    }

    transfer_options options_;
    std::optional<metainfo> meta_;
    std::optional<magnet_link> magnet_;
    std::optional<bitfield> resumed_;
    bool check_ = false;
    std::unique_ptr<file_storage> storage_;
    std::unique_ptr<node> node_;
    std::unique_ptr<node_runtime> runtime_;
    std::unique_ptr<asio::steady_timer> tick_timer_;
    std::unique_ptr<asio::ip::udp::resolver> resolver_;
    torrent_handle handle_ = 0;
    std::chrono::steady_clock::time_point started_;
    std::chrono::steady_clock::time_point last_line_{};
    std::chrono::steady_clock::time_point last_resume_save_{};
    bool resume_dirty_ = false;
    bool saving_ = false;
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
