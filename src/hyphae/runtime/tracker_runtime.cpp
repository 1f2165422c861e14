#include "hyphae/runtime/tracker_runtime.hpp"

#include <array>
#include <cerrno>
#include <deque>

#include <sys/socket.h>

#include "hyphae/runtime/socket_address.hpp"

namespace hyphae {
using namespace hyphae::tracker;

struct tracker_runtime::connection {
    explicit connection(asio::ip::tcp::socket s) : socket(std::move(s)) {}
    asio::ip::tcp::socket socket;
    std::vector<std::uint8_t> read_buffer;
    std::deque<out_buffer> writes;
    bool writing = false;
    bool close_after_writes = false;
    bool closed = false;
};

// Requests are at most 16 + 20 * 74 bytes (a full scrape) plus BEP 41 options: 4 KiB holds any
// real one, and a longer datagram is cut short and then refused by the codec.
struct tracker_runtime::udp_batch_buffers {
    static constexpr std::size_t datagram_max = 4096;
    explicit udp_batch_buffers(unsigned batch)
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

tracker_runtime::tracker_runtime(tracker_server& core, const tracker_runtime_config& config)
    : core_(core),
      config_(config),
      acceptor_(io_),
      udp_(io_),
      timer_(io_),
      udp_buffers_(std::make_unique<udp_batch_buffers>(std::max(config.udp_batch, 1u))) {}

tracker_runtime::~tracker_runtime() = default;

result<void> tracker_runtime::open() {
    asio::error_code ec;
    const auto address = asio::ip::make_address(config_.bind_address, ec);
    if (ec) {
        return fail(errc::invalid_argument, "tracker", "'" + config_.bind_address + "' is not an IP address");
    }
    if (config_.http_port) {
        const asio::ip::tcp::endpoint ep(address, *config_.http_port);
        acceptor_.open(ep.protocol(), ec);
        if (!ec) {
            acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
            acceptor_.bind(ep, ec);
        }
        if (!ec) {
            acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        }
        if (ec) {
            return fail(errc::io,
                        "http on " + config_.bind_address + ":" + std::to_string(*config_.http_port),
                        ec.message());
        }
        http_endpoint_ = from_asio(acceptor_.local_endpoint());
        accept();
    }
    if (config_.udp_port) {
        const asio::ip::udp::endpoint ep(address, *config_.udp_port);
        udp_.open(ep.protocol(), ec);
        if (!ec) {
            udp_.bind(ep, ec);
        }
        if (!ec) {
            udp_.non_blocking(true, ec);
        }
        if (ec) {
            return fail(errc::io, "udp on " + config_.bind_address + ":" + std::to_string(*config_.udp_port),
                        ec.message());
        }
        // Larger kernel buffers ride out bursts; the kernel may grant less, which is no error.
        asio::error_code ignored;
        udp_.set_option(asio::socket_base::receive_buffer_size(config_.socket_buffer_bytes), ignored);
        udp_.set_option(asio::socket_base::send_buffer_size(config_.socket_buffer_bytes), ignored);
        udp_endpoint_ = from_asio(udp_.local_endpoint());
        wait_udp();
    }
    return {};
}

void tracker_runtime::run() {
    pump();
    io_.run();
}

// UDP

void tracker_runtime::wait_udp() {
    udp_.async_wait(asio::socket_base::wait_read, [this](const asio::error_code& ec) {
        if (ec == asio::error::operation_aborted) {
            return;
        }
        read_udp();
        wait_udp();
    });
}

void tracker_runtime::read_udp() {
    udp_batch_buffers& b = *udp_buffers_;
    const unsigned batch = static_cast<unsigned>(b.headers.size());
    for (unsigned round = 0; round < config_.udp_batches_per_wakeup; ++round) {
        for (unsigned i = 0; i < batch; ++i) {
            b.iov[i] = {b.data.data() + i * udp_batch_buffers::datagram_max, udp_batch_buffers::datagram_max};
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
            const auto from = from_sockaddr(b.addresses[static_cast<std::size_t>(i)]);
            if (from) {
                core_.on_datagram(
                    now, *from,
                    byte_view(b.data.data() + static_cast<std::size_t>(i) * udp_batch_buffers::datagram_max,
                              b.headers[static_cast<std::size_t>(i)].msg_len));
            }
        }
        pump();
        if (static_cast<unsigned>(n) < batch) {
            break;
        }
    }
}

void tracker_runtime::flush_datagrams() {
    udp_batch_buffers& b = *udp_buffers_;
    std::size_t at = 0;
    while (at < outgoing_.size()) {
        const std::size_t count = std::min(outgoing_.size() - at, b.headers.size());
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
                continue;
            }
            // A full send buffer or an unreachable address: that datagram is lost, as UDP allows;
            // the client retransmits.
            ++counters_.udp_send_failures;
            ++sent;
        }
        at += count;
    }
    outgoing_.clear();
}

