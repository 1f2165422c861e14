#include "hyphae/proto/bittorrent/metainfo.hpp"

#include <gtest/gtest.h>

#include "hyphae/core/bencode_writer.hpp"

namespace hyphae::bittorrent {
namespace {

constexpr std::int64_t piece = 32768;

std::string hashes_for(std::int64_t total) {
    const auto pieces = static_cast<std::size_t>((total + piece - 1) / piece);
    std::string out;
    for (std::size_t i = 0; i < pieces; ++i) {
        out += std::string(20, static_cast<char>('a' + i % 26));
    }
    return out;
}

bdict single_info(std::int64_t length = 100000) {
    return bdict{
        {"length", length}, {"name", "file.bin"}, {"piece length", piece}, {"pieces", hashes_for(length)}};
}

bvalue file_entry_of(std::int64_t length, blist path) {
    return bdict{{"length", length}, {"path", std::move(path)}};
}

bdict multi_info() {
    return bdict{{"files", blist{file_entry_of(40000, {"a", "x.txt"}), file_entry_of(0, {"empty"}),
                                 file_entry_of(30000, {"b.bin"})}},
                 {"name", "folder"},
                 {"piece length", piece},
                 {"pieces", hashes_for(70000)}};
}

std::string torrent_of(bdict info, bdict outer = {}) {
    outer["info"] = std::move(info);
    return bencode(outer);
}

result<metainfo> parse(const std::string& file) {
    return parse_metainfo(as_bytes(file));
}

// Parses, expecting an error whose message contains each of `parts`.
void expect_error(const std::string& file, std::initializer_list<std::string_view> parts) {
    auto m = parse(file);
    ASSERT_FALSE(m) << "parsed";
    for (std::string_view part : parts) {
        EXPECT_NE(m.error().message().find(part), std::string::npos) << m.error().message();
    }
}

TEST(metainfo, parses_a_single_file_torrent) {
    const std::string file = torrent_of(single_info(), {{"announce", "http://t/a"},
                                                        {"comment", "hello"},
                                                        {"created by", "test"},
                                                        {"creation date", 1700000000}});
    auto m = parse(file);
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(m->name, "file.bin");
    EXPECT_FALSE(m->multi_file);
    EXPECT_EQ(m->total_size, 100000);
    EXPECT_EQ(m->piece_count(), 4u);
    EXPECT_EQ(m->piece_size(3), 100000 - 3 * piece);
    ASSERT_EQ(m->files.size(), 1u);
    EXPECT_EQ(m->files[0].path, "file.bin");
    EXPECT_EQ(m->trackers, (std::vector<std::vector<std::string>>{{"http://t/a"}}));
    EXPECT_EQ(m->comment, "hello");
    EXPECT_EQ(m->created_by, "test");
    EXPECT_EQ(m->creation_date, 1700000000);
    EXPECT_FALSE(m->is_private);
    EXPECT_EQ(m->format, torrent_format::v1);
    EXPECT_TRUE(m->warnings.empty());
    EXPECT_EQ(m->piece_hash(1), *sha1_hash::from_bytes(std::string(20, 'b')));
}

TEST(metainfo, info_hash_is_sha1_of_the_original_info_bytes) {
    const std::string info = bencode(single_info());
    const std::string file = "d8:announce3:x:y4:info" + info + "e";
    auto m = parse(file);
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(m->info_hash, sha1(as_bytes(info)));
    EXPECT_EQ(m->info_bytes, info);
    auto alone = parse_info_dictionary(as_bytes(info));
    ASSERT_TRUE(alone);
    EXPECT_EQ(alone->info_hash, m->info_hash);
    EXPECT_TRUE(alone->trackers.empty());
}

TEST(metainfo, parses_a_multi_file_torrent_with_offsets) {
    auto m = parse(torrent_of(multi_info()));
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_TRUE(m->multi_file);
    ASSERT_EQ(m->files.size(), 3u);
    EXPECT_EQ(m->files[0].path, "folder/a/x.txt");
    EXPECT_EQ(m->files[1].path, "folder/empty");
    EXPECT_EQ(m->files[1].size, 0);
    EXPECT_EQ(m->files[2].path, "folder/b.bin");
    EXPECT_EQ(m->files[2].offset, 40000);
    EXPECT_EQ(m->total_size, 70000);
    const file_layout layout = m->layout();
    EXPECT_EQ(layout.map_piece(1).size(), 2u);
}

TEST(metainfo, reads_announce_list_tiers_and_url_list) {
    auto m = parse(torrent_of(
        single_info(), {{"announce", "http://ignored"},
                        {"announce-list", blist{blist{"http://a", "udp://b:1"}, blist{}, blist{"http://c"}}},
                        {"url-list", blist{"http://w1/", "http://w2/"}}}));
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(m->trackers, (std::vector<std::vector<std::string>>{{"http://a", "udp://b:1"}, {"http://c"}}));
    EXPECT_EQ(m->web_seeds, (std::vector<std::string>{"http://w1/", "http://w2/"}));
    auto single = parse(torrent_of(single_info(), {{"url-list", "http://w/"}}));
    ASSERT_TRUE(single);
    EXPECT_EQ(single->web_seeds, std::vector<std::string>{"http://w/"});
}

TEST(metainfo, malformed_optional_fields_become_warnings) {
    auto m = parse(torrent_of(single_info(), {{"announce", 5},
                                              {"announce-list", blist{blist{7}, "x"}},
                                              {"comment", 1},
                                              {"creation date", "yesterday"},
                                              {"url-list", 3}}));
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_TRUE(m->trackers.empty());
    EXPECT_EQ(m->warnings.size(), 6u);
    EXPECT_FALSE(m->creation_date);
}

TEST(metainfo, reads_private_flag_and_file_attributes) {
    bdict info = multi_info();
    info["private"] = 1;
    info["files"].as_list()[1].as_dict()["attr"] = "x";
    auto m = parse(torrent_of(info));
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_TRUE(m->is_private);
    EXPECT_TRUE(m->files[1].executable);
    EXPECT_FALSE(m->files[0].executable);
}

TEST(metainfo, rejects_unsafe_paths) {
    const std::pair<blist, std::string_view> cases[] = {
        {{"..", "x"}, "'..' is not allowed"},
        {{"a", "."}, "'.' is not allowed"},
        {{""}, "empty path component"},
        {{"/etc/passwd"}, "contains '/'"},
        {{"a/../../b"}, "contains '/'"},
        {{std::string("a\0b", 3)}, "NUL"},
        {{std::string(256, 'x')}, "longer than 255"},
        {{}, "empty path"},
    };
    for (const auto& [path, why] : cases) {
        bdict info = multi_info();
        info["files"].as_list()[0].as_dict()["path"] = path;
        expect_error(torrent_of(info), {"info.files[0].path", why});
    }
    bdict bad_name = single_info();
    bad_name["name"] = "..";
    expect_error(torrent_of(bad_name), {"info.name", "not allowed"});
    bad_name["name"] = "a/b";
    expect_error(torrent_of(bad_name), {"info.name", "contains '/'"});
    bdict not_string = multi_info();
    not_string["files"].as_list()[0].as_dict()["path"] = blist{"a", 5};
    expect_error(torrent_of(not_string), {"info.files[0].path[1]", "expected string, got integer"});
}

TEST(metainfo, rejects_files_that_would_overwrite_each_other) {
    bdict duplicate = multi_info();
    duplicate["files"].as_list()[1] = file_entry_of(0, {"b.bin"});
    expect_error(torrent_of(duplicate), {"two files have the path 'folder/b.bin'"});
    bdict file_and_dir = multi_info();
    file_and_dir["files"].as_list()[1] = file_entry_of(0, {"a"});
    expect_error(torrent_of(file_and_dir), {"'folder/a' is both a file and a directory"});
}

TEST(metainfo, rejects_bad_lengths_and_pieces) {
    expect_error(torrent_of(single_info(-1)), {"info.length", "negative"});
    bdict neg_file = multi_info();
    neg_file["files"].as_list()[2].as_dict()["length"] = -5;
    expect_error(torrent_of(neg_file), {"info.files[2].length", "negative"});
    bdict zero = single_info(0);
    expect_error(torrent_of(zero), {"total size is 0"});
    bdict short_pieces = single_info();
    short_pieces["pieces"] = std::string(60, 'x');
    expect_error(torrent_of(short_pieces), {"info.pieces", "holds 60 bytes; 4 pieces need 80"});
    bdict ragged = single_info();
    ragged["pieces"] = std::string(81, 'x');
    expect_error(torrent_of(ragged), {"info.pieces", "81"});
    bdict zero_piece = single_info();
    zero_piece["piece length"] = 0;
    expect_error(torrent_of(zero_piece), {"info.piece length", "positive"});
    bdict huge_piece = single_info();
    huge_piece["piece length"] = std::int64_t{1} << 40;
    expect_error(torrent_of(huge_piece), {"info.piece length", "limit"});
    bdict overflow = multi_info();
    overflow["files"].as_list()[0].as_dict()["length"] = INT64_MAX;
    expect_error(torrent_of(overflow), {"info.files", "overflows"});
}

TEST(metainfo, rejects_missing_and_mistyped_fields) {
    expect_error("i1e", {"torrent file", "top level is not a dictionary"});
    expect_error("d8:announce1:xe", {"no 'info' dictionary"});
    expect_error(torrent_of({}), {"info.name", "expected string, got nothing"});
    bdict info = single_info();
    info.erase("length");
    expect_error(torrent_of(info), {"neither 'length'"});
    bdict both = multi_info();
    both["length"] = 5;
    expect_error(torrent_of(both), {"both 'length'"});
    bdict no_pieces = single_info();
    no_pieces.erase("pieces");
    expect_error(torrent_of(no_pieces), {"info.pieces", "expected string, got nothing"});
    bdict files_not_list = multi_info();
    files_not_list["files"] = "x";
    expect_error(torrent_of(files_not_list), {"info.files", "expected list, got string"});
    bdict empty_files = multi_info();
    empty_files["files"] = blist{};
    expect_error(torrent_of(empty_files), {"info.files", "empty file list"});
    bdict entry_not_dict = multi_info();
    entry_not_dict["files"].as_list()[0] = 1;
    expect_error(torrent_of(entry_not_dict), {"info.files[0]", "expected dictionary, got integer"});
    bdict private_string = single_info();
    private_string["private"] = "1";
    expect_error(torrent_of(private_string), {"info.private"});
    expect_error(bencode(bdict{{"info", "x"}}), {"info", "expected dictionary, got string"});
}

TEST(metainfo, reports_bencode_errors_with_offsets) {
    expect_error("d4:infoi03ee", {"torrent file", "bencode: leading zero in number at offset 8"});
    expect_error("d4:info", {"bencode", "offset 7"});
}

TEST(metainfo, enforces_file_count_and_depth_limits) {
    metainfo_limits limits;
    limits.file_count_max = 2;
    auto m = parse_metainfo(as_bytes(torrent_of(multi_info())), limits);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, errc::limit_exceeded);
    limits = {};
    limits.path_depth_max = 1;
    m = parse_metainfo(as_bytes(torrent_of(multi_info())), limits);
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message().find("path components"), std::string::npos);
}

