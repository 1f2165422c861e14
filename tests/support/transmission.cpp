#include "transmission.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hyphae::test {

std::uint16_t free_tcp_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t length = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
        throw std::runtime_error("cannot find a free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

transmission_daemon::transmission_daemon(const std::string& folder) : folder_(folder) {
    rpc_port_ = free_tcp_port();
    peer_port_ = free_tcp_port();
    std::filesystem::create_directories(folder_ + "/config");
    std::filesystem::create_directories(folder_ + "/downloads");
    std::ofstream settings(folder_ + "/config/settings.json");
    settings << "{\n"
             << "  \"bind-address-ipv4\": \"127.0.0.1\",\n"
             << "  \"bind-address-ipv6\": \"::1\",\n"
             << "  \"rpc-bind-address\": \"127.0.0.1\",\n"
             << "  \"rpc-port\": " << rpc_port_ << ",\n"
             << "  \"rpc-authentication-required\": false,\n"
             << "  \"peer-port\": " << peer_port_ << ",\n"
             << "  \"peer-port-random-on-start\": false,\n"
             << "  \"utp-enabled\": false,\n"
             << "  \"dht-enabled\": false,\n"
             << "  \"lpd-enabled\": false,\n"
             << "  \"port-forwarding-enabled\": false,\n"
             << "  \"encryption\": 0,\n"
             << "  \"ratio-limit-enabled\": false,\n"
             << "  \"idle-seeding-limit-enabled\": false,\n"
             << "  \"download-dir\": \"" << folder_ << "/downloads\",\n"
             << "  \"incomplete-dir-enabled\": false,\n"
             << "  \"start-added-torrents\": true\n"
             << "}\n";
    settings.close();
    process_ = std::make_unique<background_process>(std::vector<std::string>{
        "transmission-daemon", "-f", "-g", folder_ + "/config", "-p", std::to_string(rpc_port_), "-T", "-O",
        "-M", "-P", std::to_string(peer_port_), "-w", folder_ + "/downloads", "-e",
        folder_ + "/transmission.log"});
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < end) {
        if (remote({"-l"}).exit_code == 0) {
            return;
        }
        if (!process_->running()) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling RPC readiness, bounded
    }
    throw std::runtime_error("transmission-daemon did not answer RPC");
}

transmission_daemon::~transmission_daemon() {
    if (process_) {
        process_->stop(std::chrono::seconds(10));
    }
}

run_result transmission_daemon::remote(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"transmission-remote", "127.0.0.1:" + std::to_string(rpc_port_)};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, std::chrono::seconds(20));
}

bool transmission_daemon::add(const std::string& torrent_file, const std::string& download_dir) {
    auto r = remote({"-a", torrent_file, "-w", download_dir});
    return r.exit_code == 0 && r.out.find("success") != std::string::npos;
}

std::string transmission_daemon::info() {
    return remote({"-t", "all", "-i"}).out;
}

std::optional<double> transmission_daemon::percent_done() {
    const std::string text = info();
    const std::size_t at = text.find("Percent Done:");
    if (at == std::string::npos) {
        return std::nullopt;
    }
    return std::stod(text.substr(at + 13));
}

bool transmission_daemon::wait_complete(std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
        const std::string text = info();
        if (text.find("Percent Done: 100%") != std::string::npos &&
            text.find("State: Verifying") == std::string::npos &&
            text.find("State: Queued for verification") == std::string::npos) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // polling RPC state, bounded
    }
    return false;
}

std::string transmission_daemon::trackers() {
    return remote({"-t", "all", "-it"}).out;
}

bool transmission_daemon::wait_announced(std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
        if (trackers().find("Got a list of") != std::string::npos) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // polling RPC state, bounded
    }
    return false;
}

}  // namespace hyphae::test
