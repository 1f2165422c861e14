#pragma once
// The torrent's record of one peer, shared by the files that implement the torrent by concern
// (torrent.cpp, torrent_peers.cpp, torrent_download.cpp, torrent_verify.cpp, torrent_upload.cpp,
// torrent_metadata.cpp). Not for other includers.

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "hyphae/proto/bittorrent/torrent.hpp"

namespace hyphae::bittorrent {

struct torrent::peer {
    peer(peer_connection c, peer_source s, bool up, time_point now)
        : conn(std::move(c)), source(s), connected(up), dialled_at(now) {}

    peer_connection conn;
    peer_source source;
    bool connected;  // the TCP connection is up (incoming ones are from the start)
    time_point dialled_at;
    bool greeted = false;       // our pieces and extension handshake have been sent
    bool availability = false;  // its pieces are counted in the picker
    bool counted_as_seed = false;
    bool snubbed = false;
    bool no_metadata = false;  // it rejected a metadata request
    std::size_t reads_in_flight = 0;
    std::size_t send_in_flight = 0;
    std::size_t metadata_requests = 0;
    std::size_t requests_counted = 0;  // its requests in flight, as counted in requests_in_flight_
    bool doomed = false;               // its bytes did not fit: closed at the end of this input
    int strikes = 0;
    std::vector<piece_index> suggested;
    std::optional<time_point> pex_accepted_at;
    std::vector<endpoint> pex_sent;  // what our PEX messages told it we are connected to (sorted)
};

// A received block, out of the socket's buffer and into one its write job keeps alive.
inline shared_bytes copy_bytes(byte_view bytes) {
    return std::make_shared<const std::vector<std::uint8_t>>(bytes.begin(), bytes.end());
}

}  // namespace hyphae::bittorrent
