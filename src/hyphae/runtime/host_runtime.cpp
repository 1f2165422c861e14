#include "hyphae/runtime/host_runtime.hpp"

#include <cerrno>
#include <cstring>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hyphae/runtime/runtime_clock.hpp"
#include "hyphae/runtime/socket_address.hpp"

namespace hyphae {
namespace {

// Accepted connections taken per wakeup of the listener, so that a flood cannot starve the rest.
constexpr int accepts_per_wakeup = 64;
// Reads of one connection per wakeup while they fill the buffer: fairness between connections.
constexpr int reads_per_wakeup = 4;

std::string errno_text(int code) {
    return std::strerror(code);
}

// A socket of the given type, close-on-exec and non-blocking from birth (Asio's own open() leaves
// descriptors inheritable by any program a thread of this process starts).
result<int> open_socket(const asio::ip::address& address, int type, std::string_view what) {
    const int fd = ::socket(address.is_v6() ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return fail(errc::io, std::string(what), "socket: " + errno_text(errno));
    }
    return fd;
}

}  // namespace

struct host_runtime::connection {
    explicit connection(asio::io_context& io) : socket(io), linger(io) {}
    asio::ip::tcp::socket socket;
    asio::steady_timer linger;       // bounds a close that waits for its writes
    std::vector<out_buffer> queued;  // not yet handed to a write
    bool connected = false;          // dialled connections: once the connect completed
    bool writing = false;
    bool close_after_writes = false;
    bool closed = false;
};

// Requests and answers of every UDP protocol we speak fit 4 KiB; a longer datagram is cut short
// and then refused by its service's codec.
struct host_runtime::udp_buffers {
    static constexpr std::size_t datagram_max = 4096;
    explicit udp_buffers(unsigned batch)
        : data(batch * datagram_max),
          addresses(batch),
          iov(batch),
          headers(batch),
          send_addresses(batch),
          send_iov(batch),
          send_headers(batch) {}
    std::vector<std::uint8_t> data;
    std::vector<sockaddr_storage> addresses;
    std::vector<iovec> iov;
    std::vector<mmsghdr> headers;
    std::vector<sockaddr_storage> send_addresses;
    std::vector<iovec> send_iov;
    std::vector<mmsghdr> send_headers;
};

host_runtime::host_runtime(host& h, const runtime_config& config, host_owner* owner)
    : host_runtime(h, config, owner, *new asio::io_context) {
    own_loop_.reset(&io_);
}

host_runtime::host_runtime(host& h, const runtime_config& config, host_owner* owner,
                           asio::io_context& shared_loop)
    : host_(h),
      config_(config),
      owner_(owner),
      io_(shared_loop),
      acceptor_(io_),
      udp_(io_),
      timer_(io_),
      resolver_(io_),
      udp_buffers_(std::make_unique<udp_buffers>(std::max(config.udp_batch, 1u))) {}

host_runtime::~host_runtime() {
    // Disk threads may still hold storages and post completions: finish them first.
    disk_.reset();
    close();
    connections_.clear();
    timer_.cancel();
    resolver_.cancel();
}

disk_pool& host_runtime::disk() {
    if (!disk_) {
        disk_ = std::make_unique<disk_pool>(std::max(config_.disk_threads, 1u));
    }
    return *disk_;
}

void host_runtime::close() {
    for (auto& [id, c] : connections_) {
        c->closed = true;
        asio::error_code ignored;
        c->linger.cancel();
        c->socket.close(ignored);
    }
    connections_.clear();
    close_sockets();
}

// ---- opening ----

result<void> host_runtime::open() {
    asio::error_code ec;
    const auto address = asio::ip::make_address(config_.bind_address, ec);
    if (ec) {
        return fail(errc::invalid_argument, "listen", "'" + config_.bind_address + "' is not an IP address");
    }
    using mode = runtime_config::udp_mode;
    if (config_.tcp_port) {
        auto tcp = open_tcp(address, *config_.tcp_port);
        if (!tcp && config_.any_port_if_taken && *config_.tcp_port != 0) {
            tcp = open_tcp(address, 0);  // the port is someone else's: any free one will do
        }
        if (!tcp) {
            return tcp;
        }
    }
    if (config_.udp == mode::port) {
        if (auto udp = open_udp(address, config_.udp_port); !udp) {
            close_sockets();
            return udp;
        }
    } else if (config_.udp == mode::same_as_tcp && tcp_endpoint_) {
        auto udp = open_udp(address, tcp_endpoint_->port);
        // A kernel-chosen TCP port whose UDP twin is taken: try other pairs.
        for (int attempt = 0; !udp && attempt < 8 && (*config_.tcp_port == 0 || config_.any_port_if_taken);
             ++attempt) {
            asio::error_code ignored;
            acceptor_.close(ignored);
            tcp_endpoint_.reset();
            if (auto tcp = open_tcp(address, 0); !tcp) {
                return tcp;
            }
            udp = open_udp(address, tcp_endpoint_->port);
        }
        if (!udp) {
            if (!config_.udp_optional) {
                close_sockets();
                return udp;
            }
            udp_error_ = udp.error().message();
        }
    }
    if (tcp_endpoint_) {
        wait_accept();
    }
    if (udp_endpoint_) {
        wait_udp();
    }
    return {};
}

result<void> host_runtime::open_tcp(const asio::ip::address& address, std::uint16_t port) {
    const std::string what = "tcp on " + config_.bind_address + ":" + std::to_string(port);
    auto fd = open_socket(address, SOCK_STREAM, what);
    if (!fd) {
        return tl::unexpected(fd.error());
    }
    const asio::ip::tcp::endpoint ep(address, port);
    asio::error_code ec;
    acceptor_.assign(ep.protocol(), *fd, ec);
    if (ec) {
        ::close(*fd);
        return fail(errc::io, what, ec.message());
    }
    acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    acceptor_.bind(ep, ec);
    if (!ec) {
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        asio::error_code ignored;
        acceptor_.close(ignored);
        return fail(errc::io, what, ec.message());
    }
    tcp_endpoint_ = from_asio(acceptor_.local_endpoint());
    return {};
}

result<void> host_runtime::open_udp(const asio::ip::address& address, std::uint16_t port) {
    const std::string what = "udp on " + config_.bind_address + ":" + std::to_string(port);
    auto fd = open_socket(address, SOCK_DGRAM, what);
    if (!fd) {
        return tl::unexpected(fd.error());
    }
    const asio::ip::udp::endpoint ep(address, port);
    asio::error_code ec;
    udp_.assign(ep.protocol(), *fd, ec);
    if (ec) {
        ::close(*fd);
        return fail(errc::io, what, ec.message());
    }
    udp_.bind(ep, ec);
    if (ec) {
        asio::error_code ignored;
        udp_.close(ignored);
        return fail(errc::io, what, ec.message());
    }
    // Larger kernel buffers ride out bursts; the kernel may grant less, which is no error.
    asio::error_code ignored;
    udp_.set_option(asio::socket_base::receive_buffer_size(config_.udp_socket_buffer_bytes), ignored);
    udp_.set_option(asio::socket_base::send_buffer_size(config_.udp_socket_buffer_bytes), ignored);
    udp_endpoint_ = from_asio(udp_.local_endpoint());
    return {};
}

void host_runtime::close_sockets() {
    asio::error_code ignored;
    acceptor_.close(ignored);
    udp_.close(ignored);
    tcp_endpoint_.reset();
    udp_endpoint_.reset();
}

void host_runtime::run() {
    // Disk jobs and look-ups in flight are not Asio work: keep the loop until stop().
    auto keep = asio::make_work_guard(io_);
    pump();
    io_.run();
}

// ---- storages and the disk ----

void host_runtime::attach_storage(service_id service, std::uint64_t storage,
                                  std::shared_ptr<block_storage> s) {
    storages_[{service, storage}] = std::move(s);
}

void host_runtime::detach_storage(service_id service, std::uint64_t storage) {
    storages_.erase({service, storage});
}

std::shared_ptr<block_storage> host_runtime::storage(service_id service, std::uint64_t storage) const {
    auto it = storages_.find({service, storage});
    return it == storages_.end() ? nullptr : it->second;
}

void host_runtime::run_on_disk(std::function<void()> work, std::function<void()> done) {
    disk().submit([this, work = std::move(work), done = std::move(done)]() mutable {
        work();
        asio::post(io_, [this, done = std::move(done)] {
            done();
            pump();
        });
    });
}

void host_runtime::run_disk_job(routed_disk_job routed) {
    auto target = storage(routed.service, routed.job.storage);
    auto outcome = std::make_shared<disk_result>();
    const service_id service = routed.service;
    const disk_job job = std::move(routed.job);
    if (!target) {
        outcome->ok = false;
        outcome->error = "no storage is open for this job";
        asio::post(io_, [this, service, id = job.id, outcome] {
            host_.on_disk_done(runtime_now(), service, id, *outcome);
            pump();
        });
        return;
    }
    run_on_disk(
        [target, job, outcome] {
            const auto failed = [&](const error& e) {
                outcome->ok = false;
                outcome->error = e.message();
            };
            switch (job.what) {
                case disk_job::kind::write:
                    if (auto r = target->write(job.piece, job.begin, byte_view(*job.data)); !r) {
                        failed(r.error());
                    }
                    break;
                case disk_job::kind::read:
                    if (auto r = target->read(job.piece, job.begin, job.length); !r) {
                        failed(r.error());
                    } else {
                        outcome->data = std::make_shared<const std::vector<std::uint8_t>>(std::move(*r));
                    }
                    break;
                case disk_job::kind::hash:
                    if (auto r = target->hash_piece(job.piece); !r) {
                        failed(r.error());
                    } else {
                        outcome->hash = *r;
                    }
                    break;
            }
        },
        [this, service, id = job.id, outcome] { host_.on_disk_done(runtime_now(), service, id, *outcome); });
}

// ---- name look-ups ----

void host_runtime::resolve(routed_resolve routed) {
    resolver_.async_resolve(
        routed.query.host, std::to_string(routed.query.port),
        [this, routed](const asio::error_code& ec, const asio::ip::tcp::resolver::results_type& results) {
            resolve_result answer = std::vector<endpoint>{};
            if (ec) {
                answer = fail(errc::io, "resolve " + routed.query.host, ec.message());
            } else {
                for (const auto& entry : results) {
                    answer->push_back(from_asio(entry.endpoint()));
                }
                if (answer->empty()) {
                    answer = fail(errc::io, "resolve " + routed.query.host, "no address");
                }
            }
            host_.on_resolved(runtime_now(), routed.service, routed.query.id, answer);
            pump();
        });
}

// ---- TCP ----

void host_runtime::wait_accept() {
    acceptor_.async_wait(asio::socket_base::wait_read, [this](const asio::error_code& ec) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
            return;
        }
        accept_ready();
        pump();
        wait_accept();
    });
}

