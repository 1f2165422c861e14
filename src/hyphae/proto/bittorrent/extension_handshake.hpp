#pragma once
// The BEP 10 extension handshake (extended message id 0): which extensions a peer speaks and
// under which message ids, plus its listen port, client name, request queue depth and, for
// BEP 9, the size of the info dictionary.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/error.hpp"

namespace hyphae::bittorrent::wire {

inline constexpr std::int64_t metadata_size_max = 32 << 20;

struct extension_handshake {
    std::map<std::string, std::uint8_t, std::less<>> messages;  // "m": name -> id; 0 means disabled
    std::optional<std::uint16_t> listen_port;                   // "p"
    std::string client;                                         // "v"
    std::optional<std::uint32_t> request_queue;                 // "reqq"
    std::optional<std::int64_t> metadata_size;                  // "metadata_size" (BEP 9)
    std::optional<ip_address> your_ip;                          // "yourip"
    bool upload_only = false;                                   // "upload_only" (BEP 21)

    std::uint8_t id_of(std::string_view name) const;  // 0 when the peer does not speak it
};

// Lenient where real clients differ (unsorted keys, unknown entries), strict on types and ranges.
result<extension_handshake> parse_extension_handshake(byte_view payload);
std::string encode_extension_handshake(const extension_handshake& h);

}  // namespace hyphae::bittorrent::wire
