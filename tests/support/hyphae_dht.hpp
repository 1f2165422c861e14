#pragma once
// `hyphae dht run` in the background on 127.0.0.1 for tests and benchmarks, and the one-shot
// `hyphae dht` commands against it. The node is stopped by PID when the object goes.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "subprocess.hpp"

namespace hyphae::test {

class hyphae_dht_node {
public:
    // `bootstrap`: HOST:PORT of nodes to join through; `extra`: more arguments for `dht run`.
    hyphae_dht_node(const std::string& binary, const std::vector<std::string>& bootstrap,
                    const std::vector<std::string>& extra = {});

    bool ready() const { return port_ != 0; }
    std::uint16_t port() const { return port_; }
    std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
    const std::string& node_id_hex() const { return node_id_hex_; }
    background_process& process() { return *process_; }
    std::string output() const { return process_->output(); }

private:
    std::unique_ptr<background_process> process_;
    std::uint16_t port_ = 0;
    std::string node_id_hex_;
};

// Runs `hyphae dht <args...> --bind 127.0.0.1 --bootstrap B...` to completion.
run_result run_dht_command(const std::string& binary, std::vector<std::string> args,
                           const std::vector<std::string>& bootstrap,
                           std::chrono::milliseconds deadline = std::chrono::seconds(60));

// The lines of a text, without their line ends.
std::vector<std::string> lines_of(const std::string& text);

}  // namespace hyphae::test