void host_runtime::accept_ready() {
    for (int i = 0; i < accepts_per_wakeup; ++i) {
        sockaddr_storage address{};
        socklen_t length = sizeof(address);
        const int fd = ::accept4(acceptor_.native_handle(), reinterpret_cast<sockaddr*>(&address), &length,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            return;  // EAGAIN, or a connection that died in the backlog
        }
        const auto remote = from_sockaddr(address);
        const auto id = remote ? host_.on_accepted(runtime_now(), *remote) : std::nullopt;
        if (!id) {
            ++counters_.refused;
            ::close(fd);
            continue;
        }
        ++counters_.accepted;
        auto c = std::make_shared<connection>(io_);
        asio::error_code ec;
        c->socket.assign(address.ss_family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), fd, ec);
        if (ec) {
            ::close(fd);
            host_.on_closed(runtime_now(), *id, ec.message());
            continue;
        }
        c->socket.set_option(asio::ip::tcp::no_delay(true), ec);
        c->connected = true;
        connections_[*id] = c;
        wait_read(*id);
    }
}

void host_runtime::wait_read(conn_id id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) {
        return;
    }
    auto c = it->second;
    c->socket.async_wait(asio::socket_base::wait_read, [this, id, c](const asio::error_code& ec) {
        if (c->closed) {
            return;
        }
        if (ec) {
            lost(id, ec.message());
            pump();
            return;
        }
        read_ready(id);
    });
}

