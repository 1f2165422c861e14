#include "hyphae/core/bencode.hpp"

#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace hyphae {
namespace {

tl::expected<bdocument, bdecode_error> decode(std::string_view text, const bdecode_limits& limits = {}) {
    return bdecode(as_bytes(text), limits);
}

// Decodes `text`, expecting failure with `code` at `offset`.
void expect_error(std::string_view text, bdecode_errc code, std::size_t offset,
                  const bdecode_limits& limits = {}) {
    auto doc = decode(text, limits);
    ASSERT_FALSE(doc) << "decoded: " << text;
    EXPECT_EQ(doc.error().code, code) << text << ": " << doc.error().message();
    EXPECT_EQ(doc.error().offset, offset) << text << ": " << doc.error().message();
}

TEST(bencode, decodes_integers) {
    for (auto [text, value] : std::initializer_list<std::pair<std::string_view, std::int64_t>>{
             {"i0e", 0},
             {"i42e", 42},
             {"i-42e", -42},
             {"i9223372036854775807e", std::numeric_limits<std::int64_t>::max()},
             {"i-9223372036854775808e", std::numeric_limits<std::int64_t>::min()}}) {
        auto doc = decode(text);
        ASSERT_TRUE(doc) << text << ": " << doc.error().message();
        EXPECT_TRUE(doc->root().is_int());
        EXPECT_EQ(doc->root().as_int(), value) << text;
        EXPECT_FALSE(doc->root().as_string());
    }
}

TEST(bencode, decodes_strings_without_copying) {
    const std::string text = "11:hello world";
    auto doc = decode(text);
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc->root().as_string(), "hello world");
    EXPECT_EQ(doc->root().as_string()->data(), text.data() + 3);
    auto empty = decode("0:");
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->root().as_string(), "");
    auto binary = decode(std::string_view("3:\0\xff\x01", 5));
    ASSERT_TRUE(binary);
    EXPECT_EQ(binary->root().as_string()->size(), 3u);
}

TEST(bencode, decodes_lists_and_dicts_with_iteration) {
    const std::string text = "d1:ai1e1:bli2e3:xyzle0:e1:cd1:di-1eee";
    auto doc = decode(text);
    ASSERT_TRUE(doc) << doc.error().message();
    const bnode root = doc->root();
    ASSERT_TRUE(root.is_dict());
    EXPECT_EQ(root.size(), 3u);
    EXPECT_EQ(root.find_int("a"), 1);
    const bnode b = root.find_list("b");
    ASSERT_TRUE(b.is_list());
    EXPECT_EQ(b.size(), 4u);
    std::vector<btype> types;
    for (bnode item : b.list_items()) {
        types.push_back(item.type());
    }
    EXPECT_EQ(types, (std::vector<btype>{btype::integer, btype::string, btype::list, btype::string}));
    EXPECT_EQ(root.find_dict("c").find_int("d"), -1);
    std::vector<std::string_view> keys;
    for (auto [key, value] : root.dict_items()) {
        keys.push_back(key);
        EXPECT_TRUE(value.valid());
    }
    EXPECT_EQ(keys, (std::vector<std::string_view>{"a", "b", "c"}));
    EXPECT_EQ(doc->value_count(), 13u);
}

TEST(bencode, lookups_of_the_wrong_type_or_missing_are_empty) {
    auto doc = decode("d1:ai1e1:b1:xe");
    ASSERT_TRUE(doc);
    const bnode root = doc->root();
    EXPECT_FALSE(root.find("zz").valid());
    EXPECT_FALSE(root.find_string("a"));
    EXPECT_FALSE(root.find_int("b"));
    EXPECT_FALSE(root.find_list("a").valid());
    EXPECT_FALSE(root.find_dict("b").valid());
    // Dictionary operations on a non-dictionary and list operations on a non-list are empty.
    EXPECT_FALSE(root.find("a").find("x").valid());
    EXPECT_EQ(root.find("a").list_items().begin(), root.find("a").list_items().end());
    EXPECT_EQ(root.find("a").size(), 0u);
    EXPECT_FALSE(bnode{}.valid());
    EXPECT_FALSE(bnode{}.is_dict());
    EXPECT_TRUE(bnode{}.raw().empty());
}

TEST(bencode, reports_exact_byte_ranges_of_nested_values) {
    const std::string sorted = "d4:infod6:lengthi3e4:name1:xe5:other0:e";
    auto doc = decode(sorted);
    ASSERT_TRUE(doc) << doc.error().message();
    const bnode info = doc->root().find("info");
    EXPECT_EQ(as_chars(info.raw()), "d6:lengthi3e4:name1:xe");
    EXPECT_EQ(info.offset(), 7u);
    EXPECT_EQ(as_chars(doc->root().raw()), sorted);
    EXPECT_EQ(as_chars(info.find("length").raw()), "i3e");
}

TEST(bencode, prefix_decoding_stops_after_the_first_value) {
    const std::string text = "d8:msg_typei1e5:piecei0eeRAWDATA";
    auto doc = bdecode_prefix(as_bytes(text));
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc->root().raw().size(), text.size() - 7);
    EXPECT_EQ(doc->root().find_int("piece"), 0);
    expect_error(text, bdecode_errc::trailing_data, text.size() - 7);
}

