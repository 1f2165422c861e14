#include "hyphae/core/encoding.hpp"

#include <gtest/gtest.h>

namespace hyphae {
namespace {

TEST(hex, round_trips_and_accepts_either_case) {
    const std::string bytes("\x00\x01\xab\xff", 4);
    EXPECT_EQ(to_hex(as_bytes(bytes)), "0001abff");
    EXPECT_EQ(from_hex("0001ABff"), byte_buffer({0x00, 0x01, 0xab, 0xff}));
    EXPECT_EQ(from_hex(""), byte_buffer{});
}

TEST(hex, rejects_odd_lengths_and_non_hex) {
    EXPECT_FALSE(from_hex("abc"));
    EXPECT_FALSE(from_hex("zz"));
    EXPECT_FALSE(from_hex("0g"));
    EXPECT_FALSE(from_hex(" 0"));
}

TEST(base32, matches_rfc_4648_vectors_without_padding) {
    const std::pair<std::string_view, std::string_view> vectors[] = {
        {"", ""},
        {"f", "MY"},
        {"fo", "MZXQ"},
        {"foo", "MZXW6"},
        {"foob", "MZXW6YQ"},
        {"fooba", "MZXW6YTB"},
        {"foobar", "MZXW6YTBOI"},
    };
    for (auto [plain, encoded] : vectors) {
        EXPECT_EQ(to_base32(as_bytes(plain)), encoded);
        auto decoded = from_base32(encoded);
        ASSERT_TRUE(decoded) << encoded;
        EXPECT_EQ(as_chars(*decoded), plain);
    }
    auto lower = from_base32("mzxw6ytboi");
    ASSERT_TRUE(lower);
    EXPECT_EQ(as_chars(*lower), "foobar");
}

TEST(base32, rejects_bad_characters_padding_and_stray_bits) {
    EXPECT_FALSE(from_base32("MZXW6YTBO1"));  // '1' is not in the alphabet
    EXPECT_FALSE(from_base32("MY======"));    // padding is not used in magnet links
    EXPECT_FALSE(from_base32("MZ"));          // non-zero trailing bits
    EXPECT_FALSE(from_base32("M"));           // not a whole byte
}

TEST(percent_encoding, encodes_all_but_unreserved_and_decodes_plus_as_space) {
    EXPECT_EQ(percent_encode("a-b_c.d~e f/g"), "a-b_c.d~e%20f%2Fg");
    EXPECT_EQ(percent_decode("a+b%2fc"), "a b/c");
    EXPECT_FALSE(percent_decode("%"));
    EXPECT_FALSE(percent_decode("%a"));
    EXPECT_FALSE(percent_decode("%g0"));
}

TEST(percent_encoding, tracker_queries_keep_plus_literal) {
    EXPECT_EQ(percent_decode("a+b%2B%00", plus_sign::literal), std::string("a+b+\0", 5));
    EXPECT_EQ(percent_decode(percent_encode(std::string("\xff+ \x01", 4)), plus_sign::literal),
              std::string("\xff+ \x01", 4));
}

}  // namespace
}  // namespace hyphae
