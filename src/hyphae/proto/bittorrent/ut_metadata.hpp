#pragma once
// BEP 9 ut_metadata messages: fetch the info dictionary from peers in 16 KiB pieces, for magnet
// links. A data message is a bencoded header followed by the raw piece bytes.

#include <cstdint>
#include <optional>
#include <string>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/error.hpp"

namespace hyphae::bittorrent::wire {

inline constexpr std::size_t metadata_piece_size = 16 * 1024;

enum class metadata_type : std::uint8_t { request = 0, data = 1, reject = 2 };

struct metadata_message {
    metadata_type type = metadata_type::request;
    std::uint32_t piece = 0;
    std::optional<std::int64_t> total_size;  // data messages
    byte_view data;                          // data messages: a view into the payload
};

result<metadata_message> parse_metadata_message(byte_view payload);
std::string encode_metadata_request(std::uint32_t piece);
std::string encode_metadata_reject(std::uint32_t piece);
std::string encode_metadata_data(std::uint32_t piece, std::int64_t total_size, byte_view data);

}  // namespace hyphae::bittorrent::wire
