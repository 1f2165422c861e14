#include "hyphae/runtime/socket_address.hpp"

#include <cstring>

#include <netinet/in.h>

namespace hyphae {

asio::ip::address to_asio_address(const ip_address& address) {
    const byte_view b = address.bytes();
    if (address.is_v4()) {
        return asio::ip::address_v4(asio::ip::address_v4::bytes_type{b[0], b[1], b[2], b[3]});
    }
    asio::ip::address_v6::bytes_type bytes{};
    std::copy(b.begin(), b.end(), bytes.begin());
    return asio::ip::address_v6(bytes);
}

ip_address from_asio_address(const asio::ip::address& address) {
    return address.is_v4() ? ip_address::v4(address.to_v4().to_bytes())
                           : ip_address::v6(address.to_v6().to_bytes());
}

std::optional<endpoint> from_sockaddr(const sockaddr_storage& address) {
    if (address.ss_family == AF_INET) {
        sockaddr_in in{};
        std::memcpy(&in, &address, sizeof in);
        std::array<std::uint8_t, 4> bytes{};
        std::memcpy(bytes.data(), &in.sin_addr, 4);
        return endpoint{ip_address::v4(bytes), ntohs(in.sin_port)};
    }
    if (address.ss_family == AF_INET6) {
        sockaddr_in6 in6{};
        std::memcpy(&in6, &address, sizeof in6);
        std::array<std::uint8_t, 16> bytes{};
        std::memcpy(bytes.data(), &in6.sin6_addr, 16);
        return endpoint{ip_address::v6(bytes), ntohs(in6.sin6_port)};
    }
    return std::nullopt;
}

socklen_t to_sockaddr(const endpoint& ep, sockaddr_storage& out) {
    std::memset(&out, 0, sizeof out);
    const byte_view b = ep.address.bytes();
    if (ep.address.is_v4()) {
        sockaddr_in in{};
        in.sin_family = AF_INET;
        in.sin_port = htons(ep.port);
        std::memcpy(&in.sin_addr, b.data(), 4);
        std::memcpy(&out, &in, sizeof in);
        return sizeof in;
    }
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(ep.port);
    std::memcpy(&in6.sin6_addr, b.data(), 16);
    std::memcpy(&out, &in6, sizeof in6);
    return sizeof in6;
}

}  // namespace hyphae
