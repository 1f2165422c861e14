#include "hyphae/proto/dht/item.hpp"

#include <gtest/gtest.h>

#include "hyphae/core/encoding.hpp"

namespace hyphae::dht {
namespace {

// BEP 44's test vectors. Its private key is libtorrent's expanded form, not a seed.
constexpr std::string_view bep_value = "12:Hello World!";
constexpr std::string_view bep_key = "77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548";
constexpr std::string_view bep_expanded_secret =
    "e06d3183d14159228433ed599221b80bd0a5ce8352e4bdf0262f76786ef1c74d"
    "b7e7a9fea2c0eb269d61e3b38e450a22e754941ac78479d6c54e1faf6037881d";
constexpr std::string_view bep_target = "4a533d47ec9c7d95b1ad75f576cffc641853b750";
constexpr std::string_view bep_sig =
    "305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff"
    "1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01";
constexpr std::string_view bep_salt = "foobar";
constexpr std::string_view bep_salted_target = "411eba73b6f087ca51a3795d9c8c938d365e32c1";
constexpr std::string_view bep_salted_sig =
    "6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d"
    "df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08";
constexpr std::string_view bep_immutable_target = "e5f96f6f38320f0f33959cb4d3d656452117aadb";

ed25519::public_key key_of(std::string_view hex) {
    return *ed25519::public_key::from_hex(hex);
}
ed25519::signature sig_of(std::string_view hex) {
    return *ed25519::signature::from_hex(hex);
}
sha1_hash target_of(std::string_view hex) {
    return *sha1_hash::from_hex(hex);
}

TEST(dht_item, immutable_target_matches_bep_44) {
    EXPECT_EQ(immutable_target(as_bytes(bep_value)).to_hex(), bep_immutable_target);
    EXPECT_TRUE(valid_immutable_reply(target_of(bep_immutable_target), as_bytes(bep_value)));
    EXPECT_FALSE(valid_immutable_reply(target_of(bep_immutable_target), as_bytes("12:Hello World?")));
}

TEST(dht_item, mutable_targets_match_bep_44) {
    EXPECT_EQ(mutable_target(key_of(bep_key), {}).to_hex(), bep_target);
    EXPECT_EQ(mutable_target(key_of(bep_key), as_bytes(bep_salt)).to_hex(), bep_salted_target);
}

TEST(dht_item, signature_buffer_is_the_bep_44_concatenation) {
    EXPECT_EQ(signature_buffer({}, 1, as_bytes(bep_value)), "3:seqi1e1:v12:Hello World!");
    EXPECT_EQ(signature_buffer(as_bytes(bep_salt), 1, as_bytes(bep_value)),
              "4:salt6:foobar3:seqi1e1:v12:Hello World!");
    EXPECT_EQ(signature_buffer({}, 4, as_bytes("12:Hello world!")), "3:seqi4e1:v12:Hello world!");
    EXPECT_EQ(signature_buffer(as_bytes("ab"), -7, as_bytes("li1ee")), "4:salt2:ab3:seqi-7e1:vli1ee");
    EXPECT_EQ(signature_buffer({}, INT64_MAX, as_bytes("0:")), "3:seqi9223372036854775807e1:v0:");
}

TEST(dht_item, bep_44_signatures_verify_with_its_public_key) {
    const auto key = key_of(bep_key);
    EXPECT_TRUE(valid_signature(key, {}, 1, sig_of(bep_sig), as_bytes(bep_value)));
    EXPECT_TRUE(valid_signature(key, as_bytes(bep_salt), 1, sig_of(bep_salted_sig), as_bytes(bep_value)));
    EXPECT_TRUE(valid_mutable_reply(target_of(bep_target), {}, key, 1, sig_of(bep_sig), as_bytes(bep_value)));
    EXPECT_TRUE(valid_mutable_reply(target_of(bep_salted_target), as_bytes(bep_salt), key, 1,
                                    sig_of(bep_salted_sig), as_bytes(bep_value)));

    // Each signature covers its own salt, seq and value.
    EXPECT_FALSE(valid_signature(key, {}, 1, sig_of(bep_salted_sig), as_bytes(bep_value)));
    EXPECT_FALSE(valid_signature(key, as_bytes(bep_salt), 1, sig_of(bep_sig), as_bytes(bep_value)));
    EXPECT_FALSE(valid_signature(key, {}, 2, sig_of(bep_sig), as_bytes(bep_value)));
    EXPECT_FALSE(valid_signature(key, {}, 1, sig_of(bep_sig), as_bytes("12:Hello World?")));
    // A reply must hash to the target looked up, salt included.
    EXPECT_FALSE(
        valid_mutable_reply(target_of(bep_salted_target), {}, key, 1, sig_of(bep_sig), as_bytes(bep_value)));
    EXPECT_FALSE(valid_mutable_reply(target_of(bep_target), as_bytes(bep_salt), key, 1,
                                     sig_of(bep_salted_sig), as_bytes(bep_value)));
}

TEST(dht_item, bep_44_private_key_is_libtorrents_expanded_form) {
    const auto expanded = *ed25519::expanded_secret_key::from_bytes(*from_hex(bep_expanded_secret));
    const auto key = key_of(bep_key);
    EXPECT_EQ(ed25519::public_key_of(expanded), key);
    // Signing is deterministic, so the expanded key reproduces the BEP's signatures exactly.
    EXPECT_EQ(ed25519::sign(as_bytes(signature_buffer({}, 1, as_bytes(bep_value))), expanded, key).to_hex(),
              bep_sig);
    EXPECT_EQ(
        ed25519::sign(as_bytes(signature_buffer(as_bytes(bep_salt), 1, as_bytes(bep_value))), expanded, key)
            .to_hex(),
        bep_salted_sig);
}

TEST(dht_item, made_items_verify_and_tampering_is_rejected) {
    rng random(44);
    const auto keys = ed25519::make_keypair(ed25519::secret_key::from_rng(random));
    for (const std::string salt : {"", "foobar"}) {
        const auto item = make_mutable_item(keys, salt, 3, "d1:ai1ee");
        ASSERT_TRUE(item);
        EXPECT_EQ(item->key, keys.key);
        EXPECT_EQ(item->salt, salt);
        EXPECT_EQ(item->seq, 3);
        EXPECT_EQ(item->value, "d1:ai1ee");
        EXPECT_EQ(item->target(), mutable_target(keys.key, as_bytes(salt)));
        EXPECT_TRUE(
            valid_signature(item->key, item->salt_bytes(), item->seq, item->sig, item->value_bytes()));
        EXPECT_TRUE(valid_mutable_reply(item->target(), item->salt_bytes(), item->key, item->seq, item->sig,
                                        item->value_bytes()));
        EXPECT_FALSE(valid_signature(item->key, item->salt_bytes(), 4, item->sig, item->value_bytes()));
        EXPECT_FALSE(valid_signature(item->key, item->salt_bytes(), 3, item->sig, as_bytes("d1:ai2ee")));
        EXPECT_FALSE(valid_signature(item->key, as_bytes("x"), 3, item->sig, item->value_bytes()));
        const auto other = ed25519::make_keypair(ed25519::secret_key::from_rng(random));
        EXPECT_FALSE(valid_signature(other.key, item->salt_bytes(), 3, item->sig, item->value_bytes()));
    }
}

TEST(dht_item, made_items_respect_the_bep_44_limits) {
    rng random(45);
    const auto keys = ed25519::make_keypair(ed25519::secret_key::from_rng(random));
    const std::string largest = "996:" + std::string(996, 'x');
    ASSERT_EQ(largest.size(), 1000u);
    EXPECT_TRUE(make_mutable_item(keys, std::string(64, 's'), 1, largest));
    const std::string too_long = "997:" + std::string(997, 'x');
    EXPECT_EQ(make_mutable_item(keys, "", 1, too_long).error().code, item_errc::value_too_big);
    EXPECT_EQ(make_mutable_item(keys, std::string(65, 's'), 1, "i1e").error().code, item_errc::salt_too_big);
    // v goes into messages as it is: it must be exactly one bencoded value.
    EXPECT_EQ(make_mutable_item(keys, "", 1, "").error().code, item_errc::protocol_error);
    EXPECT_EQ(make_mutable_item(keys, "", 1, "Hello").error().code, item_errc::protocol_error);
    EXPECT_EQ(make_mutable_item(keys, "", 1, "i1ei2e").error().code, item_errc::protocol_error);
}

TEST(dht_item, size_checks_come_in_bep_order) {
    const std::string salt_64(64, 's');
    const std::string salt_65(65, 's');
    const std::string value_1000(1000, 'v');
    const std::string value_1001(1001, 'v');
    EXPECT_TRUE(check_sizes(as_bytes(salt_64), as_bytes(value_1000)));
    EXPECT_EQ(check_sizes({}, as_bytes(value_1001)).error().code, item_errc::value_too_big);
    EXPECT_EQ(check_sizes(as_bytes(salt_65), {}).error().code, item_errc::salt_too_big);
    EXPECT_EQ(check_sizes(as_bytes(salt_65), as_bytes(value_1001)).error().code, item_errc::value_too_big);
    // A storing node may accept less.
    EXPECT_EQ(check_sizes({}, as_bytes(value_1000), 999).error().code, item_errc::value_too_big);
}

TEST(dht_item, seq_and_cas_rules) {
    using enum mutable_update;
    EXPECT_EQ(check_mutable_update(5, false, 6, std::nullopt), replace);
    EXPECT_EQ(check_mutable_update(5, true, 6, std::nullopt), replace);
    EXPECT_EQ(check_mutable_update(5, true, 5, std::nullopt), refresh);
    EXPECT_EQ(check_mutable_update(5, false, 5, std::nullopt).error().code, item_errc::seq_not_newer);
    EXPECT_EQ(check_mutable_update(5, true, 4, std::nullopt).error().code, item_errc::seq_not_newer);
    EXPECT_EQ(check_mutable_update(-3, false, -2, std::nullopt), replace);

    EXPECT_EQ(check_mutable_update(5, false, 6, 5), replace);
    EXPECT_EQ(check_mutable_update(5, true, 5, 5), refresh);
    EXPECT_EQ(check_mutable_update(5, false, 6, 4).error().code, item_errc::cas_mismatch);
    EXPECT_EQ(check_mutable_update(5, false, 6, 6).error().code, item_errc::cas_mismatch);
    // cas first: its 301 is a MUST.
    EXPECT_EQ(check_mutable_update(5, false, 4, 3).error().code, item_errc::cas_mismatch);
    EXPECT_EQ(check_mutable_update(5, false, 4, 5).error().code, item_errc::seq_not_newer);
}

TEST(dht_item, errors_carry_the_krpc_codes_and_bep_texts) {
    const std::pair<item_errc, std::string_view> expected[] = {
        {item_errc::protocol_error, "Protocol Error"},
        {item_errc::value_too_big, "message (v field) too big"},
        {item_errc::invalid_signature, "invalid signature"},
        {item_errc::salt_too_big, "salt (salt field) too big"},
        {item_errc::cas_mismatch, "the CAS hash mismatched, re-read value and try again"},
        {item_errc::seq_not_newer, "sequence number less than current"},
    };
    const int codes[] = {203, 205, 206, 207, 301, 302};
    for (std::size_t i = 0; i < std::size(expected); ++i) {
        const item_error error{expected[i].first};
        EXPECT_EQ(error.krpc_code(), codes[i]);
        EXPECT_EQ(error.message(), expected[i].second);
    }
}

}  // namespace
}  // namespace hyphae::dht
