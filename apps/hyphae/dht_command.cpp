// hyphae dht: run a Mainline DHT node, or do one thing with one (lookup, announce, put, get) and
// exit.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>

#include "commands.hpp"
#include <asio/signal_set.hpp>
#include <fmt/format.h>

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/ed25519.hpp"
#include "hyphae/core/encoding.hpp"
#include "hyphae/host/host.hpp"
#include "hyphae/proto/dht/dht_node.hpp"
#include "hyphae/proto/dht/item.hpp"
#include "hyphae/runtime/atomic_file.hpp"
#include "hyphae/runtime/host_runtime.hpp"
#include "hyphae/runtime/runtime_clock.hpp"

namespace hyphae::cli {
namespace {

constexpr std::size_t state_size_max = 1u << 20;
constexpr std::size_t contacts_max = 4096;

struct dht_options {
    std::uint16_t port = 0;
    std::vector<std::string> bootstrap;
    std::string bind = "0.0.0.0";
    std::string state_file;
    unsigned timeout = 60;          // one-shot commands
    unsigned status_interval = 60;  // dht run
    bool verbose = false;
};

std::uint64_t os_seed() {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

result<std::vector<endpoint>> resolve_bootstrap(asio::io_context& io, const std::vector<std::string>& names) {
    std::vector<endpoint> out;
    asio::ip::udp::resolver resolver(io);
    for (const auto& name : names) {
        if (auto ep = endpoint::parse(name)) {
            out.push_back(*ep);
            continue;
        }
        const auto colon = name.rfind(':');
        if (colon == std::string::npos || colon == 0) {
            return fail(errc::invalid_argument, "--bootstrap " + name, "expected HOST:PORT");
        }
        asio::error_code ec;
        auto results =
            resolver.resolve(asio::ip::udp::v4(), name.substr(0, colon), name.substr(colon + 1), ec);
        if (ec || results.empty()) {
            return fail(errc::invalid_argument, "--bootstrap " + name,
                        ec ? ec.message() : std::string("no IPv4 address"));
        }
        const auto& first = results.begin()->endpoint();
        out.push_back(endpoint{*ip_address::parse(first.address().to_string()), first.port()});
    }
    return out;
}

// The saved state: our id and the routing table's contacts (routing_table::save's format).
struct saved_state {
    std::optional<dht::node_id> id;
    std::vector<dht::node_contact> contacts;
};

result<saved_state> load_state(const std::string& path) {
    saved_state state;
    if (path.empty() || !std::filesystem::exists(path)) {
        return state;
    }
    auto bytes = read_whole_file(path, state_size_max);
    if (!bytes) {
        return tl::unexpected(bytes.error());
    }
    auto table = dht::routing_table::parse_saved(as_bytes(*bytes), contacts_max);
    if (!table) {
        return fail(table.error().code, path + ": " + table.error().where, table.error().what);
    }
    state.id = table->id;
    state.contacts = std::move(table->nodes);
    return state;
}

// One node: a host with the DHT service on the one runtime, its signals and its state file.
class dht_session final : public host_owner {
public:
    explicit dht_session(const dht_options& options) : options_(options) {}

    // `one_shot`: a command that must ask other nodes, so it needs someone to ask.
    result<void> start(bool one_shot = true) {
        auto state = load_state(options_.state_file);
        if (!state) {
            return tl::unexpected(state.error());
        }
        runtime_config rc;
        rc.bind_address = options_.bind;
        rc.udp = runtime_config::udp_mode::port;
        rc.udp_port = options_.port;
        rc.udp_socket_buffer_bytes = 1 << 20;
        runtime_ = std::make_unique<host_runtime>(host_, rc, this);
        auto bootstrap = resolve_bootstrap(runtime_->context(), options_.bootstrap);
        if (!bootstrap) {
            return tl::unexpected(bootstrap.error());
        }
        if (one_shot && bootstrap->empty() && state->contacts.empty()) {
            return fail(errc::invalid_argument, "dht",
                        "nobody to ask: give --bootstrap HOST:PORT, or --state with a saved routing table");
        }
        dht::dht_config config;
        config.id = state->id;
        config.bootstrap = *bootstrap;
        const time_point now = runtime_now();
        dht_ = host_.add(now, std::make_unique<dht::dht_node>(config, os_seed(), now));
        call([&](dht::dht_node& n, time_point at) { n.add_contacts(at, state->contacts); });
        if (auto opened = runtime_->open(); !opened) {
            return tl::unexpected(opened.error());
        }
        signals_ = std::make_unique<asio::signal_set>(runtime_->context(), SIGINT, SIGTERM);
        signals_->async_wait([this](const asio::error_code& ec, int) {
            if (!ec) {
                interrupted_ = true;
                runtime_->stop();
            }
        });
        return {};
    }

    // Runs a command on the node and carries out what it asks for.
    template <class F>
    auto call(F&& command) -> std::invoke_result_t<F, dht::dht_node&, time_point> {
        const time_point now = runtime_now();
        auto run = [&] {
            return host_.call<dht::dht_node>(now, dht_, [&](dht::dht_node& n) { return command(n, now); });
        };
        if constexpr (std::is_void_v<decltype(run())>) {
            run();
            if (runtime_) {
                runtime_->pump();
            }
        } else {
            auto out = run();
            if (runtime_) {
                runtime_->pump();
            }
            return out;
        }
    }

    const dht::dht_node& node() { return host_.get<dht::dht_node>(dht_); }
    host_runtime& runtime() { return *runtime_; }
    bool interrupted() const { return interrupted_; }
    std::function<void(const dht::dht_event&)> on_event;

    void on_ready(time_point, service_id id) override {
        auto& n = host_.get<dht::dht_node>(id);
        while (auto e = n.poll_event()) {
            if (on_event) {
                on_event(*e);
            }
        }
    }

    // Runs the loop until stop(), a signal, or `limit`; false on the deadline.
    bool run_for(std::chrono::seconds limit) {
        asio::steady_timer deadline(runtime_->context());
        bool expired = false;
        if (limit.count() > 0) {
            deadline.expires_after(limit);
            deadline.async_wait([&](const asio::error_code& ec) {
                if (!ec) {
                    expired = true;
                    runtime_->stop();
                }
            });
        }
        runtime_->run();
        deadline.cancel();
        return !expired;
    }

    result<void> save() {
        if (options_.state_file.empty() || dht_ == 0) {
            return {};
        }
        return write_file_atomically(options_.state_file, node().save_table(), overwrite::allow);
    }

private:
    dht_options options_;
    host host_;
    service_id dht_ = 0;
    std::unique_ptr<host_runtime> runtime_;
    std::unique_ptr<asio::signal_set> signals_;
    bool interrupted_ = false;
};

void add_common(CLI::App& app, dht_options& o, bool one_shot) {
    app.add_option("--port", o.port, "UDP port of this node (0: any free port)")->capture_default_str();
    app.add_option("--bootstrap", o.bootstrap, "HOST:PORT of a node to join through (repeatable)");
    app.add_option("--bind", o.bind, "address to bind")->capture_default_str();
    app.add_option("--state", o.state_file, "file keeping the node id and routing table across runs");
    if (one_shot) {
        app.add_option("--timeout", o.timeout, "give up after this many seconds")->capture_default_str();
    }
    app.add_flag("-v,--verbose", o.verbose, "report each step on stderr");
}

void print_summary(const dht::lookup_done& d, std::string_view what) {
    fmt::print(stderr, "{}: {} nodes queried, {} answered, {} timed out, {} hops, {} ms\n", what,
               d.stats.queries, d.stats.responses, d.stats.timeouts, d.stats.hops,
               std::chrono::duration_cast<std::chrono::milliseconds>(d.stats.elapsed).count());
}

// Runs one lookup-shaped operation to its lookup_done; `start` begins it, `on_event` sees every
// event, the result is the done event or an error.
result<dht::lookup_done> run_one(dht_session& session, const dht_options& options,
                                 const std::function<dht::lookup_id(dht::dht_node&, time_point)>& start,
                                 const std::function<void(const dht::dht_event&, dht::lookup_id)>& on_event) {
    std::optional<dht::lookup_done> done;
    dht::lookup_id id = 0;
    session.on_event = [&](const dht::dht_event& e) {
        if (on_event) {
            on_event(e, id);
        }
        if (const auto* d = std::get_if<dht::lookup_done>(&e); d && d->id == id) {
            done = *d;
            session.runtime().stop();
        }
    };
    id = session.call(start);
    if (id == 0) {
        return fail(errc::limit_exceeded, "dht", "too many lookups running");
    }
    const bool in_time = session.run_for(std::chrono::seconds(options.timeout));
    (void)session.save();
    if (session.interrupted()) {
        return fail(errc::io, "dht", "interrupted");
    }
    if (!in_time || !done) {
        return fail(errc::io, "dht", fmt::format("no answer within {} s", options.timeout));
    }
    return *done;
}

// A bencoded string prints as its text; any other value as its bencoding.
std::string printable(const std::string& bencoded) {
    auto doc = bdecode(as_bytes(bencoded));
    if (doc) {
        if (auto text = doc->root().as_string()) {
            return std::string(*text);
        }
    }
    return bencoded;
}

std::string bencoded_string(const std::string& text) {
    return std::to_string(text.size()) + ":" + text;
}

result<ed25519::secret_key> load_or_make_key(const std::string& path) {
    if (!std::filesystem::exists(path)) {
        ed25519::secret_key key;
        std::random_device device;
        for (auto& b : key.seed) {
            b = static_cast<std::uint8_t>(device());
        }
        auto written = write_file_atomically(path, to_hex(byte_view(key.seed.data(), key.seed.size())) + "\n",
                                             overwrite::refuse);
        if (!written) {
            return tl::unexpected(written.error());
        }
        std::filesystem::permissions(
            path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
        fmt::print(stderr, "dht: made a new key in {}\n", path);
        return key;
    }
    auto text = read_whole_file(path, 4096);
    if (!text) {
        return tl::unexpected(text.error());
    }
    std::string hex = *text;
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) {
        hex.pop_back();
    }
    auto raw = from_hex(hex);
    auto key = raw ? ed25519::secret_key::from_bytes(*raw) : std::nullopt;
    if (!key) {
        return fail(errc::invalid_input, path, "expected 64 hex digits (a 32-byte Ed25519 seed)");
    }
    return *key;
}

int run_node(const dht_options& options) {
    dht_session session(options);
    if (auto started = session.start(false); !started) {
        return report(started.error());
    }
    const endpoint local = *session.runtime().udp_endpoint();
    fmt::print("dht: node id {}\n", session.node().id().to_hex());
    fmt::print("dht: listening on {}\n", local.to_string());
    std::fflush(stdout);
    if (!options.bootstrap.empty() || session.node().table().size() > 0) {
        session.call([](dht::dht_node& n, time_point now) { n.bootstrap(now); });
    }
    session.on_event = [&](const dht::dht_event& e) {
        if (const auto* d = std::get_if<dht::lookup_done>(&e); d && d->kind == dht::lookup_kind::bootstrap) {
            fmt::print("dht: bootstrapped, {} nodes in the table\n", session.node().table().size());
            std::fflush(stdout);
        }
        if (const auto* a = std::get_if<dht::external_address>(&e)) {
            fmt::print("dht: others see us at {}\n", a->address.to_string());
            std::fflush(stdout);
        }
    };
    asio::steady_timer status(session.runtime().context());
    std::function<void()> report_status = [&] {
        status.expires_after(std::chrono::seconds(std::max(1u, options.status_interval)));
        status.async_wait([&](const asio::error_code& ec) {
            if (ec) {
                return;
            }
            const auto& s = session.node().stats();
            fmt::print("dht: {} nodes, {} torrents, {} peers, {} items stored; in {} out {} datagrams\n",
                       session.node().table().size(), session.node().peers().torrent_count(),
                       session.node().peers().peer_count(), session.node().items().size(), s.datagrams_in,
                       s.datagrams_out);
            std::fflush(stdout);
            if (auto saved = session.save(); !saved) {
                report(saved.error());
            }
            report_status();
        });
    };
    report_status();
    session.run_for(std::chrono::seconds(0));
    if (auto saved = session.save(); !saved) {
        return report(saved.error());
    }
    fmt::print("dht: stopped\n");
    return 0;
}

}  // namespace

command add_dht_command(CLI::App& parent) {
    auto* dht = parent.add_subcommand(
        "dht", "Run a Mainline DHT node, or look up, announce, put and get through one");
    dht->require_subcommand(1);
    auto options = std::make_shared<dht_options>();
    auto run_command = std::make_shared<std::function<int()>>();

    auto* run = dht->add_subcommand("run", "Run a DHT node until interrupted");
    add_common(*run, *options, false);
    run->add_option("--status-interval", options->status_interval, "seconds between status lines")
        ->capture_default_str();
    run->callback([options, run_command] {
        *run_command = [options] {
            return run_node(*options);
        };
    });

    auto* lookup = dht->add_subcommand("lookup", "Find peers of an info-hash; prints HOST:PORT a line");
    auto info_hash = std::make_shared<std::string>();
    lookup->add_option("INFOHASH", *info_hash, "40 hex digits")->required();
    add_common(*lookup, *options, true);
    lookup->callback([options, info_hash, run_command] {
        *run_command = [options, info_hash] {
            auto ih = id160::from_hex(*info_hash);
            if (!ih) {
                fmt::print(stderr, "hyphae: dht lookup: '{}' is not a 40-digit hex info-hash\n", *info_hash);
                return exit_usage;
            }
            dht_session session(*options);
            if (auto started = session.start(); !started) {
                return report(started.error());
            }
            auto done = run_one(
                session, *options, [&](dht::dht_node& n, time_point now) { return n.get_peers(now, *ih); },
                [](const dht::dht_event& e, dht::lookup_id) {
                    if (const auto* p = std::get_if<dht::peers_found>(&e)) {
                        for (const auto& peer : p->peers) {
                            fmt::print("{}\n", peer.to_string());
                        }
                        std::fflush(stdout);
                    }
                });
            if (!done) {
                return report(done.error());
            }
            fmt::print(stderr, "lookup: {} peers\n", done->peers);
            print_summary(*done, "lookup");
            return 0;
        };
    });

    auto* announce = dht->add_subcommand("announce", "Announce a peer of an info-hash and exit");
    auto announce_hash = std::make_shared<std::string>();
    auto peer_port = std::make_shared<std::uint16_t>(0);
    announce->add_option("INFOHASH", *announce_hash, "40 hex digits")->required();
    announce->add_option("--peer-port", *peer_port, "port to announce (default: this node's own)");
    add_common(*announce, *options, true);
    announce->callback([options, announce_hash, peer_port, run_command] {
        *run_command = [options, announce_hash, peer_port] {
            auto ih = id160::from_hex(*announce_hash);
            if (!ih) {
                fmt::print(stderr, "hyphae: dht announce: '{}' is not a 40-digit hex info-hash\n",
                           *announce_hash);
                return exit_usage;
            }
            dht_session session(*options);
            if (auto started = session.start(); !started) {
                return report(started.error());
            }
            auto done = run_one(
                session, *options,
                [&](dht::dht_node& n, time_point now) { return n.announce(now, *ih, *peer_port); }, nullptr);
            if (!done) {
                return report(done.error());
            }
            print_summary(*done, "announce");
            if (done->stored == 0) {
                return report(error{errc::io, "dht announce", "no node took the announce"});
            }
            fmt::print(stderr, "announce: stored at {} nodes\n", done->stored);
            return 0;
        };
    });

    auto* put = dht->add_subcommand("put", "Store a value (BEP 44) and print its target");
    auto value = std::make_shared<std::string>();
    auto key_file = std::make_shared<std::string>();
    auto salt = std::make_shared<std::string>();
    put->add_option("VALUE", *value, "the text to store (as a bencoded string)")->required();
    put->add_option("--key", *key_file, "Ed25519 key file (64 hex digits; made if missing): a mutable item");
    put->add_option("--salt", *salt, "salt of a mutable item");
    add_common(*put, *options, true);
    put->callback([options, value, key_file, salt, run_command] {
        *run_command = [options, value, key_file, salt] {
            const std::string v = bencoded_string(*value);
            if (v.size() > dht::item_value_size_max) {
                fmt::print(stderr, "hyphae: dht put: the value is {} bytes bencoded; BEP 44 allows {}\n",
                           v.size(), dht::item_value_size_max);
                return exit_usage;
            }
            if (key_file->empty() && !salt->empty()) {
                fmt::print(stderr, "hyphae: dht put: --salt needs --key (only mutable items have a salt)\n");
                return exit_usage;
            }
            std::optional<ed25519::secret_key> secret;
            if (!key_file->empty()) {
                auto key = load_or_make_key(*key_file);
                if (!key) {
                    return report(key.error());
                }
                secret = *key;
            }
            dht_session session(*options);
            if (auto started = session.start(); !started) {
                return report(started.error());
            }
            auto done = run_one(
                session, *options,
                [&](dht::dht_node& n, time_point now) {
                    return secret ? n.put_mutable(now, *secret, *salt, v) : n.put_immutable(now, v);
                },
                nullptr);
            if (!done) {
                return report(done.error());
            }
            print_summary(*done, "put");
            if (done->stored == 0) {
                return report(error{errc::io, "dht put", "no node took the item"});
            }
            const auto target = secret ? dht::mutable_target(ed25519::public_key_of(*secret), as_bytes(*salt))
                                       : dht::immutable_target(as_bytes(v));
            fmt::print("{}\n", target.to_hex());
            if (secret) {
                fmt::print(stderr, "put: public key {}, seq {}, stored at {} nodes\n",
                           ed25519::public_key_of(*secret).to_hex(), done->seq.value_or(0), done->stored);
            } else {
                fmt::print(stderr, "put: stored at {} nodes\n", done->stored);
            }
            return 0;
        };
    });

    auto* get = dht->add_subcommand("get", "Fetch a value (BEP 44) and print it");
    auto target = std::make_shared<std::string>();
    auto pubkey = std::make_shared<std::string>();
    auto get_salt = std::make_shared<std::string>();
    get->add_option("TARGET", *target, "40 hex digits: an immutable item's target");
    get->add_option("--pubkey", *pubkey, "64 hex digits: a mutable item's public key");
    get->add_option("--salt", *get_salt, "salt of a mutable item");
    add_common(*get, *options, true);
    get->callback([options, target, pubkey, get_salt, run_command] {
        *run_command = [options, target, pubkey, get_salt] {
            std::optional<id160> immutable;
            std::optional<ed25519::public_key> key;
            if (!pubkey->empty()) {
                key = ed25519::public_key::from_hex(*pubkey);
                if (!key || !target->empty()) {
                    fmt::print(stderr,
                               "hyphae: dht get: --pubkey takes 64 hex digits, and no TARGET with it\n");
                    return exit_usage;
                }
            } else {
                immutable = id160::from_hex(*target);
                if (!immutable) {
                    fmt::print(stderr,
                               "hyphae: dht get: give a 40-digit hex TARGET, or --pubkey and --salt\n");
                    return exit_usage;
                }
            }
            dht_session session(*options);
            if (auto started = session.start(); !started) {
                return report(started.error());
            }
            std::optional<dht::item_found> item;
            auto done = run_one(
                session, *options,
                [&](dht::dht_node& n, time_point now) {
                    return key ? n.get_mutable(now, *key, *get_salt) : n.get_immutable(now, *immutable);
                },
                [&](const dht::dht_event& e, dht::lookup_id id) {
                    if (const auto* found = std::get_if<dht::item_found>(&e); found && found->id == id) {
                        item = *found;
                    }
                });
            if (!done) {
                return report(done.error());
            }
            print_summary(*done, "get");
            if (!item) {
                return report(error{errc::io, "dht get", "no node holds the item"});
            }
            fmt::print("{}\n", printable(item->value));
            if (item->seq) {
                fmt::print(stderr, "get: seq {}\n", *item->seq);
            }
            return 0;
        };
    });

    return {dht, [run_command] {
                return *run_command ? (*run_command)() : exit_usage;
            }};
}

}  // namespace hyphae::cli
