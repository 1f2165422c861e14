#pragma once
// A fixed-size set of piece indices, as the peer wire sends it: bit 0 is the high bit of byte 0
// (BEP 3), and the spare bits of the last byte must be zero.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "hyphae/core/bytes.hpp"

namespace hyphae {

class bitfield {
public:
    bitfield() = default;
    explicit bitfield(std::size_t size, bool value = false);

    // Empty when `bytes` is not ceil(size / 8) long or a spare bit is set.
    static std::optional<bitfield> from_wire(byte_view bytes, std::size_t size);
    byte_view wire() const { return {bytes_.data(), bytes_.size()}; }

    std::size_t size() const { return size_; }
    std::size_t count() const { return count_; }
    bool all() const { return count_ == size_; }
    bool none() const { return count_ == 0; }

    bool test(std::size_t index) const { return (bytes_[index >> 3] & (0x80u >> (index & 7))) != 0; }
    void set(std::size_t index);
    void reset(std::size_t index);
    void set_all();

    friend bool operator==(const bitfield& a, const bitfield& b) {
        return a.size_ == b.size_ && a.bytes_ == b.bytes_;
    }

private:
    std::size_t size_ = 0;
    std::size_t count_ = 0;
    std::vector<std::uint8_t> bytes_;
};

}  // namespace hyphae
