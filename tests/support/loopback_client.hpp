#pragma once
// Plain blocking clients for tests that talk to a server on 127.0.0.1: an HTTP/1.1 exchange on a
// TCP connection (read with Hyphae's own response parser) and a UDP request/response, each with a
// deadline, never a sleep.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/http/http_message.hpp"
#include "hyphae/core/http/http_response_parser.hpp"

namespace hyphae::test {

class tcp_client {
public:
    // Connects to 127.0.0.1:port; throws if it cannot.
    explicit tcp_client(std::uint16_t port);
    ~tcp_client();
    tcp_client(const tcp_client&) = delete;
    tcp_client& operator=(const tcp_client&) = delete;

    void send(std::string_view bytes);
    // The next response; empty on a deadline or when the server closed first.
    std::optional<http::http_response> read_response(
        std::chrono::milliseconds deadline = std::chrono::seconds(10));
    // True once the server has closed the connection (waits up to the deadline).
    bool closed_by_server(std::chrono::milliseconds deadline = std::chrono::seconds(10));

private:
    int fd_ = -1;
    http::http_response_parser parser_;
};

// GET `target` on a fresh connection ("Connection: close").
std::optional<http::http_response> http_get(std::uint16_t port, const std::string& target);

class udp_client {
public:
    // Bound to `local_address` (another 127/8 address stands for another host).
    explicit udp_client(const std::string& local_address = "127.0.0.1");
    ~udp_client();
    udp_client(const udp_client&) = delete;
    udp_client& operator=(const udp_client&) = delete;

    void send(std::uint16_t port, byte_view datagram);
    std::optional<byte_buffer> receive(std::chrono::milliseconds deadline = std::chrono::seconds(5));
    std::optional<byte_buffer> exchange(std::uint16_t port, byte_view datagram,
                                        std::chrono::milliseconds deadline = std::chrono::seconds(5));
    std::uint16_t local_port() const;

private:
    int fd_ = -1;
};

}  // namespace hyphae::test
