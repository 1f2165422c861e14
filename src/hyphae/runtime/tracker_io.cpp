// The runtime's side of tracker exchanges: DNS, HTTP over TCP (our own sans-I/O HTTP codec), and
// one UDP socket per exchange, as tracker_client's contract asks.

#include "hyphae/core/http/http_format.hpp"
#include "hyphae/core/http/http_response_parser.hpp"
#include "hyphae/runtime/node_runtime.hpp"

namespace hyphae {
using namespace hyphae::bittorrent;
using namespace hyphae::http;
using namespace hyphae::tracker;

struct node_runtime::http_exchange {
    explicit http_exchange(asio::io_context& io) : socket(io), resolver(io) {}
    asio::ip::tcp::socket socket;
    asio::ip::tcp::resolver resolver;
    std::string request;
    http_response_parser parser;
    std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(16 * 1024);
    bool done = false;
};

struct node_runtime::udp_exchange {
    explicit udp_exchange(asio::io_context& io) : socket(io), resolver(io) {}
    asio::ip::udp::socket socket;
    asio::ip::udp::resolver resolver;
    std::optional<asio::ip::udp::endpoint> remote;
    std::vector<byte_buffer> waiting;  // datagrams queued while the name resolves
    std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(2048);
    bool resolving = false;
    bool done = false;
};

void node_runtime::run_tracker_request(node_tracker_request request) {
    const std::uint64_t id = request.id;
    if (auto* get = std::get_if<http_get>(&request.action)) {
        start_http(id, *get);
    } else if (auto* datagram = std::get_if<udp_datagram>(&request.action)) {
        send_udp(id, *datagram);
    } else {
        // Released: whatever is still open for this id goes.
        if (auto it = http_.find(id); it != http_.end()) {
            it->second->done = true;
            asio::error_code ec;
            it->second->resolver.cancel();
            it->second->socket.close(ec);
            http_.erase(it);
        }
        if (auto it = udp_.find(id); it != udp_.end()) {
            it->second->done = true;
            asio::error_code ec;
            it->second->resolver.cancel();
            it->second->socket.close(ec);
            udp_.erase(it);
        }
    }
}

void node_runtime::tracker_failed(std::uint64_t id, const std::string& reason) {
    node_.on_tracker_failed(runtime_now(), id, reason);
    pump();
}

void node_runtime::start_http(std::uint64_t id, const http_get& get) {
    auto ex = std::make_shared<http_exchange>(io_);
    auto request = format_request("GET", get.host_header, get.target,
                                  {{"User-Agent", "Hyphae/" HYPHAE_RUNTIME_VERSION},
                                   {"Connection", "close"},
                                   {"Accept-Encoding", "identity"}});
    if (!request) {
        asio::post(io_, [this, id, why = request.error().message()] { tracker_failed(id, why); });
        return;
    }
    ex->request = std::move(*request);
    http_[id] = ex;
    ex->resolver.async_resolve(
        get.host, std::to_string(get.port),
        [this, id, ex](const asio::error_code& ec, const asio::ip::tcp::resolver::results_type& results) {
            if (ex->done) {
                return;
            }
            if (ec) {
                return tracker_failed(id, "cannot resolve: " + ec.message());
            }
            asio::async_connect(
                ex->socket, results, [this, id, ex](const asio::error_code& cec, const auto&) {
                    if (ex->done) {
                        return;
                    }
                    if (cec) {
                        return tracker_failed(id, "cannot connect: " + cec.message());
                    }
                    asio::async_write(ex->socket, asio::buffer(ex->request),
                                      [this, id, ex](const asio::error_code& wec, std::size_t) {
                                          if (ex->done) {
                                              return;
                                          }
                                          if (wec) {
                                              return tracker_failed(id, "cannot send: " + wec.message());
                                          }
                                          read_http(id);
                                      });
                });
        });
}

void node_runtime::read_http(std::uint64_t id) {
    auto it = http_.find(id);
    if (it == http_.end()) {
        return;
    }
    auto ex = it->second;
    ex->socket.async_read_some(
        asio::buffer(ex->buffer), [this, id, ex](const asio::error_code& ec, std::size_t n) {
            if (ex->done) {
                return;
            }
            result<void> fed = ec ? ex->parser.finish() : ex->parser.feed(byte_view(ex->buffer.data(), n));
            if (!fed) {
                ex->done = true;
                return tracker_failed(id, fed.error().message());
            }
            if (auto response = ex->parser.poll_response()) {
                ex->done = true;
                asio::error_code ignored;
                ex->socket.close(ignored);
                node_.on_tracker_http_response(runtime_now(), id, response->status, as_bytes(response->body));
                pump();
                return;
            }
            if (ec) {
                ex->done = true;
                return tracker_failed(
                    id, ec == asio::error::eof ? "connection closed before a response" : ec.message());
            }
            read_http(id);
        });
}

void node_runtime::send_udp(std::uint64_t id, const udp_datagram& datagram) {
    auto& ex = udp_[id];
    if (!ex) {
        ex = std::make_shared<udp_exchange>(io_);
    }
    if (ex->remote) {
        ex->socket.async_send_to(
            asio::buffer(datagram.payload), *ex->remote,
            [keep = ex, payload = datagram.payload](const asio::error_code&, std::size_t) {});
        return;
    }
    ex->waiting.push_back(datagram.payload);
    if (ex->resolving) {
        return;
    }
    ex->resolving = true;
    auto shared = ex;
    ex->resolver.async_resolve(
        datagram.host, std::to_string(datagram.port),
        [this, id, shared](const asio::error_code& ec, const asio::ip::udp::resolver::results_type& results) {
            if (shared->done) {
                return;
            }
            if (ec || results.empty()) {
                return tracker_failed(id,
                                      "cannot resolve: " + (ec ? ec.message() : std::string("no address")));
            }
            const asio::ip::udp::endpoint remote = *results.begin();
            asio::error_code oec;
            shared->socket.open(remote.protocol(), oec);
            // Bound like the peer listener, so a node on 127.0.0.1 talks from 127.0.0.1 only.
            const auto local = asio::ip::make_address(config_.bind_address, oec);
            if (!oec && !local.is_unspecified() && local.is_v4() == remote.address().is_v4()) {
                shared->socket.bind(asio::ip::udp::endpoint(local, 0), oec);
            }
            if (oec) {
                return tracker_failed(id, "cannot open a UDP socket: " + oec.message());
            }
            shared->remote = remote;
            for (const byte_buffer& payload : shared->waiting) {
                shared->socket.async_send_to(
                    asio::buffer(payload), remote,
                    [keep = shared, payload](const asio::error_code&, std::size_t) {});
            }
            shared->waiting.clear();
            read_udp(id);
        });
}

void node_runtime::read_udp(std::uint64_t id) {
    auto it = udp_.find(id);
    if (it == udp_.end()) {
        return;
    }
    auto ex = it->second;
    auto from = std::make_shared<asio::ip::udp::endpoint>();
    ex->socket.async_receive_from(
        asio::buffer(ex->buffer), *from, [this, id, ex, from](const asio::error_code& ec, std::size_t n) {
            if (ex->done || ec == asio::error::operation_aborted) {
                return;
            }
            if (!ec && *from == *ex->remote) {
                node_.on_tracker_datagram(runtime_now(), id, byte_view(ex->buffer.data(), n));
                pump();
            }
            // Errors (an ICMP port unreachable, say) are left to the
            // client's retransmit timer, as BEP 15 expects.
            if (!ex->done) {
                read_udp(id);
            }
        });
}

}  // namespace hyphae
