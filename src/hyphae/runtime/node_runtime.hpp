#pragma once
// Drives one hyphae::node over real sockets and files: an Asio event loop on one thread (TCP
// listener, peer sockets, one timer) and a disk_pool for block I/O and hashing. After every
// input it drains the node's outputs and acts on them; payload buffers go to the socket as
// they are (scatter-gather writes), without another copy.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <asio.hpp>

#include "hyphae/core/error.hpp"
#include "hyphae/node/node.hpp"
#include "hyphae/runtime/disk_pool.hpp"
#include "hyphae/runtime/file_storage.hpp"
#include "hyphae/runtime/runtime_clock.hpp"

namespace hyphae {

struct runtime_config {
    std::string bind_address = "0.0.0.0";
    std::uint16_t listen_port = 0;  // 0: any free port
    unsigned disk_threads = 2;
    std::size_t read_buffer_size = 256 * 1024;
};

class node_runtime {
public:
    node_runtime(node& n, const runtime_config& config);
    ~node_runtime();

    // Binds and listens; tells the node its port. A node with a DHT gets the UDP port of the same
    // number for it; when that bind fails, dht_error() says why and the rest goes on.
    result<std::uint16_t> listen();
    const std::string& dht_error() const { return dht_error_; }
    void attach_storage(torrent_handle t, std::unique_ptr<file_storage> storage);
    file_storage* storage(torrent_handle t);
    // Called on the loop thread for every node event, after the node has handled it.
    std::function<void(const node_event&)> on_event;

    asio::io_context& context() { return io_; }
    // Runs the loop until stop() (from a handler or a signal) or until nothing is left to do.
    void run();
    void stop() { io_.stop(); }
    // Drains the node's outputs; call after calling into the node from outside a handler.
    void pump();
    // Runs `work` on a disk thread, then `done` on the loop thread.
    void run_on_disk(std::function<void()> work, std::function<void()> done);

private:
    struct connection;
    struct http_exchange;
    struct udp_exchange;
    void accept();
    void start_read(socket_id s);
    void write_next(socket_id s);
    void close(socket_id s);
    void arm_timer();
    void run_disk_job(const node_disk_job& job);
    // Trackers (tracker_io.cpp)
    void run_tracker_request(node_tracker_request request);
    void start_http(std::uint64_t id, const tracker::http_get& get);
    void read_http(std::uint64_t id);
    void send_udp(std::uint64_t id, const tracker::udp_datagram& datagram);
    void read_udp(std::uint64_t id);
    void tracker_failed(std::uint64_t id, const std::string& reason);
    // DHT
    result<void> open_dht(const asio::ip::address& address, std::uint16_t port);
    void read_dht();

    node& node_;
    runtime_config config_;
    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_;
    asio::steady_timer timer_;
    std::map<socket_id, std::shared_ptr<connection>> connections_;
    std::map<torrent_handle, std::unique_ptr<file_storage>> storages_;
    std::map<std::uint64_t, std::shared_ptr<http_exchange>> http_;
    std::map<std::uint64_t, std::shared_ptr<udp_exchange>> udp_;
    std::unique_ptr<disk_pool> disk_;
    asio::ip::udp::socket dht_socket_;
    asio::ip::udp::endpoint dht_sender_;
    std::vector<std::uint8_t> dht_buffer_;
    std::string dht_error_;
    bool pumping_ = false;
    bool timer_armed_ = false;
};

}  // namespace hyphae
