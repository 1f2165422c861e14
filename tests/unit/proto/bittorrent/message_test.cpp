#include "hyphae/proto/bittorrent/message.hpp"

#include <gtest/gtest.h>

#include "hyphae/proto/bittorrent/handshake.hpp"

namespace hyphae::bittorrent::wire {
namespace {

constexpr std::size_t limit = 16384 + 13;

message decode_one(const std::string& bytes) {
    auto r = decode_message(as_bytes(bytes), limit);
    EXPECT_TRUE(r) << r.error().message();
    EXPECT_TRUE(*r);
    EXPECT_EQ((*r)->consumed, bytes.size());
    return (*r)->msg;
}

std::string encoded(const message& m) {
    std::string out;
    append(out, m);
    return out;
}

TEST(handshake, round_trips_with_reserved_bits) {
    handshake h;
    h.info_hash.bytes.fill(0xab);
    h.peer_id.bytes.fill(0x11);
    h.set_extension_protocol();
    h.set_fast_extension();
    const std::string bytes = encode_handshake(h);
    ASSERT_EQ(bytes.size(), handshake_size);
    EXPECT_EQ(bytes.substr(0, 20),
              "\x13"
              "BitTorrent protocol");
    EXPECT_EQ(static_cast<std::uint8_t>(bytes[25]), 0x10);
    EXPECT_EQ(static_cast<std::uint8_t>(bytes[27]), 0x04);
    auto back = decode_handshake(as_bytes(bytes));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->info_hash, h.info_hash);
    EXPECT_EQ(back->peer_id, h.peer_id);
    EXPECT_TRUE(back->extension_protocol());
    EXPECT_TRUE(back->fast_extension());
    EXPECT_FALSE(back->dht());
}

TEST(handshake, rejects_other_protocols_and_short_input) {
    std::string bytes = encode_handshake(handshake{});
    EXPECT_FALSE(decode_handshake(as_bytes(bytes.substr(0, 67))));
    bytes[1] = 'b';
    auto r = decode_handshake(as_bytes(bytes));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("not the BitTorrent protocol"), std::string::npos);
}

TEST(message, every_message_round_trips) {
    const std::string bits("\xf0", 1);
    const std::string block(16384, 'b');
    const std::string ext_payload = "d1:md6:ut_pexi1eee";
    const message all[] = {keep_alive_msg{},
                           choke_msg{},
                           unchoke_msg{},
                           interested_msg{},
                           not_interested_msg{},
                           have_msg{7},
                           bitfield_msg{as_bytes(bits)},
                           request_msg{1, 16384, 16384},
                           piece_msg{2, 0, as_bytes(block)},
                           cancel_msg{1, 16384, 16384},
                           port_msg{6881},
                           suggest_msg{3},
                           have_all_msg{},
                           have_none_msg{},
                           reject_msg{4, 0, 100},
                           allowed_fast_msg{5},
                           extended_msg{0, as_bytes(ext_payload)}};
    for (const message& m : all) {
        const std::string bytes = encoded(m);
        const message back = decode_one(bytes);
        ASSERT_EQ(back.index(), m.index()) << name_of(m);
        EXPECT_EQ(encoded(back), bytes) << name_of(m);
    }
    EXPECT_EQ(encoded(have_msg{0x01020304}), std::string("\0\0\0\x05\x04\x01\x02\x03\x04", 9));
    EXPECT_EQ(encoded(keep_alive_msg{}), std::string(4, '\0'));
}

TEST(message, waits_for_whole_messages_and_takes_one_at_a_time) {
    const std::string two = encoded(have_msg{1}) + encoded(unchoke_msg{});
    for (std::size_t cut = 0; cut < 9; ++cut) {
        auto r = decode_message(as_bytes(two.substr(0, cut)), limit);
        ASSERT_TRUE(r);
        EXPECT_FALSE(*r) << cut;
    }
    auto first = decode_message(as_bytes(two), limit);
    ASSERT_TRUE(first && *first);
    EXPECT_EQ((*first)->consumed, 9u);
    EXPECT_TRUE(std::holds_alternative<have_msg>((*first)->msg));
    auto second = decode_message(as_bytes(two).subspan(9), limit);
    ASSERT_TRUE(second && *second);
    EXPECT_TRUE(std::holds_alternative<unchoke_msg>((*second)->msg));
}

TEST(message, piece_payload_is_a_view_into_the_buffer) {
    const std::string bytes = encoded(piece_msg{9, 32768, as_bytes(std::string("xyz"))});
    auto r = decode_message(as_bytes(bytes), limit);
    const auto& p = std::get<piece_msg>((*r)->msg);
    EXPECT_EQ(p.piece, 9u);
    EXPECT_EQ(p.begin, 32768u);
    EXPECT_EQ(as_chars(p.data), "xyz");
    EXPECT_EQ(reinterpret_cast<const char*>(p.data.data()), bytes.data() + 13);
}

TEST(message, rejects_bad_lengths_and_oversized_messages) {
    const std::string cases[] = {
        std::string("\0\0\0\x02\x00\x00", 6),                   // choke with a payload
        std::string("\0\0\0\x04\x04\0\0\0", 8),                 // have, 3 bytes
        std::string("\0\0\0\x0c\x06", 5) + std::string(11, 0),  // request, 11 bytes
        std::string("\0\0\0\x08\x07", 5) + std::string(7, 0),   // piece without its header
        std::string("\0\0\0\x02\x09\x01", 6),                   // port, 1 byte
        std::string("\0\0\0\x01\x14", 5),                       // extended without an id
    };
    for (const std::string& bad : cases) {
        auto r = decode_message(as_bytes(bad), limit);
        EXPECT_FALSE(r) << testing::PrintToString(bad);
    }
    auto huge = decode_message(as_bytes(std::string("\0\x01\0\0\x07", 5)), limit);
    ASSERT_FALSE(huge);
    EXPECT_EQ(huge.error().code, errc::limit_exceeded);
    EXPECT_NE(huge.error().message().find("length 65536 is over the limit"), std::string::npos);
}

TEST(message, unknown_ids_are_returned_to_be_ignored) {
    auto r = decode_message(as_bytes(std::string("\0\0\0\x03\x63zz", 7)), limit);
    ASSERT_TRUE(r && *r);
    EXPECT_EQ(std::get<unknown_msg>((*r)->msg).id, 0x63);
    EXPECT_EQ((*r)->consumed, 7u);
}

}  // namespace
}  // namespace hyphae::bittorrent::wire