void host_runtime::read_ready(conn_id id) {
    auto c = connections_.at(id);
    if (read_buffer_.empty()) {
        read_buffer_.resize(config_.read_buffer_size);  // a UDP-only node never needs it
    }
    for (int i = 0; i < reads_per_wakeup; ++i) {
        asio::error_code ec;
        const std::size_t n = c->socket.read_some(asio::buffer(read_buffer_), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
            break;
        }
        if (ec) {
            lost(id, ec == asio::error::eof ? "closed by the peer" : ec.message());
            pump();
            return;
        }
        host_.on_stream_bytes(runtime_now(), id, byte_view(read_buffer_.data(), n));
        pump();
        if (c->closed || n < read_buffer_.size()) {
            break;
        }
    }
    if (!c->closed) {
        wait_read(id);
    }
}

void host_runtime::dial(const io::connect& request) {
    const conn_id id = request.conn;
    const auto remote = to_asio<asio::ip::tcp::endpoint>(request.remote);
    auto c = std::make_shared<connection>(io_);
    auto fd = open_socket(remote.address(), SOCK_STREAM, "connect");
    asio::error_code ec;
    if (fd) {
        c->socket.assign(remote.protocol(), *fd, ec);
        if (ec) {
            ::close(*fd);
        }
    }
    if (!fd || ec) {
        asio::post(io_, [this, id, why = fd ? ec.message() : fd.error().message()] {
            host_.on_closed(runtime_now(), id, "connect: " + why);
            pump();
        });
        return;
    }
    connections_[id] = c;
    c->socket.async_connect(remote, [this, id, c](const asio::error_code& cec) {
        if (c->closed) {
            return;
        }
        if (cec) {
            drop(id);
            host_.on_closed(runtime_now(), id, "connect: " + cec.message());
            pump();
            return;
        }
        asio::error_code ignored;
        c->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
        c->connected = true;
        host_.on_connected(runtime_now(), id);
        start_write(id);
        wait_read(id);
        pump();
    });
}

