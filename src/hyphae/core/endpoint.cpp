#include "hyphae/core/endpoint.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace hyphae {
namespace {

std::optional<std::uint16_t> parse_u16(std::string_view text, int base) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > 0xffff) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

std::optional<std::array<std::uint8_t, 4>> parse_v4(std::string_view text) {
    std::array<std::uint8_t, 4> out{};
    for (int i = 0; i < 4; ++i) {
        const std::size_t dot = i < 3 ? text.find('.') : text.size();
        if (dot == std::string_view::npos) {
            return std::nullopt;
        }
        const std::string_view part = text.substr(0, dot);
        if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) {
            return std::nullopt;
        }
        auto v = parse_u16(part, 10);
        if (!v || *v > 255) {
            return std::nullopt;
        }
        out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(*v);
        text = i < 3 ? text.substr(dot + 1) : std::string_view{};
    }
    return out;
}

std::optional<std::array<std::uint8_t, 16>> parse_v6(std::string_view text) {
    // Split on "::" into a head and a tail of 16-bit groups; the tail may end in a dotted quad.
    const std::size_t gap = text.find("::");
    if (gap != std::string_view::npos && text.find("::", gap + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    auto groups_of = [](std::string_view part, std::vector<std::uint16_t>& groups, bool allow_v4) -> bool {
        if (part.empty()) {
            return true;
        }
        while (true) {
            const std::size_t colon = part.find(':');
            const std::string_view group = part.substr(0, colon);
            if (colon == std::string_view::npos && allow_v4 && group.find('.') != std::string_view::npos) {
                auto v4 = parse_v4(group);
                if (!v4) {
                    return false;
                }
                groups.push_back(static_cast<std::uint16_t>((*v4)[0] << 8 | (*v4)[1]));
                groups.push_back(static_cast<std::uint16_t>((*v4)[2] << 8 | (*v4)[3]));
                return true;
            }
            if (group.empty() || group.size() > 4) {
                return false;
            }
            auto v = parse_u16(group, 16);
            if (!v) {
                return false;
            }
            groups.push_back(*v);
            if (colon == std::string_view::npos) {
                return true;
            }
            part = part.substr(colon + 1);
        }
    };
    std::vector<std::uint16_t> head;
    std::vector<std::uint16_t> tail;
    if (gap == std::string_view::npos) {
        if (!groups_of(text, head, true) || head.size() != 8) {
            return std::nullopt;
        }
    } else {
        if (!groups_of(text.substr(0, gap), head, false) || !groups_of(text.substr(gap + 2), tail, true) ||
            head.size() + tail.size() > 7) {
            return std::nullopt;
        }
    }
    std::array<std::uint8_t, 16> out{};
    for (std::size_t i = 0; i < head.size(); ++i) {
        out[2 * i] = static_cast<std::uint8_t>(head[i] >> 8);
        out[2 * i + 1] = static_cast<std::uint8_t>(head[i]);
    }
    for (std::size_t i = 0; i < tail.size(); ++i) {
        const std::size_t at = 16 - 2 * (tail.size() - i);
        out[at] = static_cast<std::uint8_t>(tail[i] >> 8);
        out[at + 1] = static_cast<std::uint8_t>(tail[i]);
    }
    return out;
}

}  // namespace

ip_address ip_address::v4(std::uint32_t host_order) {
    return v4(std::array<std::uint8_t, 4>{
        static_cast<std::uint8_t>(host_order >> 24), static_cast<std::uint8_t>(host_order >> 16),
        static_cast<std::uint8_t>(host_order >> 8), static_cast<std::uint8_t>(host_order)});
}

ip_address ip_address::v4(std::array<std::uint8_t, 4> bytes) {
    ip_address a;
    std::copy(bytes.begin(), bytes.end(), a.bytes_.begin());
    return a;
}

ip_address ip_address::v6(const std::array<std::uint8_t, 16>& bytes) {
    ip_address a;
    a.v6_ = true;
    a.bytes_ = bytes;
    return a;
}

std::optional<ip_address> ip_address::parse(std::string_view text) {
    if (text.find(':') != std::string_view::npos) {
        auto v6_bytes = parse_v6(text);
        return v6_bytes ? std::optional(v6(*v6_bytes)) : std::nullopt;
    }
    auto v4_bytes = parse_v4(text);
    return v4_bytes ? std::optional(v4(*v4_bytes)) : std::nullopt;
}

std::uint32_t ip_address::v4_host_order() const {
    return static_cast<std::uint32_t>(bytes_[0]) << 24 | static_cast<std::uint32_t>(bytes_[1]) << 16 |
           static_cast<std::uint32_t>(bytes_[2]) << 8 | bytes_[3];
}

bool ip_address::is_loopback() const {
    if (!v6_) {
        return bytes_[0] == 127;
    }
    return std::all_of(bytes_.begin(), bytes_.begin() + 15, [](std::uint8_t b) { return b == 0; }) &&
           bytes_[15] == 1;
}

bool ip_address::is_unspecified() const {
    return std::all_of(bytes_.begin(), bytes_.begin() + (v6_ ? 16 : 4),
                       [](std::uint8_t b) { return b == 0; });
}

ip_address ip_address::unmapped() const {
    const bool mapped =
        v6_ && std::all_of(bytes_.begin(), bytes_.begin() + 10, [](std::uint8_t b) { return b == 0; }) &&
        bytes_[10] == 0xff && bytes_[11] == 0xff;
    return mapped ? v4({bytes_[12], bytes_[13], bytes_[14], bytes_[15]}) : *this;
}

std::string ip_address::to_string() const {
    if (!v6_) {
        return std::to_string(bytes_[0]) + "." + std::to_string(bytes_[1]) + "." + std::to_string(bytes_[2]) +
               "." + std::to_string(bytes_[3]);
    }
    // RFC 5952: lower case, the longest run (of two or more) of zero groups becomes "::".
    std::array<std::uint16_t, 8> groups{};
    for (std::size_t i = 0; i < 8; ++i) {
        groups[i] = static_cast<std::uint16_t>(bytes_[2 * i] << 8 | bytes_[2 * i + 1]);
    }
    int best_start = -1;
    int best_length = 1;
    for (int i = 0; i < 8;) {
        if (groups[static_cast<std::size_t>(i)] != 0) {
            ++i;
            continue;
        }
        int j = i;
        while (j < 8 && groups[static_cast<std::size_t>(j)] == 0) {
            ++j;
        }
        if (j - i > best_length) {
            best_start = i;
            best_length = j - i;
        }
        i = j;
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 8; ++i) {
        if (i == best_start) {
            out += "::";
            i += best_length - 1;
            continue;
        }
        if (!out.empty() && out.back() != ':') {
            out += ':';
        }
        const std::uint16_t g = groups[static_cast<std::size_t>(i)];
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const int nibble = (g >> shift) & 0xf;
            if (nibble != 0 || started || shift == 0) {
                out += digits[nibble];
                started = true;
            }
        }
    }
    return out;
}

