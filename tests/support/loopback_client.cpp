#include "loopback_client.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hyphae::test {
using namespace hyphae::http;
namespace {

sockaddr_in loopback(std::uint16_t port, const char* address = "127.0.0.1") {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, address, &a.sin_addr);
    return a;
}

bool wait_readable(int fd, std::chrono::steady_clock::time_point until) {
    while (true) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r > 0) {
            return true;
        }
        if (r < 0 && errno != EINTR) {
            return false;
        }
    }
}

}  // namespace

tcp_client::tcp_client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const sockaddr_in a = loopback(port);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

tcp_client::~tcp_client() {
    ::close(fd_);
}

void tcp_client::send(std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) {
            return;  // the server closed: what it answered can still be read
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::optional<http_response> tcp_client::read_response(std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (true) {
        if (auto r = parser_.poll_response()) {
            return r;
        }
        if (!wait_readable(fd_, until)) {
            return std::nullopt;
        }
        char buffer[65536];
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) {
            (void)parser_.finish();
            return parser_.poll_response();
        }
        if (!parser_.feed(
                byte_view(reinterpret_cast<const std::uint8_t*>(buffer), static_cast<std::size_t>(n)))) {
            return parser_.poll_response();
        }
    }
}

bool tcp_client::closed_by_server(std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (wait_readable(fd_, until)) {
        char buffer[4096];
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) {
            return true;
        }
        (void)parser_.feed(
            byte_view(reinterpret_cast<const std::uint8_t*>(buffer), static_cast<std::size_t>(n)));
    }
    return false;
}

std::optional<http_response> http_get(std::uint16_t port, const std::string& target) {
    tcp_client c(port);
    c.send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    return c.read_response();
}

udp_client::udp_client(const std::string& local_address) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    const sockaddr_in a = loopback(0, local_address.c_str());
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        throw std::runtime_error("cannot bind a UDP socket to " + local_address);
    }
}

udp_client::~udp_client() {
    ::close(fd_);
}

void udp_client::send(std::uint16_t port, byte_view datagram) {
    const sockaddr_in a = loopback(port);
    ::sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof a);
}

std::optional<byte_buffer> udp_client::receive(std::chrono::milliseconds deadline) {
    if (!wait_readable(fd_, std::chrono::steady_clock::now() + deadline)) {
        return std::nullopt;
    }
    byte_buffer out(65536);
    const ssize_t n = ::recv(fd_, out.data(), out.size(), 0);
    if (n < 0) {
        return std::nullopt;
    }
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::optional<byte_buffer> udp_client::exchange(std::uint16_t port, byte_view datagram,
                                                std::chrono::milliseconds deadline) {
    send(port, datagram);
    return receive(deadline);
}

std::uint16_t udp_client::local_port() const {
    sockaddr_in a{};
    socklen_t size = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &size);
    return ntohs(a.sin_port);
}

}  // namespace hyphae::test
