#pragma once
// SipHash-2-4 (libsodium's crypto_shorthash): a keyed 64-bit hash. Tables keyed by what remote
// peers choose (info-hashes, addresses, ports) hash with it, so that nobody who lacks the key can
// pick keys that collide and turn lookups into scans; tokens and connection ids are MACs from it.
// A pure function of its key and input: cores may call it.

#include <array>
#include <cstdint>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/rng.hpp"

namespace hyphae {

class keyed_hash {
public:
    using key_type = std::array<std::uint8_t, 16>;

    explicit keyed_hash(const key_type& key) : key_(key) {}
    // A key drawn from the core's seeded generator.
    explicit keyed_hash(rng& random);

    std::uint64_t operator()(byte_view data) const;

private:
    key_type key_;
};

}  // namespace hyphae
