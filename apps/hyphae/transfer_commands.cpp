#include <memory>

#include "commands.hpp"
#include "transfer.hpp"

namespace hyphae::cli {
using namespace hyphae::bittorrent;
namespace {

// What get and seed share: how to reach peers, and how much to give them.
void add_network_options(CLI::App& app, transfer_options& options) {
    app.add_option("--peer", options.peers, "Peer to dial, HOST:PORT (repeatable)");
    app.add_option("--port", options.port, "TCP port to listen on (default 6881, or any free one)")
        ->check(CLI::Range(0, 65535));
    app.add_option("--bind", options.bind, "Address to listen on (default 0.0.0.0)");
    app.add_option("--upload-limit", options.upload_limit,
                   "Upload rate limit in bytes/s (500K, 2M); default none");
    app.add_option("--download-limit", options.download_limit,
                   "Download rate limit in bytes/s; default none");
    app.add_option("--max-connections", options.connections_max, "Peer connections at most (default 50)")
        ->check(CLI::Range(1, 10000));
    app.add_flag("!--no-dht", options.dht, "Do not use the Mainline DHT to find peers");
    app.add_option("--dht-bootstrap", options.dht_bootstrap,
                   "DHT node to join through, HOST:PORT (repeatable; default: the well-known routers)");
    app.add_flag("-v,--verbose", options.verbose,
                 "Print peers, trackers and DHT lookups as they come and go, with reasons");
}

}  // namespace

command add_get_command(CLI::App& parent) {
    auto options = std::make_shared<transfer_options>();
    CLI::App* app = parent.add_subcommand(
        "get", "Download a torrent or magnet link; exits 0 once every piece is verified");
    app->add_option("target", options->target, "FILE.torrent or a magnet: link")->required();
    app->add_option("-o,--output", options->folder, "Folder to save <name> in")->required();
    add_network_options(*app, *options);
    app->add_option("--seed-ratio", options->seed_ratio, "Keep seeding until uploaded = R x size (default 0)")
        ->check(CLI::NonNegativeNumber);
    return {app, [options] {
                return run_transfer(*options);
            }};
}

command add_seed_command(CLI::App& parent) {
    auto options = std::make_shared<transfer_options>();
    options->seed = true;
    CLI::App* app = parent.add_subcommand("seed", "Verify data on disk and serve it until interrupted");
    app->add_option("torrent", options->target, "FILE.torrent")->required();
    app->add_option("--data", options->folder, "Folder that holds <name> (libtorrent's save_path)")
        ->required();
    add_network_options(*app, *options);
    return {app, [options] {
                return run_transfer(*options);
            }};
}

}  // namespace hyphae::cli
