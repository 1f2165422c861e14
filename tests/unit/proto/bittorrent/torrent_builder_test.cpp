#include "hyphae/proto/bittorrent/torrent_builder.hpp"

#include <gtest/gtest.h>

#include "hyphae/proto/bittorrent/metainfo.hpp"

namespace hyphae::bittorrent {
namespace {

TEST(choose_piece_length, power_of_two_with_1000_to_2000_pieces) {
    EXPECT_EQ(choose_piece_length(1), 16 * 1024);
    EXPECT_EQ(choose_piece_length(16 * 1024 * 2000), 16 * 1024);
    EXPECT_EQ(choose_piece_length(512 << 20), 512 * 1024);
    for (std::int64_t size = std::int64_t{32} << 20; size <= (std::int64_t{32} << 30); size = size * 3 / 2) {
        const std::int64_t length = choose_piece_length(size);
        const std::int64_t pieces = (size + length - 1) / length;
        EXPECT_GE(pieces, 1000) << size;
        EXPECT_LE(pieces, 2000) << size;
        EXPECT_EQ(length & (length - 1), 0) << size;
    }
    EXPECT_EQ(choose_piece_length(std::int64_t{1} << 50), 16 << 20);
}

TEST(sort_like_mktorrent, compares_whole_paths_byte_wise) {
    std::vector<source_file> files = {{"a/b", 1}, {"a-b", 1}, {"a.txt", 1},
                                      {"B", 1},   {"a/a", 1}, {"\xc3\xa9", 1}};
    sort_like_mktorrent(files);
    std::vector<std::string> order;
    for (const auto& f : files) {
        order.push_back(f.path);
    }
    EXPECT_EQ(order, (std::vector<std::string>{"B", "a-b", "a.txt", "a/a", "a/b", "\xc3\xa9"}));
}

torrent_spec multi_spec() {
    torrent_spec spec;
    spec.name = "content";
    spec.multi_file = true;
    spec.files = {{"a/x", 20000}, {"a/y", 0}, {"b", 30000}};
    spec.piece_length = 16384;
    spec.trackers = {{"http://t1/a", "http://t2/a"}, {"udp://t3:1"}};
    spec.web_seeds = {"http://w/"};
    spec.is_private = true;
    spec.comment = "c";
    spec.created_by = "hyphae test";
    spec.creation_date = 1700000000;
    return spec;
}

TEST(torrent_builder, encoded_torrent_parses_back_to_the_spec) {
    const torrent_spec spec = multi_spec();
    auto layout = validate(spec);
    ASSERT_TRUE(layout) << layout.error().message();
    EXPECT_EQ(layout->piece_count(), 4u);
    std::vector<sha1_hash> pieces(4);
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        pieces[i].bytes.fill(static_cast<std::uint8_t>(i));
    }
    const std::string info = encode_info_dictionary(spec, pieces);
    const std::string file = encode_torrent_file(spec, info);
    auto m = parse_metainfo(as_bytes(file));
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(m->info_hash, sha1(as_bytes(info)));
    EXPECT_EQ(m->name, "content");
    ASSERT_EQ(m->files.size(), 3u);
    EXPECT_EQ(m->files[0].path, "content/a/x");
    EXPECT_EQ(m->files[1].size, 0);
    EXPECT_EQ(m->piece_hash(3), pieces[3]);
    EXPECT_TRUE(m->is_private);
    EXPECT_EQ(m->trackers, spec.trackers);
    EXPECT_EQ(m->web_seeds, spec.web_seeds);
    EXPECT_EQ(m->comment, "c");
    EXPECT_EQ(m->created_by, "hyphae test");
    EXPECT_EQ(m->creation_date, 1700000000);
    EXPECT_TRUE(m->warnings.empty());
}

TEST(torrent_builder, single_tracker_needs_no_announce_list_and_private_is_optional) {
    torrent_spec spec;
    spec.name = "f";
    spec.files = {{"", 5}};
    spec.piece_length = 16384;
    spec.trackers = {{"http://only"}};
    const std::string info = encode_info_dictionary(spec, std::vector<sha1_hash>(1));
    EXPECT_EQ(info.find("private"), std::string::npos);
    EXPECT_EQ(info, "d6:lengthi5e4:name1:f12:piece lengthi16384e6:pieces20:" + std::string(20, '\0') + "e");
    const std::string file = encode_torrent_file(spec, info);
    EXPECT_EQ(file.find("announce-list"), std::string::npos);
    EXPECT_NE(file.find("8:announce11:http://only"), std::string::npos);
}

TEST(torrent_builder, validate_rejects_bad_specs) {
    torrent_spec spec = multi_spec();
    spec.piece_length = 16384 * 3;
    EXPECT_FALSE(validate(spec));
    spec.piece_length = 8192;
    EXPECT_FALSE(validate(spec));
    spec.piece_length = std::int64_t{1} << 31;
    EXPECT_FALSE(validate(spec));
    spec = multi_spec();
    spec.files = {{"a/../b", 5}};
    auto bad = validate(spec);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("'..' is not allowed"), std::string::npos);
    spec.files = {{"a//b", 5}};
    EXPECT_FALSE(validate(spec));
    spec.files = {{"x", 0}, {"y", 0}};
    auto empty = validate(spec);
    ASSERT_FALSE(empty);
    EXPECT_NE(empty.error().message().find("no content"), std::string::npos);
    spec.files = {};
    EXPECT_FALSE(validate(spec));
    spec = multi_spec();
    spec.name = "..";
    EXPECT_FALSE(validate(spec));
    spec = multi_spec();
    spec.multi_file = false;
    EXPECT_FALSE(validate(spec));
}

}  // namespace
}  // namespace hyphae::bittorrent
