#pragma once
// `hyphae get` and `hyphae seed`: one torrent added to a session (session/session.hpp) on a host
// driven by the one runtime (runtime/host_runtime.hpp, runtime/session_runner.hpp), with a
// progress line, resume data saved as pieces are verified, and a clean stop on SIGINT/SIGTERM.

#include <cstdint>
#include <string>
#include <vector>

namespace hyphae::cli {

struct transfer_options {
    std::string target;  // FILE.torrent or magnet link
    std::string folder;  // get: where <name> is saved; seed: where <name> is
    std::vector<std::string> peers;
    std::string bind = "0.0.0.0";
    int port = -1;          // -1: 6881, or any free port when 6881 is taken
    double seed_ratio = 0;  // get: keep seeding until uploaded >= ratio x size
    bool seed = false;      // seed: verify what is on disk, serve until stopped
    unsigned disk_threads = 2;
    bool verbose = false;      // a line for every peer connected and disconnected, with the reason
    std::string upload_limit;  // bytes/s ("500K", "2M"); empty: unlimited
    std::string download_limit;
    std::size_t connections_max = 50;
    bool dht = true;                         // join the Mainline DHT to find peers
    std::vector<std::string> dht_bootstrap;  // HOST:PORT; empty: the well-known routers
};

int run_transfer(const transfer_options& options);

}  // namespace hyphae::cli
