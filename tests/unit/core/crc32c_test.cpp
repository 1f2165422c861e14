#include "hyphae/core/crc32c.hpp"

#include <gtest/gtest.h>

namespace hyphae {
namespace {

TEST(crc32c, matches_the_published_check_values) {
    EXPECT_EQ(crc32c(as_bytes("")), 0u);
    EXPECT_EQ(crc32c(as_bytes("123456789")), 0xe3069283u);  // the CRC catalogue's check value
    // RFC 3720 (iSCSI), appendix B.4.
    byte_buffer zeros(32, 0x00);
    byte_buffer ones(32, 0xff);
    byte_buffer up(32);
    byte_buffer down(32);
    for (std::size_t i = 0; i < 32; ++i) {
        up[i] = static_cast<std::uint8_t>(i);
        down[i] = static_cast<std::uint8_t>(31 - i);
    }
    EXPECT_EQ(crc32c(zeros), 0x8a9136aau);
    EXPECT_EQ(crc32c(ones), 0x62a8ab43u);
    EXPECT_EQ(crc32c(up), 0x46dd794eu);
    EXPECT_EQ(crc32c(down), 0x113fdb5cu);
}

TEST(crc32c, continues_a_message_given_in_pieces) {
    const std::string_view text = "123456789";
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        EXPECT_EQ(crc32c(as_bytes(text.substr(cut)), crc32c(as_bytes(text.substr(0, cut)))), 0xe3069283u);
    }
}

}  // namespace
}  // namespace hyphae