TEST(bencode, rejects_malformed_integers) {
    expect_error("i03e", bdecode_errc::leading_zero, 1);
    expect_error("i-03e", bdecode_errc::negative_zero, 0);
    expect_error("i-0e", bdecode_errc::negative_zero, 0);
    expect_error("i00e", bdecode_errc::leading_zero, 1);
    expect_error("ie", bdecode_errc::expected_digit, 1);
    expect_error("i-e", bdecode_errc::expected_digit, 2);
    expect_error("i12", bdecode_errc::unexpected_end, 3);
    expect_error("i", bdecode_errc::unexpected_end, 1);
    expect_error("i-", bdecode_errc::unexpected_end, 2);
    expect_error("i1x", bdecode_errc::expected_end, 2);
    expect_error("i1.5e", bdecode_errc::expected_end, 2);
    expect_error("i9223372036854775808e", bdecode_errc::integer_overflow, 0);
    expect_error("i-9223372036854775809e", bdecode_errc::integer_overflow, 0);
    expect_error("i99999999999999999999999e", bdecode_errc::integer_overflow, 0);
}

TEST(bencode, rejects_malformed_strings) {
    expect_error("03:abc", bdecode_errc::leading_zero, 0);
    expect_error("4:abc", bdecode_errc::string_exceeds_input, 0);
    expect_error("3abc", bdecode_errc::expected_colon, 1);
    expect_error("3", bdecode_errc::unexpected_end, 1);
    expect_error("99999999999999999999:x", bdecode_errc::string_too_long, 0);
    bdecode_limits small;
    small.string_length_max = 4;
    expect_error("5:abcde", bdecode_errc::string_too_long, 0, small);
    EXPECT_TRUE(decode("4:abcd", small));
}

TEST(bencode, rejects_bad_structure) {
    expect_error("", bdecode_errc::unexpected_end, 0);
    expect_error("x", bdecode_errc::expected_value, 0);
    expect_error("l", bdecode_errc::unexpected_end, 1);
    expect_error("li1e", bdecode_errc::unexpected_end, 4);
    expect_error("d", bdecode_errc::unexpected_end, 1);
    expect_error("e", bdecode_errc::expected_value, 0);
    expect_error("lxe", bdecode_errc::expected_value, 1);
    expect_error("i1ei2e", bdecode_errc::trailing_data, 3);
    expect_error("dle", bdecode_errc::key_not_string, 1);
    expect_error("di1ei2ee", bdecode_errc::key_not_string, 1);
    expect_error("d1:ae", bdecode_errc::key_without_value, 4);
    expect_error("d1:a", bdecode_errc::unexpected_end, 4);
}

TEST(bencode, requires_sorted_unique_keys) {
    expect_error("d1:bi1e1:ai2ee", bdecode_errc::keys_unsorted, 7);
    expect_error("d1:ai1e1:ai2ee", bdecode_errc::duplicate_key, 7);
    // Raw byte order: "B" (0x42) < "a" (0x61), a shorter prefix first, 0xff after ASCII.
    EXPECT_TRUE(decode("d1:Bi1e1:ai2e2:aai3e1:\xffi4ee"));
    expect_error("d2:aai1e1:ai2ee", bdecode_errc::keys_unsorted, 8);
    // Nested dictionaries keep their own key order.
    EXPECT_TRUE(decode("d1:bd1:ai1ee1:ci1ee"));
}

TEST(bencode, unsorted_keys_are_accepted_when_asked_but_duplicates_never) {
    bdecode_limits lenient;
    lenient.sorted_keys_required = false;
    auto doc = decode("d1:bi1e1:ai2ee", lenient);
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc->root().find_int("a"), 2);
    expect_error("d1:ai1e1:ai2ee", bdecode_errc::duplicate_key, 7, lenient);
}

TEST(bencode, enforces_depth_limit_without_recursion) {
    bdecode_limits limits;
    limits.depth_max = 3;
    EXPECT_TRUE(decode("llleee", limits));
    expect_error("lllleeee", bdecode_errc::depth_exceeded, 3, limits);
    // A default-limited decode of a very deep document fails cleanly instead of overflowing a stack.
    const std::string deep = std::string(100000, 'l') + std::string(100000, 'e');
    expect_error(deep, bdecode_errc::depth_exceeded, 64);
}

TEST(bencode, enforces_value_count_limit) {
    bdecode_limits limits;
    limits.values_max = 3;
    EXPECT_TRUE(decode("li1ei2ee", limits));
    expect_error("li1ei2ei3ee", bdecode_errc::too_many_values, 7, limits);
}

TEST(bencode, error_messages_name_the_problem_and_offset) {
    auto doc = decode("i03e");
    ASSERT_FALSE(doc);
    EXPECT_EQ(doc.error().message(), "leading zero in number at offset 1");
    for (int code = 0; code <= static_cast<int>(bdecode_errc::input_too_large); ++code) {
        EXPECT_NE(to_string(static_cast<bdecode_errc>(code)), "unknown error");
    }
}

TEST(bencode, nodes_survive_moving_the_document) {
    const std::string text = "d1:ali1ei2eee";
    auto doc = decode(text);
    ASSERT_TRUE(doc);
    const bnode list = doc->root().find("a");
    bdocument moved = std::move(*doc);
    EXPECT_EQ(list.size(), 2u);
    EXPECT_EQ((*list.list_items().begin()).as_int(), 1);
    EXPECT_EQ(moved.root().find("a").size(), 2u);
}

}  // namespace
}  // namespace hyphae
