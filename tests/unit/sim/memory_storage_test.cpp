#include "hyphae/sim/memory_storage.hpp"

#include <gtest/gtest.h>

#include "hyphae/core/sha.hpp"

namespace hyphae::sim {
namespace {

disk_job job(disk_job::kind what, std::uint32_t piece, std::uint32_t begin, std::uint32_t length,
             shared_bytes data = nullptr) {
    return disk_job{1, 1, what, piece, begin, length, std::move(data)};
}

TEST(memory_storage, the_content_is_a_valid_torrent_of_seeded_bytes) {
    auto c = shared_content::make("x", 100'000, 32 * 1024, 7);
    EXPECT_EQ(c->meta().total_size, 100'000);
    EXPECT_EQ(c->meta().piece_count(), 4u);
    const std::string all = c->bytes();
    ASSERT_EQ(all.size(), 100'000u);
    EXPECT_EQ(c->meta().piece_hash(3), sha1(as_bytes(std::string_view(all).substr(3 * 32 * 1024))));
    EXPECT_EQ(shared_content::make("x", 100'000, 32 * 1024, 7)->meta().info_hash, c->meta().info_hash);
    EXPECT_NE(shared_content::make("x", 100'000, 32 * 1024, 8)->meta().info_hash, c->meta().info_hash);
}

TEST(memory_storage, whole_block_reads_share_the_content_and_others_copy) {
    auto c = shared_content::make("x", 100'000, 32 * 1024, 7);
    memory_storage seed(c, true);
    auto r = seed.run(job(disk_job::kind::read, 1, 16 * 1024, 16 * 1024));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.data.get(), c->block(48 * 1024).get());
    auto odd = seed.run(job(disk_job::kind::read, 0, 100, 50));
    ASSERT_TRUE(odd.ok);
    EXPECT_EQ(std::string(odd.data->begin(), odd.data->end()), c->bytes().substr(100, 50));
}

TEST(memory_storage, a_leecher_holds_what_matched_and_hashes_only_good_pieces) {
    auto c = shared_content::make("x", 100'000, 32 * 1024, 7);
    memory_storage leecher(c, false);
    EXPECT_FALSE(leecher.run(job(disk_job::kind::read, 0, 0, 16 * 1024)).ok);
    leecher.run(job(disk_job::kind::write, 0, 0, 16 * 1024, c->block(0)));
    auto wrong = std::make_shared<std::vector<std::uint8_t>>(*c->block(16 * 1024));
    (*wrong)[5] ^= 1;
    leecher.run(job(disk_job::kind::write, 0, 16 * 1024, 16 * 1024, wrong));
    EXPECT_EQ(leecher.bad_writes(), 1u);
    EXPECT_EQ(leecher.run(job(disk_job::kind::hash, 0, 0, 32 * 1024)).hash, sha1_hash{});
    // A copy of the right bytes matches as the content's own block does.
    leecher.run(job(disk_job::kind::write, 0, 16 * 1024, 16 * 1024,
                    std::make_shared<std::vector<std::uint8_t>>(*c->block(16 * 1024))));
    EXPECT_EQ(leecher.bad_writes(), 1u);
    EXPECT_EQ(leecher.run(job(disk_job::kind::hash, 0, 0, 32 * 1024)).hash, c->meta().piece_hash(0));
    EXPECT_FALSE(leecher.complete());
    for (std::uint64_t at = 32 * 1024; at < 100'000; at += 16 * 1024) {
        leecher.run(job(disk_job::kind::write, static_cast<std::uint32_t>(at / (32 * 1024)),
                        static_cast<std::uint32_t>(at % (32 * 1024)), 0, c->block(at)));
    }
    EXPECT_TRUE(leecher.complete());
}

TEST(memory_storage, a_corrupt_seeder_reads_wrong_bytes) {
    auto c = shared_content::make("x", 100'000, 32 * 1024, 7);
    memory_storage seed(c, true);
    seed.corrupt_piece = 2;
    auto r = seed.run(job(disk_job::kind::read, 2, 0, 16 * 1024));
    EXPECT_NE(*r.data, *c->block(64 * 1024));
    EXPECT_EQ(*seed.run(job(disk_job::kind::read, 1, 0, 16 * 1024)).data, *c->block(32 * 1024));
}

}  // namespace
}  // namespace hyphae::sim
