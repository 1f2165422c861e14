#include "hyphae/proto/dht/item_store.hpp"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "hyphae/core/bencode.hpp"

namespace hyphae::dht {
namespace {

using std::chrono::hours;
using std::chrono::nanoseconds;

const time_point t0 = time_point{} + hours(24);

// A bencoded value of `size` bytes in all (size >= 3), distinct for each n while n's digits fit:
// "<len>:<n>...", or that inside a list for the sizes no string has (12, 103).
std::string value_of(std::size_t n, std::size_t size = 16) {
    for (std::size_t wrap = 0; wrap <= 2; wrap += 2) {
        const std::size_t inner = size - wrap;
        for (std::size_t digits = 1; digits <= 4 && digits < inner; ++digits) {
            const std::size_t body_size = inner - digits - 1;
            if (std::to_string(body_size).size() != digits) {
                continue;
            }
            std::string body = std::to_string(n);
            body.resize(body_size, '.');
            const std::string encoded = std::to_string(body_size) + ":" + body;
            return wrap == 0 ? encoded : "l" + encoded + "e";
        }
    }
    return {};
}

struct item_store_fixture : ::testing::Test {
    rng random{11};
    keyed_hash hash{random};
    item_store_config config;
    std::unique_ptr<item_store> store = std::make_unique<item_store>(config, hash);
    ed25519::keypair keys = ed25519::make_keypair(ed25519::secret_key::from_rng(random));

    void remake() { store = std::make_unique<item_store>(config, hash); }