TEST(metainfo, reads_hybrid_torrents_as_v1_with_both_hashes) {
    bdict info = multi_info();
    info["meta version"] = 2;
    info["file tree"] = bdict{{"a", bdict{}}};
    info["files"].as_list()[1] = bdict{{"attr", "p"}, {"length", 0}, {"path", blist{".pad", "0"}}};
    const std::string file = torrent_of(info);
    auto m = parse(file);
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(m->format, torrent_format::hybrid);
    ASSERT_TRUE(m->info_hash_v2);
    EXPECT_EQ(*m->info_hash_v2, sha256(as_bytes(m->info_bytes)));
    EXPECT_EQ(m->info_hash, sha1(as_bytes(m->info_bytes)));
    EXPECT_TRUE(m->files[1].pad);
}

TEST(metainfo, pad_files_may_share_a_name) {
    bdict info = multi_info();
    info["files"] =
        blist{file_entry_of(40000, {"a"}), bdict{{"attr", "p"}, {"length", 0}, {"path", blist{".pad", "0"}}},
              file_entry_of(30000, {"b"}), bdict{{"attr", "p"}, {"length", 0}, {"path", blist{".pad", "0"}}}};
    EXPECT_TRUE(parse(torrent_of(info)));
}

TEST(metainfo, refuses_v2_only_torrents_clearly) {
    const bdict info{{"file tree", bdict{{"x", bdict{{"", bdict{{"length", 5}}}}}}},
                     {"meta version", 2},
                     {"name", "x"},
                     {"piece length", piece}};
    auto m = parse(torrent_of(info));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, errc::unsupported);
    EXPECT_NE(m.error().message().find("v2-only torrent (BEP 52) is not supported; its v2 info-hash is " +
                                       sha256(as_bytes(bencode(info))).to_hex()),
              std::string::npos)
        << m.error().message();
    bdict future = single_info();
    future["meta version"] = 3;
    expect_error(torrent_of(future), {"meta version", "version 3 is not supported"});
}

}  // namespace
}  // namespace hyphae::bittorrent
