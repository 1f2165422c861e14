#pragma once
// The BitTorrent handshake (BEP 3): <19>"BitTorrent protocol"<8 reserved><20 info-hash><20 peer id>.
// Reserved bits announce extensions: BEP 10 (byte 5, 0x10), BEP 6 fast (byte 7, 0x04), DHT port
// messages (byte 7, 0x01).

#include <array>
#include <cstdint>
#include <string>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/error.hpp"
#include "hyphae/core/sha.hpp"

namespace hyphae::bittorrent::wire {

inline constexpr std::size_t handshake_size = 68;

struct handshake {
    std::array<std::uint8_t, 8> reserved{};
    sha1_hash info_hash;
    id160 peer_id;

    bool extension_protocol() const { return (reserved[5] & 0x10) != 0; }
    bool fast_extension() const { return (reserved[7] & 0x04) != 0; }
    bool dht() const { return (reserved[7] & 0x01) != 0; }
    void set_extension_protocol() { reserved[5] |= 0x10; }
    void set_fast_extension() { reserved[7] |= 0x04; }
    void set_dht() { reserved[7] |= 0x01; }
};

std::string encode_handshake(const handshake& h);
// `data` must hold at least handshake_size bytes; only the first handshake_size are read.
result<handshake> decode_handshake(byte_view data);

}  // namespace hyphae::bittorrent::wire
