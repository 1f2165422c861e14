#pragma once
// `hyphae tracker` on free ports of 127.0.0.1 for tests, stopped by PID when the object goes.

#include <memory>
#include <string>
#include <vector>

#include "subprocess.hpp"
#include <nlohmann/json.hpp>

namespace hyphae::test {

class hyphae_tracker {
public:
    // `binary` is the built hyphae; `extra` more options. ready() tells whether it came up.
    explicit hyphae_tracker(const std::string& binary, const std::vector<std::string>& extra = {});

    bool ready() const { return http_ != 0 && udp_ != 0; }
    std::uint16_t http_port() const { return http_; }
    std::uint16_t udp_port() const { return udp_; }
    std::string http_url() const { return "http://127.0.0.1:" + std::to_string(http_) + "/announce"; }
    std::string udp_url() const { return "udp://127.0.0.1:" + std::to_string(udp_) + "/announce"; }
    background_process& process() { return *process_; }
    // Everything it printed, for failure messages.
    std::string output() const;
    // GET /stats, parsed; null when it does not answer.
    nlohmann::json stats() const;

private:
    std::unique_ptr<background_process> process_;
    std::uint16_t http_ = 0;
    std::uint16_t udp_ = 0;
};

}  // namespace hyphae::test
