#pragma once
// opentracker (Debian's build, whitelist mode) for interop tests: HTTP and UDP on 127.0.0.1,
// tracking only the info-hashes given, stopped by PID.

#include <memory>
#include <string>
#include <vector>

#include "subprocess.hpp"

namespace hyphae::test {

class opentracker {
public:
    opentracker(const std::string& folder, const std::vector<std::string>& info_hashes_hex);
    ~opentracker();
    std::uint16_t port() const { return port_; }
    std::string http_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/announce"; }
    std::string udp_url() const { return "udp://127.0.0.1:" + std::to_string(port_); }

private:
    std::uint16_t port_ = 0;
    std::unique_ptr<background_process> process_;
};

}  // namespace hyphae::test
