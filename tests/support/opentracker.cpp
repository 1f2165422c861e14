#include "opentracker.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "transmission.hpp"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hyphae::test {
namespace {

// A plain HTTP/1.0 exchange with the tracker on 127.0.0.1; empty when it cannot connect.
std::string http_get(std::uint16_t port, const std::string& target) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    std::string response;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        const std::string request = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
            char buffer[4096];
            ssize_t n;
            while ((n = ::read(fd, buffer, sizeof buffer)) > 0) {
                response.append(buffer, static_cast<std::size_t>(n));
            }
        }
    }
    ::close(fd);
    return response;
}

// Whether the tracker refuses `hex`. A regular announce is needed (opentracker answers 'stopped'
// ones without looking at its list); the probe peer it adds is then removed with a 'stopped'.
bool refused(std::uint16_t port, const std::string& hex) {
    std::string encoded;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        encoded += "%" + hex.substr(i, 2);
    }
    const std::string query = "/announce?info_hash=" + encoded +
                              "&peer_id=-HY0000-probe0000000&port=1&uploaded=0&downloaded=0&left=0&compact=1";
    const std::string response = http_get(port, query);
    http_get(port, query + "&event=stopped");
    return response.empty() || response.find("not authorized") != std::string::npos;
}

}  // namespace

opentracker::opentracker(const std::string& folder, const std::vector<std::string>& info_hashes_hex) {
    // opentracker drops its privileges to 'nobody': the list must be readable by anyone.
    namespace fs = std::filesystem;
    const fs::path list_folder = fs::path(folder) / "opentracker";
    fs::create_directories(list_folder);
    fs::permissions(folder, fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add);
    fs::permissions(list_folder, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                     fs::perms::others_read | fs::perms::others_exec);
    const std::string whitelist = (list_folder / "whitelist").string();
    {
        std::ofstream out(whitelist);
        for (const std::string& hash : info_hashes_hex) {
            out << hash << "\n";
        }
    }
    fs::permissions(whitelist, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                   fs::perms::others_read);
    port_ = free_tcp_port();
    process_ = std::make_unique<background_process>(
        std::vector<std::string>{"opentracker", "-i", "127.0.0.1", "-p", std::to_string(port_), "-P",
                                 std::to_string(port_), "-w", whitelist});
    // It prints nothing when ready, and loads the list after it starts answering. Loaded: a hash
    // it does not list is refused; ready: ours are not. Polled within a deadline.
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < end) {
        bool ready = refused(port_, std::string(40, '0'));
        for (const std::string& hash : info_hashes_hex) {
            ready = ready && !refused(port_, hash);
        }
        if (ready) {
            return;
        }
        if (!process_->running()) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("opentracker did not start or did not load its whitelist");
}

opentracker::~opentracker() {
    if (process_) {
        process_->stop(std::chrono::seconds(5));
    }
}

}  // namespace hyphae::test