// HTTP

void tracker_runtime::accept() {
    acceptor_.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket socket) {
        if (ec == asio::error::operation_aborted) {
            return;
        }
        if (!ec) {
            asio::error_code remote_ec;
            const auto remote = socket.remote_endpoint(remote_ec);
            if (!remote_ec) {
                socket.set_option(asio::ip::tcp::no_delay(true), remote_ec);
                const std::uint64_t id = next_connection_++;
                connections_[id] = std::make_shared<connection>(std::move(socket));
                core_.on_accepted(runtime_now(), id, from_asio(remote));
                start_read(id);
            }
        }
        accept();
        pump();
    });
}

void tracker_runtime::start_read(std::uint64_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) {
        return;
    }
    auto c = it->second;
    c->read_buffer.resize(config_.read_buffer_size);
    c->socket.async_read_some(
        asio::buffer(c->read_buffer), [this, id, c](const asio::error_code& ec, std::size_t n) {
            if (c->closed) {
                return;
            }
            if (ec) {
                lost(id);
                return;
            }
            core_.on_stream_bytes(runtime_now(), id, byte_view(c->read_buffer.data(), n));
            pump();
            start_read(id);
        });
}

void tracker_runtime::write_next(std::uint64_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) {
        return;
    }
    auto c = it->second;
    if (c->writing || c->closed) {
        return;
    }
    if (c->writes.empty()) {
        if (c->close_after_writes) {
            close(id);
        }
        return;
    }
    c->writing = true;
    auto batch = std::make_shared<std::deque<out_buffer>>(std::move(c->writes));
    c->writes.clear();
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(batch->size());
    for (const out_buffer& b : *batch) {
        buffers.emplace_back(b.bytes.data(), b.bytes.size());
    }
    asio::async_write(c->socket, buffers, [this, id, c, batch](const asio::error_code& ec, std::size_t) {
        c->writing = false;
        if (c->closed) {
            return;
        }
        if (ec) {
            lost(id);
            return;
        }
        write_next(id);
    });
}

void tracker_runtime::lost(std::uint64_t id) {
    close(id);
    core_.on_closed(runtime_now(), id, "closed by the peer");
    pump();
}

void tracker_runtime::close(std::uint64_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) {
        return;
    }
    connection& c = *it->second;
    c.closed = true;
    asio::error_code ec;
    c.socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    c.socket.close(ec);
    connections_.erase(it);
}

// Both

void tracker_runtime::pump() {
    while (auto t = core_.poll_transmit()) {
        if (auto* d = std::get_if<io::datagram>(&*t)) {
            outgoing_.push_back(std::move(*d));
        } else if (auto* w = std::get_if<io::send>(&*t)) {
            auto it = connections_.find(w->conn);
            if (it != connections_.end()) {
                for (out_buffer& b : w->data) {
                    it->second->writes.push_back(std::move(b));
                }
                write_next(w->conn);
            }
        } else if (auto* x = std::get_if<io::close>(&*t)) {
            auto it = connections_.find(x->conn);
            if (x->flush && it != connections_.end()) {
                it->second->close_after_writes = true;
                write_next(x->conn);
            } else {
                close(x->conn);
            }
        }
        // The tracker dials nobody: it makes no io::connect.
    }
    if (!outgoing_.empty()) {
        flush_datagrams();
    }
    while (auto notice = core_.poll_event()) {
        if (on_notice) {
            on_notice(*notice);
        }
    }
    arm_timer();
}

void tracker_runtime::arm_timer() {
    const auto next = core_.next_timer();
    if (next == timer_at_) {
        return;
    }
    timer_at_ = next;
    if (!next) {
        timer_.cancel();
        return;
    }
    timer_.expires_after(std::max(duration::zero(), *next - runtime_now()));
    timer_.async_wait([this](const asio::error_code& ec) {
        if (ec == asio::error::operation_aborted) {
            return;
        }
        timer_at_.reset();
        core_.on_timer(runtime_now());
        pump();
    });
}

}  // namespace hyphae