std::optional<endpoint> endpoint::parse(std::string_view text) {
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        auto address = ip_address::parse(host);
        auto p = parse_u16(port, 10);
        if (!address || !address->is_v6() || !p) {
            return std::nullopt;
        }
        return endpoint{*address, *p};
    }
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    auto address = ip_address::parse(text.substr(0, colon));
    auto p = parse_u16(text.substr(colon + 1), 10);
    if (!address || !address->is_v4() || !p) {
        return std::nullopt;
    }
    return endpoint{*address, *p};
}

std::string endpoint::to_string() const {
    return address.is_v6() ? "[" + address.to_string() + "]:" + std::to_string(port)
                           : address.to_string() + ":" + std::to_string(port);
}

void append_compact(std::string& out, const endpoint& ep) {
    out.append(as_chars(ep.address.bytes()));
    out.push_back(static_cast<char>(ep.port >> 8));
    out.push_back(static_cast<char>(ep.port & 0xff));
}

std::optional<endpoint> parse_compact(byte_view data) {
    const auto port = [&](std::size_t at) {
        return static_cast<std::uint16_t>(data[at] << 8 | data[at + 1]);
    };
    if (data.size() == compact_v4_size) {
        return endpoint{ip_address::v4(std::array<std::uint8_t, 4>{data[0], data[1], data[2], data[3]}),
                        port(4)};
    }
    if (data.size() == compact_v6_size) {
        std::array<std::uint8_t, 16> bytes{};
        std::copy(data.begin(), data.begin() + 16, bytes.begin());
        return endpoint{ip_address::v6(bytes), port(16)};
    }
    return std::nullopt;
}

}  // namespace hyphae

std::size_t std::hash<hyphae::endpoint>::operator()(const hyphae::endpoint& ep) const noexcept {
    std::size_t h = ep.port;
    for (std::uint8_t b : ep.address.bytes()) {
        h = h * 1099511628211ULL ^ b;
    }
    return h;
}