void host_runtime::queue_send(io::send s) {
    auto it = connections_.find(s.conn);
    if (it == connections_.end()) {
        return;
    }
    auto& queued = it->second->queued;
    if (queued.empty()) {
        queued = std::move(s.data);
    } else {
        queued.insert(queued.end(), std::make_move_iterator(s.data.begin()),
                      std::make_move_iterator(s.data.end()));
    }
    start_write(s.conn);
}

void host_runtime::start_write(conn_id id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) {
        return;
    }
    auto c = it->second;
    if (!c->connected || c->writing || c->closed) {
        return;
    }
    if (c->queued.empty()) {
        if (c->close_after_writes) {
            drop(id);
        }
        return;
    }
    c->writing = true;
    // Everything queued goes in one gathered write; the batch keeps its buffers alive.
    auto batch = std::make_shared<std::vector<out_buffer>>(std::move(c->queued));
    c->queued.clear();
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(batch->size());
    std::size_t total = 0;
    for (const out_buffer& b : *batch) {
        buffers.emplace_back(b.bytes.data(), b.bytes.size());
        total += b.bytes.size();
    }
    asio::async_write(c->socket, buffers,
                      [this, id, c, batch, total](const asio::error_code& ec, std::size_t) {
                          c->writing = false;
                          if (c->closed) {
                              return;
                          }
                          if (ec) {
                              lost(id, ec.message());
                              pump();
                              return;
                          }
                          if (!c->close_after_writes) {
                              host_.on_send_done(runtime_now(), id, total);
                          }
                          start_write(id);
                          pump();
                      });
}

void host_runtime::close(const io::close& request) {
    auto it = connections_.find(request.conn);
    if (it == connections_.end()) {
        return;
    }
    auto c = it->second;
    if (!request.flush || !c->connected || (!c->writing && c->queued.empty())) {
        drop(request.conn);
        return;
    }
    c->close_after_writes = true;
    c->linger.expires_after(config_.flush_close_timeout);
    c->linger.async_wait([this, id = request.conn, c](const asio::error_code& ec) {
        if (!ec && !c->closed) {
            drop(id);  // the peer does not read: give up on the rest
        }
    });
}

// Closes the socket; the host is not told (it asked, or is told by the caller).
void host_runtime::drop(conn_id id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) {
        return;
    }
    connection& c = *it->second;
    c.closed = true;
    asio::error_code ignored;
    c.linger.cancel();
    c.socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    c.socket.close(ignored);
    connections_.erase(it);
}

void host_runtime::lost(conn_id id, const std::string& reason) {
    drop(id);
    host_.on_closed(runtime_now(), id, reason);
}

// ---- UDP ----

void host_runtime::wait_udp() {
    udp_.async_wait(asio::socket_base::wait_read, [this](const asio::error_code& ec) {
        if (ec == asio::error::operation_aborted || !udp_.is_open()) {
            return;
        }
        read_udp();
        wait_udp();
    });
}

void host_runtime::read_udp() {
    udp_buffers& b = *udp_buffers_;
    const auto batch = static_cast<unsigned>(b.headers.size());
    for (unsigned round = 0; round < config_.udp_batches_per_wakeup; ++round) {
        for (unsigned i = 0; i < batch; ++i) {
            b.iov[i] = {b.data.data() + i * udp_buffers::datagram_max, udp_buffers::datagram_max};
            b.headers[i] = {};
            b.headers[i].msg_hdr.msg_name = &b.addresses[i];
            b.headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
            b.headers[i].msg_hdr.msg_iov = &b.iov[i];
            b.headers[i].msg_hdr.msg_iovlen = 1;
        }
        const int n = ::recvmmsg(udp_.native_handle(), b.headers.data(), batch, MSG_DONTWAIT, nullptr);
        if (n <= 0) {
            break;
        }
        const time_point now = runtime_now();
        for (int i = 0; i < n; ++i) {
            const auto at = static_cast<std::size_t>(i);
            if (const auto from = from_sockaddr(b.addresses[at])) {
                ++counters_.datagrams_in;
                host_.on_datagram(
                    now, *from,
                    byte_view(b.data.data() + at * udp_buffers::datagram_max, b.headers[at].msg_len));
            }
        }
        pump();
        if (static_cast<unsigned>(n) < batch) {
            break;
        }
    }
}

