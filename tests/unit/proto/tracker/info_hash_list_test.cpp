#include "hyphae/proto/tracker/info_hash_list.hpp"

#include <gtest/gtest.h>

namespace hyphae::tracker {
namespace {

TEST(info_hash_list, reads_hex_lines_skipping_blanks_and_comments) {
    const std::string a(40, 'a');
    const std::string b(40, 'B');
    auto list = parse_info_hash_list("# swarms\n" + b + "\r\n\n  " + a + " \t\n" + a + "\n   \n");
    ASSERT_TRUE(list) << list.error().message();
    ASSERT_EQ(list->size(), 2u);  // sorted, without the repeat
    EXPECT_EQ((*list)[0].to_hex(), a);
    EXPECT_EQ((*list)[1].to_hex(), std::string(40, 'b'));
    EXPECT_TRUE(parse_info_hash_list("")->empty());
}

TEST(info_hash_list, names_the_line_of_a_bad_entry) {
    auto list = parse_info_hash_list(std::string(40, 'a') + "\n\nnot-a-hash\n");
    ASSERT_FALSE(list);
    EXPECT_EQ(list.error().message(), "allow-list line 3: 'not-a-hash' is not a 40-digit hex info-hash");
    EXPECT_FALSE(parse_info_hash_list(std::string(39, 'a')));
    EXPECT_FALSE(parse_info_hash_list(std::string(40, 'a') + " x"));
}

}  // namespace
}  // namespace hyphae::tracker
