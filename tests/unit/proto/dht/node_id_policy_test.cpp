#include "hyphae/proto/dht/node_id_policy.hpp"

#include <gtest/gtest.h>

namespace hyphae::dht {
namespace {

ip_address ip(std::string_view text) {
    return *ip_address::parse(text);
}

struct bep42_vector {
    const char* address;
    std::uint8_t last_byte;
    const char* example_id;  // the BEP's example; bytes 3..18 and the low bits of byte 2 are random
};

// BEP 42's test vectors.
constexpr bep42_vector vectors[] = {
    {"124.31.75.21", 1, "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401"},
    {"21.75.31.124", 86, "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256"},
    {"65.23.51.170", 22, "a5d43220bc8f112a3d426c84764f8c2a1150e616"},
    {"84.124.73.14", 65, "1b0321dd1bb1fe518101ceef99462b947a01ff41"},
    {"43.213.53.83", 90, "e56f6cbf5b7c4be0237986d5243b87aa6d51305a"},
};

TEST(bep42, makes_the_prefixes_of_the_test_vectors) {
    rng random(1);
    for (const bep42_vector& v : vectors) {
        SCOPED_TRACE(v.address);
        const node_id expected = *node_id::from_hex(v.example_id);
        const node_id id = make_node_id(ip(v.address), v.last_byte, random);
        EXPECT_EQ(id.bytes[0], expected.bytes[0]);
        EXPECT_EQ(id.bytes[1], expected.bytes[1]);
        EXPECT_EQ(id.bytes[2] & 0xf8, expected.bytes[2] & 0xf8);
        EXPECT_EQ(id.bytes[19], v.last_byte);
        EXPECT_TRUE(verify_node_id(id, ip(v.address)));
    }
}

TEST(bep42, accepts_the_example_ids_of_the_test_vectors) {
    for (const bep42_vector& v : vectors) {
        SCOPED_TRACE(v.address);
        EXPECT_TRUE(verify_node_id(*node_id::from_hex(v.example_id), ip(v.address)));
    }
    // The same ids from a neighbouring address, or with another r, fail.
    EXPECT_FALSE(verify_node_id(*node_id::from_hex(vectors[0].example_id), ip("124.31.75.22")));
    EXPECT_FALSE(verify_node_id(*node_id::from_hex(vectors[0].example_id), ip("21.75.31.124")));
    node_id other_r = *node_id::from_hex(vectors[0].example_id);
    other_r.bytes[19] ^= 0x02;
    EXPECT_FALSE(verify_node_id(other_r, ip(vectors[0].address)));
}

TEST(bep42, the_prefix_sees_only_the_masked_bits_and_r) {
    // 0x030f3fff keeps 2, 4, 6 and 8 bits of the four bytes; the BEP shifts r to the top 3 bits.
    EXPECT_EQ(node_id_prefix(ip("124.31.75.21"), 1), node_id_prefix(ip("0.15.11.21"), 1));
    EXPECT_EQ(node_id_prefix(ip("124.31.75.21"), 1), node_id_prefix(ip("124.31.75.21"), 9));
    EXPECT_NE(node_id_prefix(ip("124.31.75.21"), 1), node_id_prefix(ip("124.31.75.21"), 2));
    // IPv6 uses the high 64 bits only, masked with 0x0103070f1f3f7fff.
    EXPECT_EQ(node_id_prefix(ip("2001:db8:1:2:3:4:5:6"), 3), node_id_prefix(ip("2001:db8:1:2::"), 3));
    EXPECT_EQ(node_id_prefix(ip("2001:db8:1:2::"), 3), node_id_prefix(ip("1:508:1:2::"), 3));
    EXPECT_NE(node_id_prefix(ip("2001:db8:1:2::"), 3), node_id_prefix(ip("2001:db8:1:3::"), 3));
}

TEST(bep42, made_ids_verify_for_random_addresses_of_both_families) {
    rng random(42);
    for (int i = 0; i < 2000; ++i) {
        const ip_address v4 = ip_address::v4(static_cast<std::uint32_t>(random()));
        std::array<std::uint8_t, 16> bytes{};
        for (auto& b : bytes) {
            b = static_cast<std::uint8_t>(random());
        }
        const ip_address v6 = ip_address::v6(bytes);
        for (const ip_address& a : {v4, v6}) {
            const node_id id = make_node_id(a, random);
            ASSERT_TRUE(verify_node_id(id, a)) << a.to_string() << " " << id.to_hex();
        }
    }
}

TEST(bep42, ids_for_another_address_fail) {
    rng random(3);
    int accepted = 0;
    int trials = 0;
    for (int i = 0; i < 2000; ++i) {
        const ip_address a = ip_address::v4(static_cast<std::uint32_t>(random()));
        const ip_address b = ip_address::v4(static_cast<std::uint32_t>(random()));
        if (is_exempt(a) || is_exempt(b) || node_id_prefix(a, 0) == node_id_prefix(b, 0)) {
            continue;
        }
        ++trials;
        accepted += verify_node_id(make_node_id(a, random), b) ? 1 : 0;
    }
    EXPECT_GT(trials, 1500);
    EXPECT_EQ(accepted, 0);  // 21 bits: a chance match is one in two million
    // Any one of the 21 bits flipped fails; the bits after them are free.
    const ip_address a = ip("124.31.75.21");
    const node_id id = make_node_id(a, 1, random);
    for (int bit = 0; bit < 160; ++bit) {
        node_id flipped = id;
        flipped.bytes[static_cast<std::size_t>(bit / 8)] ^= static_cast<std::uint8_t>(0x80 >> (bit % 8));
        const bool in_prefix = bit < 21;
        const bool in_r = bit >= 157;
        EXPECT_EQ(verify_node_id(flipped, a), !in_prefix && !in_r) << bit;
    }
    // A random id almost never passes; a zero id does not.
    EXPECT_FALSE(verify_node_id(node_id{}, a));
}

TEST(bep42, local_addresses_are_exempt) {
    for (const char* text : {"10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                             "169.254.3.4", "127.0.0.1", "127.8.8.8", "::1", "fc00::1", "fdff:ffff::1",
                             "fe80::1", "febf::1", "::ffff:192.168.0.1", "::ffff:127.0.0.1"}) {
        SCOPED_TRACE(text);
        EXPECT_TRUE(is_exempt(ip(text)));
        EXPECT_TRUE(verify_node_id(node_id{}, ip(text)));
    }
    for (const char* text :
         {"11.0.0.1", "9.255.255.255", "172.15.0.1", "172.32.0.1", "192.169.1.1", "169.253.3.4", "128.0.0.1",
          "1.2.3.4", "2001:db8::1", "fec0::1", "fb00::1", "::2", "::ffff:1.2.3.4", "ff02::1"}) {
        SCOPED_TRACE(text);
        EXPECT_FALSE(is_exempt(ip(text)));
        EXPECT_FALSE(verify_node_id(node_id{}, ip(text)));
    }
}

TEST(bep42, mapped_addresses_count_as_ipv4) {
    rng random(5);
    const node_id id = make_node_id(ip("::ffff:124.31.75.21"), 1, random);
    EXPECT_TRUE(verify_node_id(id, ip("124.31.75.21")));
    EXPECT_TRUE(verify_node_id(*node_id::from_hex(vectors[0].example_id), ip("::ffff:124.31.75.21")));
}

TEST(bep42, a_seed_gives_the_same_id) {
    rng a(9);
    rng b(9);
    EXPECT_EQ(make_node_id(ip("1.2.3.4"), a), make_node_id(ip("1.2.3.4"), b));
    EXPECT_NE(make_node_id(ip("1.2.3.4"), a), make_node_id(ip("1.2.3.4"), a));
}

}  // namespace
}  // namespace hyphae::dht
