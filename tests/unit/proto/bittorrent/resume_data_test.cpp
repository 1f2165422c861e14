#include "hyphae/proto/bittorrent/resume_data.hpp"

#include <gtest/gtest.h>

namespace hyphae::bittorrent {
namespace {

TEST(resume_data, round_trips) {
    resume_data r;
    r.info_hash.bytes.fill(7);
    r.pieces = bitfield(13);
    r.pieces.set(0);
    r.pieces.set(12);
    r.uploaded = 100;
    r.downloaded = 2000;
    const std::string bytes = encode_resume_data(r);
    auto back = parse_resume_data(as_bytes(bytes), r.info_hash, 13);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->pieces, r.pieces);
    EXPECT_EQ(back->uploaded, 100);
    EXPECT_EQ(back->downloaded, 2000);
}

TEST(resume_data, refuses_other_torrents_sizes_and_formats) {
    resume_data r;
    r.info_hash.bytes.fill(7);
    r.pieces = bitfield(13);
    const std::string bytes = encode_resume_data(r);
    sha1_hash other;
    other.bytes.fill(8);
    EXPECT_FALSE(parse_resume_data(as_bytes(bytes), other, 13));
    EXPECT_FALSE(parse_resume_data(as_bytes(bytes), r.info_hash, 14));
    EXPECT_FALSE(parse_resume_data(as_bytes("de"), r.info_hash, 13));
    EXPECT_FALSE(parse_resume_data(as_bytes("garbage"), r.info_hash, 13));
}

}  // namespace
}  // namespace hyphae::bittorrent