    mutable_item item(std::int64_t seq, const std::string& value, const std::string& salt = "") {
        return make_mutable_item(keys, salt, seq, value).value();
    }
    static mutable_put put_of(const mutable_item& i, std::optional<std::int64_t> cas = std::nullopt) {
        return {i.key, i.salt_bytes(), i.seq, i.sig, i.value_bytes(), cas};
    }
    item_result<put_outcome> put(time_point now, const mutable_item& i,
                                 std::optional<std::int64_t> cas = std::nullopt) {
        return store->put_mutable(now, put_of(i, cas));
    }
    item_result<put_outcome> put_immutable(time_point now, const std::string& value) {
        return store->put_immutable(now, immutable_target(as_bytes(value)), as_bytes(value));
    }
    bool holds_immutable(time_point now, const std::string& value) {
        return store->get(now, immutable_target(as_bytes(value))).has_value();
    }
    std::string value_at(time_point now, const sha1_hash& target) {
        const auto answer = store->get(now, target);
        return answer ? std::string(as_chars(answer->value)) : std::string("(none)");
    }
};

TEST(item_store_values, value_of_makes_bencoded_values_of_the_size_asked) {
    for (std::size_t size = 3; size <= 1001; ++size) {
        const std::string v = value_of(7, size);
        EXPECT_EQ(v.size(), size) << v;
        EXPECT_TRUE(bdecode(as_bytes(v))) << v;
    }
    EXPECT_NE(value_of(1), value_of(2));
}

TEST_F(item_store_fixture, stores_and_serves_an_immutable_item) {
    const std::string v = "12:Hello World!";
    const sha1_hash target = immutable_target(as_bytes(v));
    EXPECT_FALSE(store->get(t0, target));
    EXPECT_EQ(put_immutable(t0, v), put_outcome::stored);
    const auto answer = store->get(t0, target);
    ASSERT_TRUE(answer);
    EXPECT_FALSE(answer->is_mutable);
    EXPECT_FALSE(answer->seq_only);
    EXPECT_EQ(as_chars(answer->value), v);
    // A get's seq applies to mutable items only.
    EXPECT_EQ(as_chars(store->get(t0, target, 100)->value), v);
    EXPECT_EQ(put_immutable(t0 + hours(1), v), put_outcome::refreshed);
    EXPECT_EQ(store->size(), 1u);
    EXPECT_EQ(store->bytes(), v.size());
}

TEST_F(item_store_fixture, immutable_v_must_hash_to_the_target) {
    const std::string v = "12:Hello World!";
    const sha1_hash other = immutable_target(as_bytes("12:Hello World?"));
    EXPECT_EQ(store->put_immutable(t0, other, as_bytes(v)).error().code, item_errc::protocol_error);
    EXPECT_EQ(store->size(), 0u);
    EXPECT_FALSE(store->get(t0, other));
}

TEST_F(item_store_fixture, v_over_the_limits_is_refused_with_205) {
    const std::string largest = value_of(1, 1000);
    const std::string too_long = value_of(2, 1001);
    EXPECT_EQ(put_immutable(t0, too_long).error().code, item_errc::value_too_big);
    EXPECT_EQ(put_immutable(t0, largest), put_outcome::stored);
    // make_mutable_item refuses to sign it: the size is checked before the signature anyway.
    const mutable_put unsigned_put{keys.key, {}, 1, {}, as_bytes(too_long), std::nullopt};
    EXPECT_EQ(store->put_mutable(t0, unsigned_put).error().code, item_errc::value_too_big);
    // The store's own bounds: value_size_max, and a v larger than all of bytes_max.
    config.value_size_max = 100;
    remake();
    EXPECT_EQ(put_immutable(t0, value_of(3, 101)).error().code, item_errc::value_too_big);
    EXPECT_EQ(put(t0, item(1, value_of(4, 101))).error().code, item_errc::value_too_big);
    EXPECT_EQ(put_immutable(t0, value_of(5, 100)), put_outcome::stored);
    config.value_size_max = 1000;
    config.bytes_max = 50;
    remake();
    EXPECT_EQ(put_immutable(t0, value_of(6, 51)).error().code, item_errc::value_too_big);
    EXPECT_EQ(put(t0, item(1, value_of(7, 51))).error().code, item_errc::value_too_big);
    EXPECT_EQ(put_immutable(t0, value_of(8, 50)), put_outcome::stored);
    EXPECT_EQ(store->size(), 1u);
}

TEST_F(item_store_fixture, salt_over_64_bytes_is_refused_with_207) {
    mutable_item m = item(1, "i1e", std::string(64, 's'));
    EXPECT_EQ(put(t0, m), put_outcome::stored);
    m.salt += 's';  // the signature no longer matches either: size comes first
    EXPECT_EQ(put(t0, m).error().code, item_errc::salt_too_big);
    EXPECT_EQ(store->size(), 1u);
}

TEST_F(item_store_fixture, stores_and_serves_a_mutable_item) {
    const mutable_item plain = item(1, "12:Hello World!");
    const mutable_item salted = item(1, "5:other", "foobar");
    EXPECT_EQ(put(t0, plain), put_outcome::stored);
    EXPECT_EQ(put(t0, salted), put_outcome::stored);
    EXPECT_EQ(store->size(), 2u);
    const auto answer = store->get(t0, plain.target());
    ASSERT_TRUE(answer);
    EXPECT_TRUE(answer->is_mutable);
    EXPECT_FALSE(answer->seq_only);
    EXPECT_EQ(answer->key, keys.key);
    EXPECT_EQ(answer->seq, 1);
    EXPECT_EQ(answer->sig, plain.sig);
    EXPECT_EQ(as_chars(answer->value), "12:Hello World!");
    // What the store serves verifies for a requester that knows the salt.
    const auto other = store->get(t0, salted.target());
    ASSERT_TRUE(other);
    EXPECT_TRUE(valid_mutable_reply(salted.target(), as_bytes("foobar"), other->key, other->seq, other->sig,
                                    other->value));
    EXPECT_EQ(as_chars(other->value), "5:other");
}

TEST_F(item_store_fixture, bad_signatures_are_refused_with_206) {
    mutable_item m = item(1, "i1e");
    m.sig.bytes[10] ^= 1;
    EXPECT_EQ(put(t0, m).error().code, item_errc::invalid_signature);
    EXPECT_EQ(store->size(), 0u);

    ASSERT_EQ(put(t0, item(1, "i1e")), put_outcome::stored);
    mutable_item newer = item(2, "i2e");
    newer.sig.bytes[0] ^= 1;
    EXPECT_EQ(put(t0, newer).error().code, item_errc::invalid_signature);
    EXPECT_EQ(store->get(t0, m.target())->seq, 1);
    // Same seq and v as stored but another signature: it must verify to refresh.
    mutable_item same = item(1, "i1e");
    same.sig.bytes[0] ^= 1;
    EXPECT_EQ(put(t0, same).error().code, item_errc::invalid_signature);
    // Another key under the same salt is another target: its own signature counts.
    const auto other_keys = ed25519::make_keypair(ed25519::secret_key::from_rng(random));
    mutable_item forged = item(5, "i5e");
    forged.key = other_keys.key;
    EXPECT_EQ(put(t0, forged).error().code, item_errc::invalid_signature);
}

TEST_F(item_store_fixture, seq_must_grow_and_equal_seq_only_refreshes) {
    const mutable_item first = item(5, "i5e");
    ASSERT_EQ(put(t0, first), put_outcome::stored);
    EXPECT_EQ(put(t0, item(4, "i4e")).error().code, item_errc::seq_not_newer);
    EXPECT_EQ(put(t0, item(5, "i6e")).error().code, item_errc::seq_not_newer);
    EXPECT_EQ(value_at(t0, first.target()), "i5e");
    EXPECT_EQ(put(t0 + hours(1), first), put_outcome::refreshed);
    EXPECT_EQ(put(t0, item(6, "i6e")), put_outcome::replaced);
    const auto answer = store->get(t0, first.target());
    EXPECT_EQ(answer->seq, 6);
    EXPECT_EQ(answer->sig, item(6, "i6e").sig);
    EXPECT_EQ(as_chars(answer->value), "i6e");
    EXPECT_EQ(store->size(), 1u);
    EXPECT_EQ(store->bytes(), 3u);
}

TEST_F(item_store_fixture, stale_puts_are_refused_before_their_signature_is_checked) {
    ASSERT_EQ(put(t0, item(5, "i5e")), put_outcome::stored);
    mutable_item stale = item(4, "i4e");
    stale.sig = {};
    EXPECT_EQ(put(t0, stale).error().code, item_errc::seq_not_newer);
}

TEST_F(item_store_fixture, cas_must_name_the_stored_seq) {
    const mutable_item first = item(5, "i5e");
    // With nothing stored, cas is ignored.
    ASSERT_EQ(put(t0, first, 3), put_outcome::stored);
    EXPECT_EQ(put(t0, item(6, "i6e"), 4).error().code, item_errc::cas_mismatch);
    EXPECT_EQ(put(t0, item(6, "i6e"), 6).error().code, item_errc::cas_mismatch);
    EXPECT_EQ(value_at(t0, first.target()), "i5e");
    EXPECT_EQ(put(t0, item(6, "i6e"), 5), put_outcome::replaced);
    EXPECT_EQ(put(t0, item(6, "i6e"), 6), put_outcome::refreshed);
    EXPECT_EQ(put(t0, item(5, "i5e"), 6).error().code, item_errc::seq_not_newer);
    // Past its lifetime the item is gone, and cas with it.
    const time_point later = t0 + config.item_lifetime;
    EXPECT_EQ(put(later, item(2, "i2e"), 99), put_outcome::stored);
    EXPECT_EQ(value_at(later, first.target()), "i2e");
}

TEST_F(item_store_fixture, a_get_with_seq_leaves_out_what_the_requester_has) {
    const mutable_item m = item(7, "i7e");
    ASSERT_EQ(put(t0, m), put_outcome::stored);
    for (std::int64_t seq : {7, 8, 1000}) {
        const auto answer = store->get(t0, m.target(), seq);
        ASSERT_TRUE(answer);
        EXPECT_TRUE(answer->is_mutable);
        EXPECT_TRUE(answer->seq_only);
        EXPECT_EQ(answer->seq, 7);
        EXPECT_TRUE(answer->value.empty());
    }
    const auto newer = store->get(t0, m.target(), 6);
    ASSERT_TRUE(newer);
    EXPECT_FALSE(newer->seq_only);
    EXPECT_EQ(as_chars(newer->value), "i7e");
}

TEST_F(item_store_fixture, items_expire_after_their_lifetime_without_a_refresh) {
    const std::string kept = value_of(1);
    const std::string dropped = value_of(2);
    const mutable_item m = item(1, "i1e");
    ASSERT_EQ(put_immutable(t0, kept), put_outcome::stored);
    ASSERT_EQ(put_immutable(t0, dropped), put_outcome::stored);
    ASSERT_EQ(put(t0, m), put_outcome::stored);
    const time_point half = t0 + config.item_lifetime / 2;
    EXPECT_EQ(put_immutable(half, kept), put_outcome::refreshed);

    const time_point end = t0 + config.item_lifetime;
    EXPECT_TRUE(holds_immutable(end - nanoseconds(1), dropped));
    EXPECT_EQ(store->expire(end - nanoseconds(1)), 0u);
    // Gone from gets at once, freed by expire().
    EXPECT_FALSE(holds_immutable(end, dropped));
    EXPECT_FALSE(store->get(end, m.target()));
    EXPECT_TRUE(holds_immutable(end, kept));
    EXPECT_EQ(store->size(), 3u);
    EXPECT_EQ(store->expire(end), 2u);
    EXPECT_EQ(store->size(), 1u);
    EXPECT_EQ(store->bytes(), kept.size());
    EXPECT_EQ(store->counters().expired, 2u);
    EXPECT_EQ(store->expire(half + config.item_lifetime), 1u);
    EXPECT_EQ(store->size(), 0u);
    EXPECT_EQ(store->bytes(), 0u);
}

TEST_F(item_store_fixture, a_put_over_an_expired_item_starts_afresh) {
    const mutable_item m = item(9, "i9e");
    ASSERT_EQ(put(t0, m), put_outcome::stored);
    const time_point later = t0 + config.item_lifetime + hours(1);
    // A lower seq is fine once the old item is gone, even before expire() ran.
    EXPECT_EQ(put(later, item(1, "i1e")), put_outcome::stored);
    EXPECT_EQ(store->size(), 1u);
    EXPECT_EQ(store->bytes(), 3u);
    EXPECT_EQ(store->counters().expired, 1u);
    EXPECT_EQ(put_immutable(later, "i5e"), put_outcome::stored);
    EXPECT_EQ(put_immutable(later + config.item_lifetime, "i5e"), put_outcome::stored);
    EXPECT_EQ(store->counters().expired, 2u);
}

TEST_F(item_store_fixture, items_max_holds_and_evicts_the_least_recently_refreshed) {
    config.items_max = 10;
    remake();
    for (std::size_t n = 0; n < 10; ++n) {
        ASSERT_EQ(put_immutable(t0 + nanoseconds(n), value_of(n)), put_outcome::stored);
    }
    // Item 0 is refreshed: item 1 is now the least recently refreshed.
    ASSERT_EQ(put_immutable(t0 + hours(1), value_of(0)), put_outcome::refreshed);
    ASSERT_EQ(put_immutable(t0 + hours(1), value_of(100)), put_outcome::stored);
    EXPECT_EQ(store->size(), 10u);
    EXPECT_TRUE(holds_immutable(t0 + hours(1), value_of(0)));
    EXPECT_FALSE(holds_immutable(t0 + hours(1), value_of(1)));
    EXPECT_TRUE(holds_immutable(t0 + hours(1), value_of(2)));
    EXPECT_EQ(store->counters().evicted, 1u);

    for (std::size_t n = 200; n < 300; ++n) {
        ASSERT_TRUE(put_immutable(t0 + hours(1) + nanoseconds(n), value_of(n)));
        ASSERT_LE(store->size(), config.items_max);
    }
    // The newest ten remain.
    for (std::size_t n = 290; n < 300; ++n) {
        EXPECT_TRUE(holds_immutable(t0 + hours(2), value_of(n))) << n;
    }
    EXPECT_EQ(store->counters().evicted, 101u);
}

TEST_F(item_store_fixture, bytes_max_holds_and_a_grown_item_never_evicts_itself) {
    config.bytes_max = 1000;
    remake();
    for (std::size_t n = 0; n < 10; ++n) {
        ASSERT_EQ(put_immutable(t0 + nanoseconds(n), value_of(n, 100)), put_outcome::stored);
    }
    EXPECT_EQ(store->bytes(), 1000u);
    // 300 bytes more: the three oldest go.
    ASSERT_EQ(put_immutable(t0 + hours(1), value_of(10, 300)), put_outcome::stored);
    EXPECT_EQ(store->bytes(), 1000u);
    EXPECT_EQ(store->size(), 8u);
    for (std::size_t n = 0; n < 3; ++n) {
        EXPECT_FALSE(holds_immutable(t0 + hours(1), value_of(n, 100))) << n;
    }
    EXPECT_TRUE(holds_immutable(t0 + hours(1), value_of(3, 100)));

    // The oldest item is mutable and grows to the whole bound: everything else goes.
    remake();
    const mutable_item small = item(1, value_of(1, 100));
    ASSERT_EQ(put(t0, small), put_outcome::stored);
    for (std::size_t n = 0; n < 9; ++n) {
        ASSERT_EQ(put_immutable(t0 + nanoseconds(n + 1), value_of(n, 100)), put_outcome::stored);
    }
    ASSERT_EQ(put(t0 + hours(1), item(2, value_of(2, 1000))), put_outcome::replaced);
    EXPECT_EQ(store->size(), 1u);
    EXPECT_EQ(store->bytes(), 1000u);
    EXPECT_EQ(store->get(t0 + hours(1), small.target())->seq, 2);
}

TEST_F(item_store_fixture, bounds_hold_under_a_random_mix_of_puts) {
    config.items_max = 50;
    config.bytes_max = 5000;
    remake();
    rng mix(3);
    time_point now = t0;
    for (int step = 0; step < 1000; ++step) {
        now += std::chrono::seconds(mix.uniform(10));
        const std::size_t n = mix.uniform(200);
        const std::size_t size = 4 + mix.uniform(997);
        if (mix.uniform(2) == 0) {
            ASSERT_TRUE(put_immutable(now, value_of(n, size)));
        } else {
            ASSERT_TRUE(
                put(now, item(static_cast<std::int64_t>(step), value_of(n, size), std::to_string(n))));
        }
        if (step % 100 == 0) {
            store->expire(now);
        }
        ASSERT_LE(store->size(), config.items_max);
        ASSERT_LE(store->bytes(), config.bytes_max);
    }
    EXPECT_GT(store->counters().evicted, 0u);
}

TEST_F(item_store_fixture, the_kinds_never_share_a_target) {
    // Only SHA-1 collisions make targets meet; handing the store v = k ‖ salt shows the rule.
    const mutable_item m = item(1, "i1e", "foobar");
    std::string k_salt(as_chars(m.key.view()));
    k_salt += "foobar";
    ASSERT_EQ(put(t0, m), put_outcome::stored);
    EXPECT_EQ(store->put_immutable(t0, m.target(), as_bytes(k_salt)).error().code, item_errc::protocol_error);
    EXPECT_EQ(value_at(t0, m.target()), "i1e");

    remake();
    ASSERT_EQ(store->put_immutable(t0, m.target(), as_bytes(k_salt)), put_outcome::stored);
    EXPECT_EQ(put(t0, m).error().code, item_errc::protocol_error);
    EXPECT_FALSE(store->get(t0, m.target())->is_mutable);
}

TEST_F(item_store_fixture, an_empty_store_costs_no_heap) {
    EXPECT_LE(sizeof(item_store), 160u);
    EXPECT_EQ(store->memory_bytes(), 0u);
    for (std::size_t n = 0; n < 100; ++n) {
        ASSERT_TRUE(put_immutable(t0, value_of(n, 100)));
    }
    ASSERT_TRUE(put(t0, item(1, value_of(1, 100))));
    EXPECT_GT(store->memory_bytes(), 101u * 100u);
    EXPECT_EQ(store->expire(t0 + config.item_lifetime), 101u);
    // Emptied, it gives its buckets back.
    EXPECT_EQ(store->memory_bytes(), 0u);
}

}  // namespace
}  // namespace hyphae::dht
