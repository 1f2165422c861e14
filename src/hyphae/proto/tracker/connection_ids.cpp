#include "hyphae/proto/tracker/connection_ids.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace hyphae::tracker {

namespace {
constexpr std::uint32_t stamp_mask = 0x7fffu;  // 15 bits of issue time
}  // namespace

connection_ids::connection_ids(const keyed_hash& mac, std::uint32_t lifetime_seconds)
    : mac_(mac), lifetime_(std::min(lifetime_seconds, stamp_mask)) {}

std::uint64_t connection_ids::mac48(std::uint32_t issued, const endpoint& peer) const {
    std::array<std::uint8_t, 4 + 1 + 16 + 2> input{};
    std::memcpy(input.data(), &issued, 4);
    input[4] = peer.address.is_v6() ? 6 : 4;
    const byte_view address = peer.address.bytes();
    std::memcpy(input.data() + 5, address.data(), address.size());
    std::memcpy(input.data() + 21, &peer.port, 2);
    return mac_(input) & 0xffff'ffff'ffffULL;
}

std::uint64_t connection_ids::issue(std::uint32_t now, const endpoint& to) const {
    return mark | std::uint64_t{now & stamp_mask} << 48 | mac48(now, to);
}

bool connection_ids::valid(std::uint32_t now, const endpoint& from, std::uint64_t id) const {
    if (!has_our_mark(id)) {
        return false;
    }
    const auto stamp = static_cast<std::uint32_t>(id >> 48) & stamp_mask;
    const std::uint32_t age = (now - stamp) & stamp_mask;
    if (age > lifetime_ || age > now) {
        return false;
    }
    return (id & 0xffff'ffff'ffffULL) == mac48(now - age, from);
}

}  // namespace hyphae::tracker
