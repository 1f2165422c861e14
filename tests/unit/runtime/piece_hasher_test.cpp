#include "hyphae/runtime/piece_hasher.hpp"

#include "temp_dir.hpp"
#include <gtest/gtest.h>
#include <unistd.h>

namespace hyphae {
using namespace hyphae::bittorrent;
namespace {

struct fixture {
    test::temp_dir dir;
    std::vector<std::string> paths;
    std::vector<std::int64_t> sizes;
    std::string all;  // the concatenated content

    void add(const std::string& name, std::size_t size, std::uint64_t seed) {
        const std::string content = test::pseudo_random_bytes(size, seed);
        paths.push_back(dir.write(name, content));
        sizes.push_back(static_cast<std::int64_t>(size));
        all += content;
    }

    std::vector<sha1_hash> expected(std::int64_t piece_length) const {
        std::vector<sha1_hash> out;
        for (std::size_t at = 0; at < all.size(); at += static_cast<std::size_t>(piece_length)) {
            out.push_back(
                sha1(as_bytes(std::string_view(all).substr(at, static_cast<std::size_t>(piece_length)))));
        }
        return out;
    }
};

TEST(piece_hasher, matches_direct_hashing_across_file_boundaries_for_any_thread_count) {
    fixture f;
    // Small files (read path), an empty one, and large ones (mapped path) that pieces straddle.
    f.add("a", 1000, 1);
    f.add("b", 0, 2);
    f.add("c", (3 << 20) + 12345, 3);
    f.add("d", 70000, 4);
    f.add("e", (20 << 20) + 1, 5);
    for (std::int64_t piece_length : {std::int64_t{16384}, std::int64_t{1} << 20, std::int64_t{4} << 20}) {
        auto layout = file_layout::create(f.sizes, piece_length);
        ASSERT_TRUE(layout);
        for (unsigned threads : {1u, 2u, 5u}) {
            hash_progress progress;
            auto hashes = hash_pieces(f.paths, *layout, progress, hash_options{threads});
            ASSERT_TRUE(hashes) << hashes.error().message();
            EXPECT_EQ(*hashes, f.expected(piece_length)) << piece_length << " " << threads;
            EXPECT_EQ(progress.bytes_done, layout->total_size());
        }
    }
}

TEST(piece_hasher, reports_a_file_that_changed_size) {
    fixture f;
    f.add("a", 50000, 1);
    auto layout = file_layout::create(f.sizes, 16384);
    ASSERT_TRUE(layout);
    ASSERT_EQ(truncate(f.paths[0].c_str(), 40000), 0);
    hash_progress progress;
    auto hashes = hash_pieces(f.paths, *layout, progress);
    ASSERT_FALSE(hashes);
    EXPECT_NE(hashes.error().message().find("changed size"), std::string::npos) << hashes.error().message();
}

TEST(piece_hasher, reports_a_missing_file) {
    fixture f;
    f.add("a", 50000, 1);
    auto layout = file_layout::create(f.sizes, 16384);
    ASSERT_TRUE(layout);
    std::vector<std::string> wrong = {f.dir / "gone"};
    hash_progress progress;
    auto hashes = hash_pieces(wrong, *layout, progress);
    ASSERT_FALSE(hashes);
    EXPECT_NE(hashes.error().message().find("cannot open"), std::string::npos);
    EXPECT_FALSE(hash_pieces({}, *layout, progress));
}

TEST(piece_hasher, stops_when_cancelled) {
    fixture f;
    f.add("a", 1 << 20, 1);
    auto layout = file_layout::create(f.sizes, 16384);
    ASSERT_TRUE(layout);
    hash_progress progress;
    progress.cancel = true;
    auto hashes = hash_pieces(f.paths, *layout, progress);
    ASSERT_FALSE(hashes);
    EXPECT_NE(hashes.error().message().find("cancelled"), std::string::npos);
}

}  // namespace
}  // namespace hyphae
