#include "hyphae/proto/bittorrent/handshake.hpp"

#include <algorithm>
#include <string_view>

namespace hyphae::bittorrent::wire {
namespace {
constexpr std::string_view protocol =
    "\x13"
    "BitTorrent protocol";
}

std::string encode_handshake(const handshake& h) {
    std::string out;
    out.reserve(handshake_size);
    out.append(protocol);
    out.append(as_chars(byte_view(h.reserved.data(), h.reserved.size())));
    out.append(h.info_hash.chars());
    out.append(h.peer_id.chars());
    return out;
}

result<handshake> decode_handshake(byte_view data) {
    if (data.size() < handshake_size) {
        return fail(errc::invalid_input, "handshake", "shorter than 68 bytes");
    }
    if (as_chars(data.first(protocol.size())) != protocol) {
        return fail(errc::invalid_input, "handshake", "not the BitTorrent protocol");
    }
    handshake h;
    std::copy_n(data.begin() + 20, 8, h.reserved.begin());
    h.info_hash = *sha1_hash::from_bytes(data.subspan(28, 20));
    h.peer_id = *id160::from_bytes(data.subspan(48, 20));
    return h;
}

}  // namespace hyphae::bittorrent::wire
