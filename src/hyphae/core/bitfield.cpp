#include "hyphae/core/bitfield.hpp"

#include <bit>

namespace hyphae {

bitfield::bitfield(std::size_t size, bool value) : size_(size), bytes_((size + 7) / 8, 0) {
    if (value) {
        set_all();
    }
}

std::optional<bitfield> bitfield::from_wire(byte_view bytes, std::size_t size) {
    if (bytes.size() != (size + 7) / 8) {
        return std::nullopt;
    }
    if (size % 8 != 0 && (bytes.back() & (0xffu >> (size % 8))) != 0) {
        return std::nullopt;
    }
    bitfield b;
    b.size_ = size;
    b.bytes_.assign(bytes.begin(), bytes.end());
    for (std::uint8_t byte : b.bytes_) {
        b.count_ += static_cast<std::size_t>(std::popcount(byte));
    }
    return b;
}

void bitfield::set(std::size_t index) {
    std::uint8_t& byte = bytes_[index >> 3];
    const auto mask = static_cast<std::uint8_t>(0x80u >> (index & 7));
    if ((byte & mask) == 0) {
        byte |= mask;
        ++count_;
    }
}

void bitfield::reset(std::size_t index) {
    std::uint8_t& byte = bytes_[index >> 3];
    const auto mask = static_cast<std::uint8_t>(0x80u >> (index & 7));
    if ((byte & mask) != 0) {
        byte = static_cast<std::uint8_t>(byte & ~mask);
        --count_;
    }
}

void bitfield::set_all() {
    for (auto& byte : bytes_) {
        byte = 0xff;
    }
    if (size_ % 8 != 0) {
        bytes_.back() = static_cast<std::uint8_t>(0xff00u >> (size_ % 8));
    }
    count_ = size_;
}

}  // namespace hyphae
