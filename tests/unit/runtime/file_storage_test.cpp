#include "hyphae/runtime/file_storage.hpp"

#include <filesystem>

#include "temp_dir.hpp"
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "hyphae/core/bencode_writer.hpp"
#include "hyphae/runtime/disk_pool.hpp"

namespace hyphae {
using namespace hyphae::bittorrent;
namespace {

// 3 files (one empty) and a pad file, 16 KiB pieces, pieces spanning files.
metainfo make_meta() {
    const std::int64_t piece = 16384;
    const bdict info{{"files", blist{bdict{{"length", 20000}, {"path", blist{"a.bin"}}},
                                     bdict{{"length", 0}, {"path", blist{"sub", "empty"}}},
                                     bdict{{"attr", "p"}, {"length", 1000}, {"path", blist{".pad", "1000"}}},
                                     bdict{{"length", 30000}, {"path", blist{"sub", "b.bin"}}}}},
                     {"name", "t"},
                     {"piece length", piece},
                     {"pieces", std::string(20 * 4, 'x')}};
    const std::string file = bencode(bdict{{"info", info}});
    return *parse_metainfo(as_bytes(file));
}

TEST(file_storage, creates_sparse_files_and_round_trips_blocks_across_files) {
    test::temp_dir dir;
    const metainfo meta = make_meta();
    auto storage = file_storage::open(meta, dir / "save", true);
    ASSERT_TRUE(storage) << storage.error().message();
    EXPECT_EQ(std::filesystem::file_size(dir.path() / "save/t/a.bin"), 20000u);
    EXPECT_EQ(std::filesystem::file_size(dir.path() / "save/t/sub/b.bin"), 30000u);
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "save/t/sub/empty"));
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "save/t/.pad")) << "pad files are never written";
    struct stat st {};
    ASSERT_EQ(stat((dir / "save/t/sub/b.bin").c_str(), &st), 0);
    EXPECT_LT(st.st_blocks * 512, 30000) << "allocated lazily";

    const std::string all = test::pseudo_random_bytes(51000, 3);
    for (piece_index p = 0; p < 4; ++p) {
        const std::size_t start = p * 16384u;
        const std::size_t length = std::min<std::size_t>(16384, all.size() - start);
        ASSERT_TRUE((*storage)->write(p, 0, as_bytes(std::string_view(all).substr(start, length))));
    }
    ASSERT_TRUE((*storage)->sync());
    // Piece 1 spans a.bin, the empty file and the pad file, then b.bin; the pad reads as zeros.
    auto piece1 = (*storage)->read(1, 0, 16384);
    ASSERT_TRUE(piece1);
    std::string expected = all.substr(16384, 16384);
    std::fill(expected.begin() + (20000 - 16384), expected.begin() + (21000 - 16384), '\0');
    EXPECT_EQ(as_chars(*piece1), expected);
    auto hash = (*storage)->hash_piece(3);
    ASSERT_TRUE(hash);
    EXPECT_EQ(*hash, sha1(as_bytes(std::string_view(all).substr(3 * 16384))));
    EXPECT_EQ(test::read_file(dir / "save/t/a.bin"), all.substr(0, 20000));
}

TEST(file_storage, bounds_open_files) {
    test::temp_dir dir;
    const metainfo meta = make_meta();
    auto storage = file_storage::open(meta, dir / "save", true, storage_config{1});
    ASSERT_TRUE(storage);
    for (int round = 0; round < 3; ++round) {
        EXPECT_TRUE((*storage)->read(1, 0, 16384));  // opens a.bin and b.bin in turn
    }
}

TEST(file_storage, reports_missing_and_short_files) {
    test::temp_dir dir;
    const metainfo meta = make_meta();
    std::filesystem::create_directories(dir.path() / "save");
    auto storage = file_storage::open(meta, dir / "save", false);
    ASSERT_TRUE(storage);
    auto missing = (*storage)->read(0, 0, 100);
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message().find("cannot open"), std::string::npos);
    dir.write("save/t/a.bin", "short");
    auto short_read = (*storage)->read(0, 0, 100);
    ASSERT_FALSE(short_read);
    EXPECT_NE(short_read.error().message().find("shorter than the torrent says"), std::string::npos);
}

TEST(file_storage, never_writes_through_a_planted_link) {
    test::temp_dir dir;
    const metainfo meta = make_meta();
    std::filesystem::create_directories(dir.path() / "save/t");
    std::filesystem::create_directories(dir.path() / "elsewhere");
    std::filesystem::create_directory_symlink(dir.path() / "elsewhere", dir.path() / "save/t/sub");
    auto storage = file_storage::open(meta, dir / "save", true);
    // Either creating the files fails, or writing does; nothing lands outside the folder.
    if (storage) {
        (void)(*storage)->write(3, 0, as_bytes(std::string(1000, 'x')));
    }
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "elsewhere/b.bin"));
}

TEST(file_storage, hashes_pieces_right_whatever_order_blocks_are_written_in) {
    test::temp_dir dir;
    const std::int64_t piece = 4 * 16384;
    const std::string info_pieces(20 * 4, 'x');
    const std::string file = bencode(bdict{
        {"info",
         bdict{
             {"length", 4 * piece - 100}, {"name", "f"}, {"piece length", piece}, {"pieces", info_pieces}}}});
    const metainfo meta = *parse_metainfo(as_bytes(file));
    auto storage = file_storage::open(meta, dir / "save", true);
    ASSERT_TRUE(storage);
    const std::string all = test::pseudo_random_bytes(static_cast<std::size_t>(meta.total_size), 9);
    const auto block = [&](piece_index p, std::uint32_t b) {
        const std::size_t start = static_cast<std::size_t>(p * piece) + b * 16384u;
        return as_bytes(
            std::string_view(all).substr(start, std::min<std::size_t>(16384, all.size() - start)));
    };
    const auto expected = [&](piece_index p) {
        return sha1(as_bytes(std::string_view(all).substr(static_cast<std::size_t>(p * piece),
                                                          static_cast<std::size_t>(meta.piece_size(p)))));
    };
    const std::vector<std::vector<std::uint32_t>> orders = {
        {0, 1, 2, 3}, {3, 2, 1, 0}, {0, 2, 1, 3}, {1, 0, 3, 2}};
    for (piece_index p = 0; p < 4; ++p) {
        for (std::uint32_t b : orders[p]) {
            ASSERT_TRUE((*storage)->write(p, b * 16384, block(p, b)));
        }
        auto hash = (*storage)->hash_piece(p);
        ASSERT_TRUE(hash);
        EXPECT_EQ(*hash, expected(p)) << "piece " << p;
    }
    // A piece written again after a failure is hashed from its new bytes.
    const std::string wrong(16384, 'w');
    ASSERT_TRUE((*storage)->write(0, 0, as_bytes(wrong)));
    EXPECT_NE(*(*storage)->hash_piece(0), expected(0));
    for (std::uint32_t b = 0; b < 4; ++b) {
        ASSERT_TRUE((*storage)->write(0, b * 16384, block(0, b)));
    }
    EXPECT_EQ(*(*storage)->hash_piece(0), expected(0));
}

TEST(disk_pool, runs_everything_submitted_before_it_is_destroyed) {
    std::atomic<int> done{0};
    {
        disk_pool pool(3);
        for (int i = 0; i < 1000; ++i) {
            pool.submit([&] { ++done; });
        }
    }
    EXPECT_EQ(done, 1000);
}

}  // namespace
}  // namespace hyphae
