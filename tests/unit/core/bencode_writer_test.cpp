#include "hyphae/core/bencode_writer.hpp"

#include <limits>

#include <gtest/gtest.h>

namespace hyphae {
namespace {

TEST(bencode_writer, writes_every_type) {
    std::string out;
    bencode_writer w(out);
    w.begin_dict()
        .key("a")
        .integer(-7)
        .key("b")
        .string("xy")
        .key("c")
        .begin_list()
        .integer(0)
        .string("")
        .end()
        .key("d")
        .raw("i1e")
        .end();
    EXPECT_EQ(out, "d1:ai-7e1:b2:xy1:cli0e0:e1:di1ee");
}

TEST(bencode_writer, writes_integer_extremes) {
    std::string out;
    bencode_writer(out).integer(std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(out, "i-9223372036854775808e");
}

TEST(bvalue, encodes_with_sorted_keys_and_round_trips) {
    bvalue v = bdict{{"zeta", 1}, {"alpha", blist{"x", bvalue(std::int64_t{1} << 40)}}, {"mid", bdict{}}};
    const std::string encoded = bencode(v);
    EXPECT_EQ(encoded, "d5:alphal1:xi1099511627776ee3:midde4:zetai1ee");
    auto doc = bdecode(as_bytes(encoded));
    ASSERT_TRUE(doc);
    EXPECT_EQ(to_bvalue(doc->root()), v);
}

TEST(bvalue, keeps_binary_strings_intact) {
    const std::string binary("\0\x01\xff", 3);
    bvalue v = blist{binary};
    const std::string encoded = bencode(v);  // the document views these bytes: keep them alive
    auto doc = bdecode(as_bytes(encoded));
    ASSERT_TRUE(doc);
    EXPECT_EQ(to_bvalue(doc->root()).as_list().front().as_string(), binary);
}

}  // namespace
}  // namespace hyphae
