#pragma once
// Peer-wire messages after the handshake: <u32 length><u8 id><payload> (BEP 3), with the fast
// extension (BEP 6) and the extension protocol envelope (BEP 10). decode_message() reads one
// message from the front of a receive buffer without copying: payload views point into it.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/error.hpp"

namespace hyphae::bittorrent::wire {

enum class message_id : std::uint8_t {
    choke = 0,
    unchoke = 1,
    interested = 2,
    not_interested = 3,
    have = 4,
    bitfield = 5,
    request = 6,
    piece = 7,
    cancel = 8,
    port = 9,
    suggest = 13,
    have_all = 14,
    have_none = 15,
    reject = 16,
    allowed_fast = 17,
    extended = 20,
};

struct keep_alive_msg {};
struct choke_msg {};
struct unchoke_msg {};
struct interested_msg {};
struct not_interested_msg {};
struct have_msg {
    std::uint32_t piece;
};
struct bitfield_msg {
    byte_view bits;
};
struct request_msg {
    std::uint32_t piece;
    std::uint32_t begin;
    std::uint32_t length;
};
struct piece_msg {
    std::uint32_t piece;
    std::uint32_t begin;
    byte_view data;
};
struct cancel_msg {
    std::uint32_t piece;
    std::uint32_t begin;
    std::uint32_t length;
};
struct port_msg {
    std::uint16_t port;
};
struct suggest_msg {
    std::uint32_t piece;
};
struct have_all_msg {};
struct have_none_msg {};
struct reject_msg {
    std::uint32_t piece;
    std::uint32_t begin;
    std::uint32_t length;
};
struct allowed_fast_msg {
    std::uint32_t piece;
};
struct extended_msg {
    std::uint8_t id;  // 0: the extension handshake; others as the peer's handshake assigned them
    byte_view payload;
};
// An id we do not know; BEP 3 says to ignore it.
struct unknown_msg {
    std::uint8_t id;
};

using message =
    std::variant<keep_alive_msg, choke_msg, unchoke_msg, interested_msg, not_interested_msg, have_msg,
                 bitfield_msg, request_msg, piece_msg, cancel_msg, port_msg, suggest_msg, have_all_msg,
                 have_none_msg, reject_msg, allowed_fast_msg, extended_msg, unknown_msg>;

struct decoded {
    message msg;
    std::size_t consumed;  // bytes of the buffer this message took
};

// One message from the front of `buffer`: empty when more bytes are needed, an error when the
// length is over `length_max` or does not fit the message id.
result<std::optional<decoded>> decode_message(byte_view buffer, std::size_t length_max);

// Encoders append to `out`. A piece message is its 13-byte header; the block follows it, so that
// the block can be sent from its own buffer without a copy.
void append(std::string& out, const message& msg);
void append_piece_header(std::string& out, std::uint32_t piece, std::uint32_t begin, std::uint32_t length);
constexpr std::size_t piece_header_size = 4 + 1 + 8;  // length, id, index, begin

// A big-endian 32-bit field at `at` (the caller has checked the length).
std::uint32_t read_u32(byte_view b, std::size_t at);

std::string_view name_of(const message& msg);

}  // namespace hyphae::bittorrent::wire