void host_runtime::flush_datagrams() {
    if (!udp_.is_open()) {
        counters_.udp_send_failures += outgoing_.size();
        outgoing_.clear();
        return;
    }
    udp_buffers& b = *udp_buffers_;
    std::size_t at = 0;
    while (at < outgoing_.size()) {
        const std::size_t count = std::min(outgoing_.size() - at, b.send_headers.size());
        for (std::size_t i = 0; i < count; ++i) {
            io::datagram& d = outgoing_[at + i];
            b.send_iov[i] = {d.bytes.data(), d.bytes.size()};
            b.send_headers[i] = {};
            b.send_headers[i].msg_hdr.msg_name = &b.send_addresses[i];
            b.send_headers[i].msg_hdr.msg_namelen = to_sockaddr(d.to, b.send_addresses[i]);
            b.send_headers[i].msg_hdr.msg_iov = &b.send_iov[i];
            b.send_headers[i].msg_hdr.msg_iovlen = 1;
        }
        std::size_t sent = 0;
        while (sent < count) {
            const int n = ::sendmmsg(udp_.native_handle(), b.send_headers.data() + sent,
                                     static_cast<unsigned>(count - sent), MSG_DONTWAIT);
            if (n > 0) {
                sent += static_cast<std::size_t>(n);
                counters_.datagrams_out += static_cast<std::size_t>(n);
                continue;
            }
            // A full send buffer or an unreachable address: that datagram is lost, as UDP allows.
            ++counters_.udp_send_failures;
            ++sent;
        }
        at += count;
    }
    outgoing_.clear();
}

// ---- the pump and the timer ----

void host_runtime::pump() {
    if (pumping_) {
        return;  // called from inside pump(): the outer loop picks the outputs up
    }
    pumping_ = true;
    bool more = true;
    while (more) {
        more = false;
        const time_point now = runtime_now();
        while (auto id = host_.poll_ready()) {
            more = true;
            if (owner_ != nullptr) {
                owner_->on_ready(now, *id);
            }
        }
        if (owner_ != nullptr && owner_->on_pump(now)) {
            more = true;
        }
        while (auto t = host_.poll_transmit()) {
            more = true;
            if (auto* d = std::get_if<io::datagram>(&*t)) {
                outgoing_.push_back(std::move(*d));
            } else if (auto* s = std::get_if<io::send>(&*t)) {
                queue_send(std::move(*s));
            } else if (auto* c = std::get_if<io::connect>(&*t)) {
                dial(*c);
            } else {
                close(std::get<io::close>(*t));
            }
        }
        while (auto job = host_.poll_disk_job()) {
            more = true;
            run_disk_job(std::move(*job));
        }
        while (auto query = host_.poll_resolve()) {
            more = true;
            resolve(std::move(*query));
        }
    }
    if (!outgoing_.empty()) {
        flush_datagrams();
    }
    pumping_ = false;
    arm_timer();
}

void host_runtime::arm_timer() {
    std::optional<time_point> next = host_.next_timer();
    if (owner_ != nullptr) {
        if (auto own = owner_->next_timer(); own && (!next || *own < *next)) {
            next = own;
        }
    }
    if (next == timer_at_) {
        return;
    }
    timer_at_ = next;
    if (!next) {
        timer_.cancel();
        return;
    }
    timer_.expires_at(std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(next->time_since_epoch())));
    timer_.async_wait([this](const asio::error_code& ec) {
        if (ec == asio::error::operation_aborted) {
            return;
        }
        timer_at_.reset();
        const time_point now = runtime_now();
        if (auto due = host_.next_timer(); due && *due <= now) {
            host_.on_timer(now);
        }
        if (owner_ != nullptr) {
            if (auto due = owner_->next_timer(); due && *due <= now) {
                owner_->on_timer(now);
            }
        }
        pump();
    });
}

}  // namespace hyphae
