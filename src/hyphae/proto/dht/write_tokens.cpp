#include "hyphae/proto/dht/write_tokens.hpp"

#include <algorithm>
#include <array>

namespace hyphae::dht {

write_tokens::write_tokens(rng& random, duration rotation)
    : key_(random), rotation_(std::max(rotation, duration(1))) {}

std::int64_t write_tokens::period_of(time_point now) const {
    // Floor division: a simulator's clock may start below zero.
    const std::int64_t t = now.time_since_epoch().count();
    const std::int64_t r = rotation_.count();
    return t / r - (t % r < 0 ? 1 : 0);
}

std::uint64_t write_tokens::mac(std::int64_t period, const ip_address& requester) const {
    const ip_address address = requester.unmapped();
    std::array<std::uint8_t, 8 + 1 + 16> input{};
    for (std::size_t i = 0; i < 8; ++i) {
        input[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(period) >> (8 * i));
    }
    input[8] = address.is_v6() ? 6 : 4;
    const byte_view bytes = address.bytes();
    std::copy(bytes.begin(), bytes.end(), input.begin() + 9);
    return key_(byte_view(input.data(), 9 + bytes.size()));
}

std::string write_tokens::issue(time_point now, const ip_address& requester) const {
    const std::uint64_t m = mac(period_of(now), requester);
    std::string token(token_size, '\0');
    for (std::size_t i = 0; i < token_size; ++i) {
        token[i] = static_cast<char>(m >> (8 * i));
    }
    return token;
}

bool write_tokens::check(time_point now, const ip_address& requester, std::string_view token) const {
    if (token.size() != token_size) {
        return false;
    }
    const std::int64_t period = period_of(now);
    bool valid = false;
    for (const std::int64_t p : {period, period - 1}) {
        const std::uint64_t m = mac(p, requester);
        // Every byte compared, whatever the first ones hold: no timing hint for a forger.
        std::uint8_t diff = 0;
        for (std::size_t i = 0; i < token_size; ++i) {
            diff |= static_cast<std::uint8_t>(static_cast<std::uint8_t>(token[i]) ^
                                              static_cast<std::uint8_t>(m >> (8 * i)));
        }
        valid |= diff == 0;
    }
    return valid;
}

}  // namespace hyphae::dht
