#include "hyphae/core/ed25519.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "hyphae/core/encoding.hpp"

namespace hyphae::ed25519 {
namespace {

secret_key seed_from_hex(std::string_view hex) {
    return *secret_key::from_bytes(*from_hex(hex));
}

struct rfc_vector {
    std::string_view seed;
    std::string_view key;
    std::string_view message;
    std::string_view sig;
};

// RFC 8032 section 7.1, TEST 1 (the empty message) and TEST 2.
constexpr rfc_vector rfc_vectors[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
};

TEST(ed25519, matches_rfc_8032_vectors) {
    for (const rfc_vector& v : rfc_vectors) {
        const secret_key secret = seed_from_hex(v.seed);
        const byte_buffer message = *from_hex(v.message);
        const keypair keys = make_keypair(secret);
        EXPECT_EQ(keys.key.to_hex(), v.key);
        EXPECT_EQ(sign(message, keys).to_hex(), v.sig);
        EXPECT_EQ(sign(message, secret).to_hex(), v.sig);
        EXPECT_TRUE(verify(message, *signature::from_hex(v.sig), *public_key::from_hex(v.key)));
    }
}

TEST(ed25519, signatures_verify_and_tampering_is_rejected) {
    rng random(44);
    const keypair keys = make_keypair(secret_key::from_rng(random));
    const keypair other = make_keypair(secret_key::from_rng(random));
    const std::string message = "3:seqi1e1:v12:Hello World!";
    const signature sig = sign(as_bytes(message), keys);
    EXPECT_TRUE(verify(as_bytes(message), sig, keys.key));

    std::string changed = message;
    changed[7] = '2';
    EXPECT_FALSE(verify(as_bytes(changed), sig, keys.key));
    EXPECT_FALSE(verify(as_bytes(message), sig, other.key));
    for (std::size_t i : {0u, 31u, 32u, 63u}) {
        signature flipped = sig;
        flipped.bytes[i] ^= 1;
        EXPECT_FALSE(verify(as_bytes(message), flipped, keys.key)) << "byte " << i;
    }
    EXPECT_FALSE(verify(as_bytes(message), signature{}, keys.key));
    EXPECT_FALSE(verify(as_bytes(message), sig, public_key{}));
}

TEST(ed25519, keys_from_a_seeded_generator_are_reproducible) {
    rng a(5);
    rng b(5);
    rng c(6);
    const secret_key first = secret_key::from_rng(a);
    EXPECT_EQ(first, secret_key::from_rng(b));
    EXPECT_NE(first, secret_key::from_rng(c));
    EXPECT_NE(first, secret_key::from_rng(a));
}

TEST(ed25519, keys_from_bytes_need_the_exact_length) {
    const byte_buffer bytes(64, 7);
    EXPECT_FALSE(secret_key::from_bytes(byte_view(bytes).first(31)));
    EXPECT_TRUE(secret_key::from_bytes(byte_view(bytes).first(32)));
    EXPECT_FALSE(secret_key::from_bytes(bytes));
    EXPECT_FALSE(expanded_secret_key::from_bytes(byte_view(bytes).first(32)));
    EXPECT_TRUE(expanded_secret_key::from_bytes(bytes));
}

TEST(ed25519, expanded_secret_is_the_clamped_sha512_of_the_seed) {
    rng random(8);
    for (int round = 0; round < 8; ++round) {
        const secret_key secret = secret_key::from_rng(random);
        // RFC 8032 5.1.5, with OpenSSL's SHA-512 rather than libsodium's.
        std::array<std::uint8_t, 64> h{};
        unsigned int length = 0;
        ASSERT_EQ(
            EVP_Digest(secret.seed.data(), secret.seed.size(), h.data(), &length, EVP_sha512(), nullptr), 1);
        h[0] &= 248;
        h[31] &= 127;
        h[31] |= 64;
        EXPECT_EQ(expanded_secret(secret).bytes, h);
    }
}

TEST(ed25519, the_expanded_form_signs_as_its_seed_does) {
    rng random(9);
    for (int round = 0; round < 16; ++round) {
        const keypair keys = make_keypair(secret_key::from_rng(random));
        const expanded_secret_key expanded = expanded_secret(keys.secret);
        EXPECT_EQ(public_key_of(expanded), keys.key);
        std::string message(static_cast<std::size_t>(random.uniform(300)), '\0');
        for (char& c : message) {
            c = static_cast<char>(random());
        }
        const signature sig = sign(as_bytes(message), expanded, keys.key);
        EXPECT_EQ(sig, sign(as_bytes(message), keys));
        EXPECT_TRUE(verify(as_bytes(message), sig, keys.key));
    }
    for (const rfc_vector& v : rfc_vectors) {
        const secret_key secret = seed_from_hex(v.seed);
        const public_key key = *public_key::from_hex(v.key);
        EXPECT_EQ(sign(*from_hex(v.message), expanded_secret(secret), key).to_hex(), v.sig);
    }
}

}  // namespace
}  // namespace hyphae::ed25519
