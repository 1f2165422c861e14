#include "hyphae/proto/dht/node_id_policy.hpp"

#include <array>

#include "hyphae/core/crc32c.hpp"

namespace hyphae::dht {

std::uint32_t node_id_prefix(const ip_address& address, std::uint8_t r) {
    const ip_address a = address.unmapped();
    const byte_view ip = a.bytes();
    static constexpr std::array<std::uint8_t, 8> v4_mask{0x03, 0x0f, 0x3f, 0xff};
    static constexpr std::array<std::uint8_t, 8> v6_mask{0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff};
    const std::size_t length = a.is_v4() ? 4 : 8;
    const std::array<std::uint8_t, 8>& mask = a.is_v4() ? v4_mask : v6_mask;
    // Big-endian bytes: masking byte by byte and or-ing r into the top 3 bits of the first byte
    // is the BEP's arithmetic on a 32- or 64-bit integer.
    std::array<std::uint8_t, 8> masked{};
    for (std::size_t i = 0; i < length; ++i) {
        masked[i] = ip[i] & mask[i];
    }
    masked[0] = static_cast<std::uint8_t>(masked[0] | (r & 7) << 5);
    return crc32c(byte_view(masked.data(), length));
}

node_id make_node_id(const ip_address& external, std::uint8_t last_byte, rng& random) {
    const std::uint32_t prefix = node_id_prefix(external, last_byte);
    node_id id;
    // Bytes taken from the words by shifts, not memcpy, so a seed gives one id on every platform.
    std::uint64_t word = 0;
    for (std::size_t at = 2; at < 19; ++at) {
        if ((at - 2) % 8 == 0) {
            word = random();
        }
        id.bytes[at] = static_cast<std::uint8_t>(word >> (8 * ((at - 2) % 8)));
    }
    id.bytes[0] = static_cast<std::uint8_t>(prefix >> 24);
    id.bytes[1] = static_cast<std::uint8_t>(prefix >> 16);
    id.bytes[2] = static_cast<std::uint8_t>((prefix >> 8 & 0xf8) | (id.bytes[2] & 0x07));
    id.bytes[19] = last_byte;
    return id;
}

node_id make_node_id(const ip_address& external, rng& random) {
    const auto last_byte = static_cast<std::uint8_t>(random());
    return make_node_id(external, last_byte, random);
}

bool verify_node_id(const node_id& id, const ip_address& address) {
    if (is_exempt(address)) {
        return true;
    }
    const std::uint32_t prefix = node_id_prefix(address, id.bytes[19]);
    return id.bytes[0] == static_cast<std::uint8_t>(prefix >> 24) &&
           id.bytes[1] == static_cast<std::uint8_t>(prefix >> 16) &&
           ((id.bytes[2] ^ (prefix >> 8)) & 0xf8) == 0;
}

bool is_exempt(const ip_address& address) {
    const ip_address a = address.unmapped();
    const byte_view b = a.bytes();
    if (a.is_v4()) {
        return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
               (b[0] == 169 && b[1] == 254) || b[0] == 127;
    }
    return a.is_loopback() || (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

}  // namespace hyphae::dht
