#pragma once
// A fuzz input read as a script: bytes, big-endian words and runs of bytes, with zeros past the
// end, for targets that drive a state machine with commands.

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "hyphae/core/bytes.hpp"

struct fuzz_script {
    const std::uint8_t* data;
    std::size_t size;
    std::size_t at = 0;

    bool done() const { return at >= size; }
    std::uint8_t byte() { return at < size ? data[at++] : 0; }
    std::uint32_t u32() {
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            v = v << 8 | byte();
        }
        return v;
    }
    hyphae::byte_view bytes(std::size_t n) {
        n = std::min(n, size - std::min(at, size));
        const hyphae::byte_view out(data + at, n);
        at += n;
        return out;
    }
};
