#pragma once
// IPv4/IPv6 addresses and endpoints as every protocol needs them: text ("1.2.3.4:80",
// "[::1]:80") and the compact binary forms of BEP 23 (6 bytes) and BEP 7/32 (18 bytes).

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "hyphae/core/bytes.hpp"

namespace hyphae {

class ip_address {
public:
    ip_address() = default;  // 0.0.0.0
    static ip_address v4(std::uint32_t host_order);
    static ip_address v4(std::array<std::uint8_t, 4> bytes);
    static ip_address v6(const std::array<std::uint8_t, 16>& bytes);
    // Dotted quad or RFC 4291 text (with "::"); no brackets, no zone ids.
    static std::optional<ip_address> parse(std::string_view text);

    bool is_v4() const { return !v6_; }
    bool is_v6() const { return v6_; }
    std::uint32_t v4_host_order() const;  // is_v4() only
    // 4 bytes for IPv4, 16 for IPv6, network order.
    byte_view bytes() const { return {bytes_.data(), v6_ ? 16u : 4u}; }
    bool is_loopback() const;
    bool is_unspecified() const;
    // ::ffff:a.b.c.d (how a dual-stack socket shows an IPv4 source) as a.b.c.d; others unchanged.
    ip_address unmapped() const;
    std::string to_string() const;

    friend bool operator==(const ip_address&, const ip_address&) = default;
    friend std::strong_ordering operator<=>(const ip_address&, const ip_address&) = default;

private:
    bool v6_ = false;
    std::array<std::uint8_t, 16> bytes_{};  // IPv4 uses the first 4
};

struct endpoint {
    ip_address address;
    std::uint16_t port = 0;

    // "1.2.3.4:80" or "[v6]:80".
    static std::optional<endpoint> parse(std::string_view text);
    std::string to_string() const;

    friend bool operator==(const endpoint&, const endpoint&) = default;
    friend std::strong_ordering operator<=>(const endpoint&, const endpoint&) = default;
};

// Compact peer info: 4-byte address + 2-byte port (BEP 23), or 16 + 2 (BEP 7).
inline constexpr std::size_t compact_v4_size = 6;
inline constexpr std::size_t compact_v6_size = 18;
void append_compact(std::string& out, const endpoint& ep);
// `data` must be exactly 6 or 18 bytes.
std::optional<endpoint> parse_compact(byte_view data);

}  // namespace hyphae

template <>
struct std::hash<hyphae::endpoint> {
    std::size_t operator()(const hyphae::endpoint& ep) const noexcept;
};
