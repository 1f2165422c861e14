#pragma once
// Serves one dht_node over a real UDP socket and one timer, on an Asio event loop it is given
// (its own, for `hyphae dht`, or a node_runtime's). After every input it drains the core's
// outputs: datagrams go out at once with a non-blocking send (a DHT query lost to a full socket
// buffer is as good as lost on the way; the core's timeouts cover both), events go to on_event.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <asio.hpp>

#include "hyphae/core/error.hpp"
#include "hyphae/proto/dht/dht_node.hpp"

namespace hyphae {

struct dht_runtime_config {
    std::string bind_address = "0.0.0.0";
    std::uint16_t port = 0;  // 0: any free port
    int socket_buffer_bytes = 1 << 20;
};

struct dht_runtime_counters {
    std::uint64_t send_failures = 0;
};

class dht_runtime {
public:
    dht_runtime(asio::io_context& io, dht::dht_node& core, const dht_runtime_config& config);
    ~dht_runtime();
    dht_runtime(const dht_runtime&) = delete;
    dht_runtime& operator=(const dht_runtime&) = delete;

    // Binds the UDP socket and starts reading.
    result<endpoint> open();
    std::optional<endpoint> local_endpoint() const { return local_; }
    void close();

    // Drains the core's outputs; call after calling into the core from outside a handler.
    void pump();

    // Called on the loop thread for every event of the core.
    std::function<void(const dht::dht_event&)> on_event;
    const dht_runtime_counters& counters() const { return counters_; }

private:
    void read();
    void arm_timer();

    asio::io_context& io_;
    dht::dht_node& core_;
    dht_runtime_config config_;
    asio::ip::udp::socket socket_;
    asio::steady_timer timer_;
    asio::ip::udp::endpoint sender_;
    std::vector<std::uint8_t> buffer_;
    std::optional<endpoint> local_;
    std::optional<time_point> armed_for_;
    bool pumping_ = false;
    bool closed_ = false;
    dht_runtime_counters counters_;
};

}  // namespace hyphae
