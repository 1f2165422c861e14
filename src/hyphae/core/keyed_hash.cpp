#include "hyphae/core/keyed_hash.hpp"

#include <cstring>

#include <sodium.h>

namespace hyphae {

static_assert(crypto_shorthash_KEYBYTES == 16 && crypto_shorthash_BYTES == 8);

keyed_hash::keyed_hash(rng& random) {
    for (std::size_t i = 0; i < key_.size(); i += 8) {
        const std::uint64_t word = random();
        std::memcpy(key_.data() + i, &word, 8);
    }
}

std::uint64_t keyed_hash::operator()(byte_view data) const {
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, data.data(), data.size(), key_.data());
    std::uint64_t value = 0;
    std::memcpy(&value, out, sizeof value);
    return value;
}

}  // namespace hyphae
