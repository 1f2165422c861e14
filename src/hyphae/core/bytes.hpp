#pragma once
// Byte views and buffers shared by every codec. Network bytes are uint8_t; text views over the
// same memory are std::string_view, converted without copies.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hyphae {

using byte_view = std::span<const std::uint8_t>;
using byte_buffer = std::vector<std::uint8_t>;

inline byte_view as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

inline byte_view as_bytes(const byte_buffer& bytes) {
    return bytes;
}

inline byte_buffer to_buffer(std::string_view text) {
    const byte_view bytes = as_bytes(text);
    return byte_buffer(bytes.begin(), bytes.end());
}

inline std::string_view as_chars(byte_view bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace hyphae
