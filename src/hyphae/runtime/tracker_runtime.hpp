#pragma once
// Serves one tracker_server over real sockets: a UDP socket read and written in batches
// (recvmmsg/sendmmsg, many datagrams per system call), an HTTP listener with one Asio socket per
// connection, and one timer, all on one Asio event loop. After every input it drains the core's
// outputs; datagram replies made while handling a batch go out together at the end of it.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio.hpp>

#include "hyphae/core/error.hpp"
#include "hyphae/proto/tracker/tracker_server.hpp"
#include "hyphae/runtime/runtime_clock.hpp"

namespace hyphae {

struct tracker_runtime_config {
    std::string bind_address = "0.0.0.0";
    std::optional<std::uint16_t> http_port;  // empty: no HTTP; 0: any free port
    std::optional<std::uint16_t> udp_port;   // empty: no UDP
    unsigned udp_batch = 64;                 // datagrams per recvmmsg/sendmmsg
    unsigned udp_batches_per_wakeup = 16;    // then TCP and timers get their turn
    std::size_t read_buffer_size = 4096;  // per HTTP connection: a request fits, longer ones take more reads
    int socket_buffer_bytes = 8 << 20;    // SO_RCVBUF / SO_SNDBUF asked of the kernel for UDP
};

struct tracker_runtime_counters {
    std::uint64_t udp_send_failures = 0;  // datagrams the kernel refused (buffer full, unreachable)
};

class tracker_runtime {
public:
    tracker_runtime(tracker::tracker_server& core, const tracker_runtime_config& config);
    ~tracker_runtime();

    // Binds and starts listening on the configured ports.
    result<void> open();
    std::optional<endpoint> http_endpoint() const { return http_endpoint_; }
    std::optional<endpoint> udp_endpoint() const { return udp_endpoint_; }

    asio::io_context& context() { return io_; }
    void run();
    void stop() { io_.stop(); }
    // Drains the core's outputs; call after calling into the core from outside a handler.
    void pump();

    // Called on the loop thread for every notice the core reports.
    std::function<void(const tracker::tracker_notice&)> on_notice;
    const tracker_runtime_counters& counters() const { return counters_; }

private:
    struct connection;
    struct udp_batch_buffers;
    void accept();
    void start_read(std::uint64_t id);
    void write_next(std::uint64_t id);
    void close(std::uint64_t id);
    // The peer closed the connection or it failed: close it and tell the core.
    void lost(std::uint64_t id);
    void wait_udp();
    void read_udp();
    void flush_datagrams();
    void arm_timer();

    tracker::tracker_server& core_;
    tracker_runtime_config config_;
    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_;
    asio::ip::udp::socket udp_;
    asio::steady_timer timer_;
    std::optional<time_point> timer_at_;
    std::optional<endpoint> http_endpoint_;
    std::optional<endpoint> udp_endpoint_;
    std::map<std::uint64_t, std::shared_ptr<connection>> connections_;
    std::uint64_t next_connection_ = 1;
    std::unique_ptr<udp_batch_buffers> udp_buffers_;
    std::vector<io::datagram> outgoing_;  // replies waiting for the next sendmmsg
    tracker_runtime_counters counters_;
};

}  // namespace hyphae
