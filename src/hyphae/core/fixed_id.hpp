#pragma once
// Fixed-size byte identifiers: SHA-1 info-hashes and DHT node ids (20 bytes), SHA-256 digests
// (32 bytes). Ordered as big-endian numbers, which is also the order of XOR distances.

#include <algorithm>
#include <array>
#include <bit>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/encoding.hpp"

namespace hyphae {

template <std::size_t N>
struct fixed_id {
    static constexpr std::size_t size = N;
    std::array<std::uint8_t, N> bytes{};

    // Empty optional unless `data` holds exactly N bytes.
    static std::optional<fixed_id> from_bytes(byte_view data) {
        if (data.size() != N) {
            return std::nullopt;
        }
        fixed_id id;
        std::copy(data.begin(), data.end(), id.bytes.begin());
        return id;
    }
    static std::optional<fixed_id> from_bytes(std::string_view data) { return from_bytes(as_bytes(data)); }

    static std::optional<fixed_id> from_hex(std::string_view text) {
        if (text.size() != 2 * N) {
            return std::nullopt;
        }
        auto raw = hyphae::from_hex(text);
        return raw ? from_bytes(*raw) : std::nullopt;
    }

    static std::optional<fixed_id> from_base32(std::string_view text) {
        if (text.size() != (8 * N + 4) / 5) {
            return std::nullopt;
        }
        auto raw = hyphae::from_base32(text);
        return raw ? from_bytes(*raw) : std::nullopt;
    }

    std::string to_hex() const { return hyphae::to_hex(view()); }
    std::string to_base32() const { return hyphae::to_base32(view()); }
    byte_view view() const { return {bytes.data(), N}; }
    std::string_view chars() const { return as_chars(view()); }

    bool is_zero() const {
        return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
    }

    friend fixed_id operator^(const fixed_id& a, const fixed_id& b) {
        fixed_id out;
        for (std::size_t i = 0; i < N; ++i) {
            out.bytes[i] = a.bytes[i] ^ b.bytes[i];
        }
        return out;
    }

    friend bool operator==(const fixed_id&, const fixed_id&) = default;
    friend std::strong_ordering operator<=>(const fixed_id& a, const fixed_id& b) {
        const int c = std::memcmp(a.bytes.data(), b.bytes.data(), N);
        return c < 0 ? std::strong_ordering::less
                     : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
    }
};

using id160 = fixed_id<20>;
using id256 = fixed_id<32>;

// Kademlia's metric over 160-bit ids (BEP 5): d(a, b) = a XOR b, compared as an unsigned integer.
inline id160 xor_distance(const id160& a, const id160& b) {
    return a ^ b;
}

// Leading bits a and b share (0..160); the DHT's bucket index is derived from it.
template <std::size_t N>
int common_prefix_bits(const fixed_id<N>& a, const fixed_id<N>& b) {
    for (std::size_t i = 0; i < N; ++i) {
        const std::uint8_t x = a.bytes[i] ^ b.bytes[i];
        if (x != 0) {
            return static_cast<int>(i * 8) + std::countl_zero(x);
        }
    }
    return static_cast<int>(N * 8);
}

// True when `a` is strictly closer to `target` than `b` is.
inline bool closer_to(const id160& target, const id160& a, const id160& b) {
    for (std::size_t i = 0; i < id160::size; ++i) {
        const std::uint8_t da = a.bytes[i] ^ target.bytes[i];
        const std::uint8_t db = b.bytes[i] ^ target.bytes[i];
        if (da != db) {
            return da < db;
        }
    }
    return false;
}

}  // namespace hyphae

template <std::size_t N>
struct std::hash<hyphae::fixed_id<N>> {
    std::size_t operator()(const hyphae::fixed_id<N>& id) const noexcept {
        // Ids are hashes or random already: their first bytes are uniform.
        std::size_t h = 0;
        std::memcpy(&h, id.bytes.data(), sizeof h < N ? sizeof h : N);
        return h;
    }
};
