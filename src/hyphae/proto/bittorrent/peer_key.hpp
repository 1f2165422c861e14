#pragma once
// How the swarm's data structures (piece_picker, choker) name a peer: the torrent's id for the
// connection, unique among its live connections. Reusing a key after peer_gone() is allowed.

#include <cstdint>

namespace hyphae::bittorrent {

using peer_key = std::uint32_t;

}  // namespace hyphae::bittorrent
