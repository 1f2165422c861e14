#include "hyphae/core/ed25519.hpp"

#include <algorithm>
#include <cstring>

#include <sodium.h>

namespace hyphae::ed25519 {
namespace {

static_assert(crypto_sign_SEEDBYTES == seed_size && crypto_sign_PUBLICKEYBYTES == public_key_size &&
              crypto_sign_BYTES == signature_size && crypto_sign_SECRETKEYBYTES == 64 &&
              crypto_hash_sha512_BYTES == 64 && crypto_core_ed25519_SCALARBYTES == 32 &&
              crypto_core_ed25519_NONREDUCEDSCALARBYTES == 64);

// libsodium asks for sodium_init() before any other call; its ed25519 code picks no implementation
// at run time, but we keep to the documented contract.
void ensure_initialised() {
    static const bool initialised = sodium_init() >= 0;
    (void)initialised;
}

// libsodium's secret key, seed ‖ public key, wiped when it goes out of scope.
struct sodium_secret {
    unsigned char bytes[crypto_sign_SECRETKEYBYTES];
    sodium_secret(const secret_key& secret, const public_key& key) {
        std::memcpy(bytes, secret.seed.data(), seed_size);
        std::memcpy(bytes + seed_size, key.bytes.data(), public_key_size);
    }
    ~sodium_secret() { sodium_memzero(bytes, sizeof bytes); }
    sodium_secret(const sodium_secret&) = delete;
    sodium_secret& operator=(const sodium_secret&) = delete;
};

// SHA-512 of a ‖ b ‖ c, reduced modulo the group order L.
std::array<unsigned char, 32> hash_to_scalar(byte_view a, byte_view b, byte_view c) {
    crypto_hash_sha512_state state;
    crypto_hash_sha512_init(&state);
    crypto_hash_sha512_update(&state, a.data(), a.size());
    crypto_hash_sha512_update(&state, b.data(), b.size());
    crypto_hash_sha512_update(&state, c.data(), c.size());
    unsigned char digest[crypto_hash_sha512_BYTES];
    crypto_hash_sha512_final(&state, digest);
    std::array<unsigned char, 32> scalar{};
    crypto_core_ed25519_scalar_reduce(scalar.data(), digest);
    sodium_memzero(digest, sizeof digest);
    sodium_memzero(&state, sizeof state);
    return scalar;
}

}  // namespace

std::optional<secret_key> secret_key::from_bytes(byte_view data) {
    if (data.size() != seed_size) {
        return std::nullopt;
    }
    secret_key secret;
    std::copy(data.begin(), data.end(), secret.seed.begin());
    return secret;
}

secret_key secret_key::from_rng(rng& random) {
    secret_key secret;
    for (std::size_t i = 0; i < seed_size; i += 8) {
        const std::uint64_t word = random();
        std::memcpy(secret.seed.data() + i, &word, 8);
    }
    return secret;
}

std::optional<expanded_secret_key> expanded_secret_key::from_bytes(byte_view data) {
    if (data.size() != expanded_secret_size) {
        return std::nullopt;
    }
    expanded_secret_key secret;
    std::copy(data.begin(), data.end(), secret.bytes.begin());
    return secret;
}

public_key public_key_of(const secret_key& secret) {
    ensure_initialised();
    public_key key;
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(key.bytes.data(), sk, secret.seed.data());
    sodium_memzero(sk, sizeof sk);
    return key;
}

keypair make_keypair(const secret_key& secret) {
    return {secret, public_key_of(secret)};
}

signature sign(byte_view message, const keypair& keys) {
    ensure_initialised();
    const sodium_secret sk(keys.secret, keys.key);
    signature sig;
    crypto_sign_detached(sig.bytes.data(), nullptr, message.data(), message.size(), sk.bytes);
    return sig;
}

signature sign(byte_view message, const secret_key& secret) {
    return sign(message, make_keypair(secret));
}

bool verify(byte_view message, const signature& sig, const public_key& key) {
    ensure_initialised();
    return crypto_sign_verify_detached(sig.bytes.data(), message.data(), message.size(), key.bytes.data()) ==
           0;
}

expanded_secret_key expanded_secret(const secret_key& secret) {
    ensure_initialised();
    expanded_secret_key expanded;
    crypto_hash_sha512(expanded.bytes.data(), secret.seed.data(), seed_size);
    expanded.bytes[0] &= 248;
    expanded.bytes[31] &= 127;
    expanded.bytes[31] |= 64;
    return expanded;
}

public_key public_key_of(const expanded_secret_key& secret) {
    ensure_initialised();
    // The scalar is used as it is: expanded keys are clamped already.
    public_key key;
    crypto_scalarmult_ed25519_base_noclamp(key.bytes.data(), secret.bytes.data());
    return key;
}

// RFC 8032 5.1.6 from step 2, since libsodium signs only from the seed: r = H(prefix ‖ M),
// R = rB, k = H(R ‖ A ‖ M), S = r + k·s (mod L).
signature sign(byte_view message, const expanded_secret_key& secret, const public_key& key) {
    ensure_initialised();
    const byte_view scalar_half = secret.view().first(32);
    const byte_view prefix = secret.view().subspan(32);
    std::array<unsigned char, 32> r = hash_to_scalar(prefix, {}, message);

    signature sig;
    crypto_scalarmult_ed25519_base_noclamp(sig.bytes.data(), r.data());
    const std::array<unsigned char, 32> k = hash_to_scalar(sig.view().first(32), key.view(), message);

    // The clamped scalar may exceed L: reduce it before multiplying.
    unsigned char wide[crypto_core_ed25519_NONREDUCEDSCALARBYTES] = {};
    std::memcpy(wide, scalar_half.data(), scalar_half.size());
    unsigned char s[crypto_core_ed25519_SCALARBYTES];
    crypto_core_ed25519_scalar_reduce(s, wide);
    unsigned char ks[crypto_core_ed25519_SCALARBYTES];
    crypto_core_ed25519_scalar_mul(ks, k.data(), s);
    crypto_core_ed25519_scalar_add(sig.bytes.data() + 32, r.data(), ks);

    sodium_memzero(wide, sizeof wide);
    sodium_memzero(s, sizeof s);
    sodium_memzero(ks, sizeof ks);
    sodium_memzero(r.data(), r.size());
    return sig;
}

}  // namespace hyphae::ed25519
