#include "hyphae/core/crc32c.hpp"

#include <array>

namespace hyphae {
namespace {

constexpr std::array<std::uint32_t, 256> make_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int bit = 0; bit < 8; ++bit) {
            c = (c & 1) != 0 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        }
        table[i] = c;
    }
    return table;
}

constexpr std::array<std::uint32_t, 256> table = make_table();

}  // namespace

std::uint32_t crc32c(byte_view data, std::uint32_t previous) {
    std::uint32_t c = ~previous;
    for (const std::uint8_t b : data) {
        c = table[(c ^ b) & 0xffu] ^ (c >> 8);
    }
    return ~c;
}

}  // namespace hyphae
