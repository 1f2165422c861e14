#include "test_content.hpp"
#include <gtest/gtest.h>

#include "hyphae/proto/bittorrent/resume_data.hpp"
#include "hyphae/session/session.hpp"

namespace hyphae {
namespace {

byte_buffer resume_of(const bittorrent::metainfo& meta, std::initializer_list<std::size_t> pieces) {
    bitfield have(meta.piece_count());
    for (const std::size_t p : pieces) {
        have.set(p);
    }
    return to_buffer(bittorrent::encode_resume_data(bittorrent::resume_data{meta.info_hash, have, 0, 0}));
}

TEST(resume_policy, a_fresh_download_checks_nothing_and_trusts_nothing) {
    const auto content = test::make_test_content(64 * 1024, 16 * 1024, 1);
    const auto d = decide_resume(content.meta, std::nullopt, false, false);
    EXPECT_FALSE(d.check);
    EXPECT_FALSE(d.trusted);
    EXPECT_TRUE(d.warning.empty());
}

TEST(resume_policy, resume_data_is_trusted_and_the_rest_on_disk_is_checked) {
    const auto content = test::make_test_content(64 * 1024, 16 * 1024, 1);
    const auto d = decide_resume(content.meta, resume_of(content.meta, {0, 2}), true, false);
    ASSERT_TRUE(d.trusted);
    EXPECT_EQ(d.trusted->count(), 2u);
    EXPECT_TRUE(d.trusted->test(2));
    EXPECT_TRUE(d.check);
}

TEST(resume_policy, seeding_checks_everything_and_ignores_resume_data) {
    const auto content = test::make_test_content(64 * 1024, 16 * 1024, 1);
    const auto d = decide_resume(content.meta, resume_of(content.meta, {0, 1, 2, 3}), true, true);
    EXPECT_FALSE(d.trusted);
    EXPECT_TRUE(d.check);
}

TEST(resume_policy, resume_data_of_another_torrent_is_ignored_with_a_warning) {
    const auto content = test::make_test_content(64 * 1024, 16 * 1024, 1);
    const auto other = test::make_test_content(64 * 1024, 16 * 1024, 2);
    const auto d = decide_resume(content.meta, resume_of(other.meta, {0}), true, false);
    EXPECT_FALSE(d.trusted);
    EXPECT_TRUE(d.check);
    EXPECT_TRUE(d.warning.starts_with("ignoring resume data: ")) << d.warning;
    const auto garbage = decide_resume(content.meta, to_buffer("not bencode"), false, false);
    EXPECT_FALSE(garbage.trusted);
    EXPECT_FALSE(garbage.warning.empty());
}

TEST(resume_policy, the_resume_file_lives_beside_the_data) {
    const auto content = test::make_test_content(16 * 1024, 16 * 1024, 1);
    EXPECT_EQ(resume_path("/data", content.meta.info_hash),
              "/data/.hyphae/" + content.meta.info_hash.to_hex() + ".resume");
}

}  // namespace
}  // namespace hyphae
