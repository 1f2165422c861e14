#pragma once
// Conversions between the cores' endpoints and the socket layer's: Asio endpoints (TCP or UDP)
// and the raw sockaddr that recvmmsg/sendmmsg use.

#include <optional>

#include <asio.hpp>
#include <sys/socket.h>

#include "hyphae/core/endpoint.hpp"

namespace hyphae {

asio::ip::address to_asio_address(const ip_address& address);
ip_address from_asio_address(const asio::ip::address& address);

template <class AsioEndpoint>
endpoint from_asio(const AsioEndpoint& ep) {
    return endpoint{from_asio_address(ep.address()), ep.port()};
}

template <class AsioEndpoint>
AsioEndpoint to_asio(const endpoint& ep) {
    return AsioEndpoint(to_asio_address(ep.address), ep.port);
}

// Empty for a family other than IPv4 and IPv6.
std::optional<endpoint> from_sockaddr(const sockaddr_storage& address);
// The size of the address written.
socklen_t to_sockaddr(const endpoint& ep, sockaddr_storage& out);

}  // namespace hyphae
