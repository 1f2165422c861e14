#pragma once
// Ed25519 signatures (RFC 8032) through libsodium, for the mutable items of BEP 44. Pure functions
// of their inputs: cores may call them.
//
// A secret key is kept as its 32-byte seed, RFC 8032's private key. Two 64-byte forms derive from
// it and are not interchangeable bytes: libsodium's (seed ‖ public key), made inside sign() and
// wiped after, and libtorrent's *expanded* key (SHA-512(seed) with its first half clamped), which
// libtorrent's API takes and BEP 44's test vectors print. Signing is deterministic, so one seed
// signs a message to the same 64 bytes in either form.
//
// Keys drawn from a hyphae::rng are predictable: they are for tests and the simulator. A real
// identity's seed comes from the operating system at the process edge (the app), never a core.
// The first call initialises libsodium once per process (sodium_init, thread-safe).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/fixed_id.hpp"
#include "hyphae/core/rng.hpp"

namespace hyphae::ed25519 {

inline constexpr std::size_t seed_size = 32;
inline constexpr std::size_t public_key_size = 32;
inline constexpr std::size_t signature_size = 64;
inline constexpr std::size_t expanded_secret_size = 64;

using public_key = fixed_id<public_key_size>;
using signature = fixed_id<signature_size>;

// The RFC's 32-byte private key.
struct secret_key {
    std::array<std::uint8_t, seed_size> seed{};

    // Empty unless `data` holds exactly 32 bytes.
    static std::optional<secret_key> from_bytes(byte_view data);
    // A seed from the core's seeded generator: predictable, see above.
    static secret_key from_rng(rng& random);

    friend bool operator==(const secret_key&, const secret_key&) = default;
};

// libtorrent's form: the clamped scalar (32 bytes) and then the nonce prefix (32 bytes).
struct expanded_secret_key {
    std::array<std::uint8_t, expanded_secret_size> bytes{};

    static std::optional<expanded_secret_key> from_bytes(byte_view data);
    byte_view view() const { return {bytes.data(), bytes.size()}; }

    friend bool operator==(const expanded_secret_key&, const expanded_secret_key&) = default;
};

// A secret key with its public key, so that signing need not derive the public key again.
struct keypair {
    secret_key secret;
    public_key key;
};

public_key public_key_of(const secret_key& secret);
keypair make_keypair(const secret_key& secret);

signature sign(byte_view message, const keypair& keys);
// Derives the public key first: about twice the work of the keypair form.
signature sign(byte_view message, const secret_key& secret);

// False for a wrong signature, a non-canonical one, or a public key of small order (libsodium's
// checks; a signature made by any correct signer passes).
bool verify(byte_view message, const signature& sig, const public_key& key);

// RFC 8032 5.1.5: h = SHA-512(seed); h[0] &= 248, h[31] &= 127, h[31] |= 64.
expanded_secret_key expanded_secret(const secret_key& secret);
// The public key and signatures of a key given in libtorrent's form (the seed cannot be recovered
// from it). Equal to those of the seed it was expanded from.
public_key public_key_of(const expanded_secret_key& secret);
signature sign(byte_view message, const expanded_secret_key& secret, const public_key& key);

}  // namespace hyphae::ed25519
