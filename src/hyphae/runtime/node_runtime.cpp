#include "hyphae/runtime/node_runtime.hpp"

#include <deque>

#include "hyphae/runtime/socket_address.hpp"

namespace hyphae {
using namespace hyphae::bittorrent;

struct node_runtime::connection {
    explicit connection(asio::io_context& io) : socket(io) {}
    asio::ip::tcp::socket socket;
    std::vector<std::uint8_t> read_buffer;
    std::deque<node_transmit> writes;
    bool connected = false;  // outgoing sockets: only once the connect has completed
    bool writing = false;
    bool closed = false;
};

node_runtime::node_runtime(node& n, const runtime_config& config)
    : node_(n),
      config_(config),
      acceptor_(io_),
      timer_(io_),
      disk_(std::make_unique<disk_pool>(config.disk_threads)),
      dht_socket_(io_) {}

node_runtime::~node_runtime() {
    // Disk threads may still hold storage: finish them before anything they use goes.
    disk_.reset();
}

result<std::uint16_t> node_runtime::listen() {
    asio::error_code ec;
    const auto address = asio::ip::make_address(config_.bind_address, ec);
    if (ec) {
        return fail(errc::invalid_argument, "listen", "'" + config_.bind_address + "' is not an IP address");
    }
    const asio::ip::tcp::endpoint ep(address, config_.listen_port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) {
        acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
        acceptor_.bind(ep, ec);
    }
    if (!ec) {
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return fail(errc::io, "listen on " + config_.bind_address + ":" + std::to_string(config_.listen_port),
                    ec.message());
    }
    const std::uint16_t port = acceptor_.local_endpoint().port();
    if (node_.has_dht()) {
        // Without its UDP port the node still shares through trackers and known peers.
        if (auto opened = open_dht(address, port); !opened) {
            dht_error_ = opened.error().message();
        }
    }
    node_.set_listen_port(port);
    accept();
    return port;
}

result<void> node_runtime::open_dht(const asio::ip::address& address, std::uint16_t port) {
    asio::error_code ec;
    const asio::ip::udp::endpoint ep(address, port);
    dht_socket_.open(ep.protocol(), ec);
    if (!ec) {
        dht_socket_.bind(ep, ec);
    }
    if (ec) {
        return fail(errc::io, "dht: bind udp " + config_.bind_address + ":" + std::to_string(port),
                    ec.message());
    }
    dht_socket_.non_blocking(true, ec);
    dht_buffer_.resize(4096);
    read_dht();
    return {};
}

void node_runtime::read_dht() {
    dht_socket_.async_receive_from(asio::buffer(dht_buffer_), dht_sender_,
                                   [this](const asio::error_code& ec, std::size_t n) {
                                       if (ec == asio::error::operation_aborted || !dht_socket_.is_open()) {
                                           return;
                                       }
                                       if (!ec) {
                                           node_.on_dht_datagram(runtime_now(), from_asio(dht_sender_),
                                                                 byte_view(dht_buffer_.data(), n));
                                           pump();
                                       }
                                       read_dht();
                                   });
}

void node_runtime::attach_storage(torrent_handle t, std::unique_ptr<file_storage> storage) {
    storages_[t] = std::move(storage);
}

file_storage* node_runtime::storage(torrent_handle t) {
    auto it = storages_.find(t);
    return it == storages_.end() ? nullptr : it->second.get();
}

void node_runtime::run() {
    pump();
    io_.run();
}

void node_runtime::accept() {
    acceptor_.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket socket) {
        if (ec == asio::error::operation_aborted) {
            return;
        }
        if (!ec) {
            asio::error_code remote_ec;
            const auto remote = socket.remote_endpoint(remote_ec);
            auto id = remote_ec ? std::nullopt : node_.on_incoming(runtime_now(), from_asio(remote));
            if (id) {
                socket.set_option(asio::ip::tcp::no_delay(true), remote_ec);
                auto c = std::make_shared<connection>(io_);
                c->socket = std::move(socket);
                c->connected = true;
                connections_[*id] = c;
                start_read(*id);
            }
        }
        accept();
        pump();
    });
}

void node_runtime::start_read(socket_id s) {
    auto it = connections_.find(s);
    if (it == connections_.end()) {
        return;
    }
    auto c = it->second;
    c->read_buffer.resize(config_.read_buffer_size);
    c->socket.async_read_some(asio::buffer(c->read_buffer), [this, s, c](const asio::error_code& ec,
                                                                         std::size_t n) {
        if (c->closed) {
            return;
        }
        if (ec) {
            c->closed = true;
            connections_.erase(s);
            node_.on_closed(runtime_now(), s, ec == asio::error::eof ? "closed by the peer" : ec.message());
            pump();
            return;
        }
        node_.on_stream_bytes(runtime_now(), s, byte_view(c->read_buffer.data(), n));
        pump();
        start_read(s);
    });
}

