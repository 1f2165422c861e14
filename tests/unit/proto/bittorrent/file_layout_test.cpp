#include "hyphae/proto/bittorrent/file_layout.hpp"

#include <gtest/gtest.h>

namespace hyphae::bittorrent {
namespace {

TEST(file_layout, counts_pieces_and_the_short_last_piece) {
    auto layout = file_layout::create({100, 0, 50}, 64);
    ASSERT_TRUE(layout);
    EXPECT_EQ(layout->total_size(), 150);
    EXPECT_EQ(layout->piece_count(), 3u);
    EXPECT_EQ(layout->piece_size(0), 64);
    EXPECT_EQ(layout->piece_size(2), 22);
    EXPECT_EQ(layout->file_offset(2), 100);
    auto exact = file_layout::create({128}, 64);
    ASSERT_TRUE(exact);
    EXPECT_EQ(exact->piece_count(), 2u);
    EXPECT_EQ(exact->piece_size(1), 64);
}

TEST(file_layout, maps_pieces_across_files_and_skips_empty_ones) {
    auto layout = file_layout::create({100, 0, 0, 50, 10}, 64);
    ASSERT_TRUE(layout);
    EXPECT_EQ(layout->map_piece(0), (std::vector<file_slice>{{0, 0, 64}}));
    EXPECT_EQ(layout->map_piece(1), (std::vector<file_slice>{{0, 64, 36}, {3, 0, 28}}));
    EXPECT_EQ(layout->map_piece(2), (std::vector<file_slice>{{3, 28, 22}, {4, 0, 10}}));
    EXPECT_EQ(layout->map_range(100, 1), (std::vector<file_slice>{{3, 0, 1}}));
    EXPECT_TRUE(layout->map_range(10, 0).empty());
}

TEST(file_layout, empty_files_at_the_start_and_end) {
    auto layout = file_layout::create({0, 10, 0}, 4);
    ASSERT_TRUE(layout);
    EXPECT_EQ(layout->map_range(0, 10), (std::vector<file_slice>{{1, 0, 10}}));
}

TEST(file_layout, rejects_impossible_layouts) {
    EXPECT_FALSE(file_layout::create({10}, 0));
    EXPECT_FALSE(file_layout::create({10}, -5));
    EXPECT_FALSE(file_layout::create({10, -1}, 16));
    EXPECT_FALSE(file_layout::create({INT64_MAX, 1}, 16));
    auto too_many = file_layout::create({std::int64_t{1} << 40}, 16);
    ASSERT_FALSE(too_many);
    EXPECT_EQ(too_many.error().code, errc::limit_exceeded);
    auto zero = file_layout::create({0}, 16);
    ASSERT_TRUE(zero);
    EXPECT_EQ(zero->piece_count(), 0u);
}

}  // namespace
}  // namespace hyphae::bittorrent
