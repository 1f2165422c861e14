#pragma once
// BEP 11 peer exchange messages: peers added (with flags) and dropped since the last message,
// in compact form, IPv4 and IPv6.

#include <cstdint>
#include <string>
#include <vector>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/error.hpp"

namespace hyphae::bittorrent::wire {

namespace pex_flag {
inline constexpr std::uint8_t encryption = 0x01;
inline constexpr std::uint8_t seed = 0x02;
inline constexpr std::uint8_t utp = 0x04;
inline constexpr std::uint8_t holepunch = 0x08;
inline constexpr std::uint8_t reachable = 0x10;
}  // namespace pex_flag

struct pex_peer {
    endpoint address;
    std::uint8_t flags = 0;
    friend bool operator==(const pex_peer&, const pex_peer&) = default;
};

struct pex_message {
    std::vector<pex_peer> added;
    std::vector<endpoint> dropped;
};

// The next message to one peer: those of `connected` it has not been told of (but never itself,
// `self`) and those of `told` no longer connected, at most `peers_max` of each; `told` becomes what
// the peer then knows. Both lists are in address order and stay so: the differences are merges,
// where a search per pair cost a torrent with 50 peers 125,000 comparisons a round.
pex_message next_pex(std::vector<endpoint>& told, const std::vector<pex_peer>& connected,
                     const std::vector<endpoint>& self, std::size_t peers_max);

// BEP 11 sends at most 50 of each; we accept up to `peers_max` of each and reject more.
result<pex_message> parse_pex(byte_view payload, std::size_t peers_max = 200);
std::string encode_pex(const pex_message& m);

}  // namespace hyphae::bittorrent::wire
