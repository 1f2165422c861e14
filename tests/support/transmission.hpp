#pragma once
// A Transmission 3.00 daemon for interop tests: its own config folder, TCP only (uTP, DHT, LPD,
// port mapping and encryption preference off), peers and RPC on 127.0.0.1, stopped by PID.
// Driven with transmission-remote.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "subprocess.hpp"

namespace hyphae::test {

class transmission_daemon {
public:
    // Starts the daemon on free ports; throws if it does not answer RPC within the deadline.
    explicit transmission_daemon(const std::string& folder);
    ~transmission_daemon();

    std::uint16_t peer_port() const { return peer_port_; }
    // Adds a torrent saving into `download_dir` (where existing data is checked and seeded).
    bool add(const std::string& torrent_file, const std::string& download_dir);
    // "Percent Done" of the first torrent (0-100), or empty if RPC failed.
    std::optional<double> percent_done();
    // Waits until the first torrent is at 100 % and verified.
    bool wait_complete(std::chrono::milliseconds deadline);
    std::string info();      // transmission-remote -t all -i, for failure messages
    std::string trackers();  // transmission-remote -t all -it
    // Waits until the first torrent's tracker has answered an announce.
    bool wait_announced(std::chrono::milliseconds deadline);

private:
    run_result remote(const std::vector<std::string>& args);

    std::string folder_;
    std::uint16_t rpc_port_ = 0;
    std::uint16_t peer_port_ = 0;
    std::unique_ptr<background_process> process_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (for programs that cannot report theirs).
std::uint16_t free_tcp_port();

}  // namespace hyphae::test
