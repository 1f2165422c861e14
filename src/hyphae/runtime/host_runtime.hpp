#pragma once
// The one runtime: drives a host over real sockets, on one Asio event-loop thread, with a pool
// of disk threads. Every command of the CLI and the daemon runs its services under it.
//
// - One TCP listener and one UDP socket (either may be off), both opened close-on-exec. Accepted
//   connections are handed to host::on_accepted; the host decides whose they are.
// - Reads: a connection is read when readable into one buffer shared by all connections (so ten
//   thousand idle HTTP clients cost no buffers), and the bytes go to the host at once.
// - Writes: whatever is queued for a connection goes out in one gathered write of the services'
//   buffers, never copied; on_send_done reports it.
// - UDP: datagrams are read in batches with recvmmsg and the replies made meanwhile are sent in
//   batches with sendmmsg at the end of each pump.
// - Disk jobs run on the disk pool against the block_storage attached under (service, storage);
//   host names are resolved with Asio's resolver; one timer is armed at the earlier of the host's
//   and the owner's deadlines.
// After every input the runtime pumps: the owner drains the services with events (and may call
// them), then transmits, disk jobs and look-ups are carried out, until the host is idle.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio.hpp>

#include "hyphae/core/error.hpp"
#include "hyphae/host/host.hpp"
#include "hyphae/host/host_owner.hpp"
#include "hyphae/runtime/block_storage.hpp"
#include "hyphae/runtime/disk_pool.hpp"

namespace hyphae {

struct runtime_config {
    std::string bind_address = "0.0.0.0";
    std::optional<std::uint16_t> tcp_port;  // none: no listener; 0: any free port
    enum class udp_mode { off, port, same_as_tcp };
    udp_mode udp = udp_mode::off;
    std::uint16_t udp_port = 0;      // udp_mode::port; 0: any free port
    bool any_port_if_taken = false;  // the TCP port is taken: take any free one instead
    // same_as_tcp: when that UDP port cannot be had, go on without UDP (udp_error() says why)
    // rather than fail; the TCP side still works.
    bool udp_optional = true;
    unsigned disk_threads = 2;
    std::size_t read_buffer_size = 256 * 1024;
    unsigned udp_batch = 64;               // datagrams per recvmmsg / sendmmsg
    unsigned udp_batches_per_wakeup = 16;  // then TCP and timers get their turn
    int udp_socket_buffer_bytes = 8 << 20;
    duration flush_close_timeout = std::chrono::seconds(10);  // a close after writes waits this long
};

struct runtime_counters {
    std::uint64_t datagrams_in = 0;
    std::uint64_t datagrams_out = 0;
    std::uint64_t udp_send_failures = 0;  // the kernel refused (buffer full, unreachable, no socket)
    std::uint64_t accepted = 0;
    std::uint64_t refused = 0;  // the host would not take the connection
};

class host_runtime {
public:
    host_runtime(host& h, const runtime_config& config, host_owner* owner = nullptr);
    // The owner may come later than the runtime (it may need the runtime itself).
    void set_owner(host_owner* owner) { owner_ = owner; }
    // Several runtimes may share one event loop (a benchmark's fleet of nodes on one thread).
    host_runtime(host& h, const runtime_config& config, host_owner* owner, asio::io_context& shared_loop);
    ~host_runtime();
    host_runtime(const host_runtime&) = delete;
    host_runtime& operator=(const host_runtime&) = delete;

    // Binds what the configuration asks for.
    result<void> open();
    std::optional<endpoint> tcp_endpoint() const { return tcp_endpoint_; }
    std::optional<endpoint> udp_endpoint() const { return udp_endpoint_; }
    // Why the UDP socket is off, when it was wanted (udp_optional).
    const std::string& udp_error() const { return udp_error_; }

    // Disk jobs of `service` naming `storage` run against it; shared, so that a job still running
    // keeps a detached storage alive.
    void attach_storage(service_id service, std::uint64_t storage, std::shared_ptr<block_storage> s);
    void detach_storage(service_id service, std::uint64_t storage);
    std::shared_ptr<block_storage> storage(service_id service, std::uint64_t storage) const;

    asio::io_context& context() { return io_; }
    // Runs the loop until stop() (from a handler or a signal).
    void run();
    void stop() { io_.stop(); }
    // Closes the sockets; connections are dropped without telling the host.
    void close();
    // Carries out what the host and the owner have to do; call after calling into them from
    // outside a handler of this runtime.
    void pump();
    // Runs `work` on a disk thread, then `done` on the loop thread (and pumps).
    void run_on_disk(std::function<void()> work, std::function<void()> done);

    const runtime_counters& counters() const { return counters_; }
    const host& driven() const { return host_; }

private:
    struct connection;
    struct udp_buffers;

    result<void> open_tcp(const asio::ip::address& address, std::uint16_t port);
    result<void> open_udp(const asio::ip::address& address, std::uint16_t port);
    void close_sockets();
    void wait_accept();
    void accept_ready();
    void wait_read(conn_id id);
    void read_ready(conn_id id);
    void start_write(conn_id id);
    void dial(const io::connect& c);
    void queue_send(io::send s);
    void close(const io::close& c);
    void drop(conn_id id);
    void lost(conn_id id, const std::string& reason);
    void wait_udp();
    void read_udp();
    void flush_datagrams();
    void run_disk_job(routed_disk_job job);
    void resolve(routed_resolve query);
    void arm_timer();

    disk_pool& disk();

    host& host_;
    runtime_config config_;
    host_owner* owner_;
    std::unique_ptr<asio::io_context> own_loop_;
    asio::io_context& io_;
    asio::ip::tcp::acceptor acceptor_;
    asio::ip::udp::socket udp_;
    asio::steady_timer timer_;
    asio::ip::tcp::resolver resolver_;
    std::optional<time_point> timer_at_;
    std::optional<endpoint> tcp_endpoint_;
    std::optional<endpoint> udp_endpoint_;
    std::string udp_error_;
    std::unordered_map<conn_id, std::shared_ptr<connection>> connections_;
    std::vector<std::uint8_t> read_buffer_;
    std::unique_ptr<udp_buffers> udp_buffers_;
    std::vector<io::datagram> outgoing_;
    std::map<std::pair<service_id, std::uint64_t>, std::shared_ptr<block_storage>> storages_;
    std::unique_ptr<disk_pool> disk_;  // started at the first disk job
    runtime_counters counters_;
    bool pumping_ = false;
};

}  // namespace hyphae