void node_runtime::write_next(socket_id s) {
    auto it = connections_.find(s);
    if (it == connections_.end()) {
        return;
    }
    auto c = it->second;
    if (!c->connected || c->writing || c->writes.empty() || c->closed) {
        return;
    }
    c->writing = true;
    // Everything queued goes in one gathered write; the transmits keep their buffers alive.
    auto batch = std::make_shared<std::deque<node_transmit>>(std::move(c->writes));
    c->writes.clear();
    std::vector<asio::const_buffer> buffers;
    std::size_t total = 0;
    for (const node_transmit& t : *batch) {
        for (const out_buffer& b : t.data) {
            buffers.emplace_back(b.bytes.data(), b.bytes.size());
            total += b.bytes.size();
        }
    }
    asio::async_write(c->socket, buffers,
                      [this, s, c, batch, total](const asio::error_code& ec, std::size_t) {
                          c->writing = false;
                          if (c->closed) {
                              return;
                          }
                          if (ec) {
                              c->closed = true;
                              connections_.erase(s);
                              node_.on_closed(runtime_now(), s, ec.message());
                              pump();
                              return;
                          }
                          node_.on_send_done(runtime_now(), s, total);
                          write_next(s);
                          pump();
                      });
}

void node_runtime::close(socket_id s) {
    auto it = connections_.find(s);
    if (it == connections_.end()) {
        return;
    }
    it->second->closed = true;
    asio::error_code ec;
    it->second->socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    it->second->socket.close(ec);
    connections_.erase(it);
}

void node_runtime::run_on_disk(std::function<void()> work, std::function<void()> done) {
    disk_->submit([this, work = std::move(work), done = std::move(done)]() mutable {
        work();
        asio::post(io_, [this, done = std::move(done)] {
            done();
            pump();
        });
    });
}

void node_runtime::run_disk_job(const node_disk_job& job) {
    file_storage* storage = this->storage(job.torrent);
    auto result = std::make_shared<disk_result>();
    if (storage == nullptr) {
        result->ok = false;
        result->error = "no storage for this torrent";
        asio::post(io_, [this, job, result] {
            node_.on_disk_done(runtime_now(), job.torrent, job.job.id, *result);
            pump();
        });
        return;
    }
    const disk_job j = job.job;
    run_on_disk(
        [storage, j, result] {
            switch (j.what) {
                case disk_job::kind::write: {
                    auto r = storage->write(j.piece, j.begin, byte_view(j.data->data(), j.data->size()));
                    if (!r) {
                        result->ok = false;
                        result->error = r.error().message();
                    }
                    break;
                }
                case disk_job::kind::read: {
                    auto r = storage->read(j.piece, j.begin, j.length);
                    if (!r) {
                        result->ok = false;
                        result->error = r.error().message();
                    } else {
                        result->data = std::make_shared<const std::vector<std::uint8_t>>(std::move(*r));
                    }
                    break;
                }
                case disk_job::kind::hash: {
                    auto r = storage->hash_piece(j.piece);
                    if (!r) {
                        result->ok = false;
                        result->error = r.error().message();
                    } else {
                        result->hash = *r;
                    }
                    break;
                }
            }
        },
        [this, torrent = job.torrent, id = j.id, result] {
            node_.on_disk_done(runtime_now(), torrent, id, *result);
        });
}

void node_runtime::pump() {
    if (pumping_) {
        return;  // a handler called from inside pump(): the outer loop picks its outputs up
    }
    pumping_ = true;
    bool more = true;
    while (more) {
        more = false;
        while (auto t = node_.poll_transmit()) {
            more = true;
            const socket_id s = t->socket;
            if (t->what == node_transmit::kind::connect) {
                auto c = std::make_shared<connection>(io_);
                connections_[s] = c;
                c->socket.async_connect(to_asio<asio::ip::tcp::endpoint>(t->remote),
                                        [this, s, c](const asio::error_code& ec) {
                                            if (c->closed) {
                                                return;
                                            }
                                            if (ec) {
                                                c->closed = true;
                                                connections_.erase(s);
                                                node_.on_closed(runtime_now(), s, "connect: " + ec.message());
                                                pump();
                                                return;
                                            }
                                            asio::error_code ignored;
                                            c->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
                                            c->connected = true;
                                            node_.on_connected(runtime_now(), s);
                                            start_read(s);
                                            write_next(s);
                                            pump();
                                        });
            } else if (t->what == node_transmit::kind::send) {
                auto it = connections_.find(s);
                if (it != connections_.end()) {
                    it->second->writes.push_back(std::move(*t));
                    write_next(s);
                }
            } else {
                close(s);
            }
        }
        while (auto job = node_.poll_disk_job()) {
            more = true;
            run_disk_job(*job);
        }
        while (auto request = node_.poll_tracker_request()) {
            more = true;
            run_tracker_request(std::move(*request));
        }
        while (auto datagram = node_.poll_dht_transmit()) {
            more = true;
            if (dht_socket_.is_open()) {
                asio::error_code ignored;  // a lost datagram is the DHT's everyday business
                dht_socket_.send_to(asio::buffer(datagram->bytes),
                                    to_asio<asio::ip::udp::endpoint>(datagram->to), 0, ignored);
            }
        }
        while (auto e = node_.poll_event()) {
            more = true;
            if (on_event) {
                on_event(*e);
            }
        }
    }
    pumping_ = false;
    arm_timer();
}

void node_runtime::arm_timer() {
    const auto next = node_.next_timer();
    if (!next) {
        timer_.cancel();
        return;
    }
    const auto at = std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(next->time_since_epoch()));
    if (timer_armed_ && timer_.expiry() == at) {
        return;
    }
    timer_.expires_at(at);
    timer_armed_ = true;
    timer_.async_wait([this](const asio::error_code& ec) {
        if (ec) {
            return;
        }
        timer_armed_ = false;
        node_.on_timer(runtime_now());
        pump();
    });
}

}  // namespace hyphae
