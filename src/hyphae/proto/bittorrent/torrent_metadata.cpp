// Magnet links: the info dictionary from peers (BEP 9); peer exchange (BEP 11).
#include <algorithm>

#include "hyphae/proto/bittorrent/torrent.hpp"
#include "hyphae/proto/bittorrent/torrent_peer.hpp"
#include "hyphae/proto/bittorrent/ut_metadata.hpp"
#include "hyphae/proto/bittorrent/ut_pex.hpp"

namespace hyphae::bittorrent {
namespace {

constexpr std::size_t metadata_requests_per_peer_max = 2;
constexpr duration pex_min_interval = std::chrono::seconds(30);
constexpr std::size_t pex_peers_max = 50;  // of each, added and dropped, per message (BEP 11)

}  // namespace

// A magnet link learns the metadata's size from the first peer that offers it.
void torrent::on_extension_handshake(time_point now, peer& p) {
    if (meta_) {
        return;
    }
    const auto& ext = p.conn.their_extensions();
    if (metadata_size_ == 0 && ext.metadata_size && ext.id_of("ut_metadata") != 0) {
        metadata_size_ = *ext.metadata_size;
        const std::size_t pieces =
            (static_cast<std::size_t>(metadata_size_) + wire::metadata_piece_size - 1) /
            wire::metadata_piece_size;
        metadata_.assign(static_cast<std::size_t>(metadata_size_), 0);
        metadata_received_.assign(pieces, 0);
        metadata_requester_.assign(pieces, 0);
    }
    request_metadata(now, p);
}

void torrent::request_metadata(time_point now, peer& p) {
    if (meta_ || metadata_size_ == 0 || p.no_metadata || !p.conn.handshake_done() ||
        p.conn.their_extensions().id_of("ut_metadata") == 0 ||
        p.conn.their_extensions().metadata_size.value_or(metadata_size_) != metadata_size_) {
        return;
    }
    for (std::size_t i = 0;
         i < metadata_received_.size() && p.metadata_requests < metadata_requests_per_peer_max; ++i) {
        if (metadata_received_[i] != 0) {
            continue;
        }
        metadata_received_[i] = 1;
        metadata_requester_[i] = p.conn.id();
        ++p.metadata_requests;
        p.conn.send_extension(now, "ut_metadata",
                              wire::encode_metadata_request(static_cast<std::uint32_t>(i)));
    }
    flush(p);
}

void torrent::handle_metadata_message(time_point now, peer& p, byte_view payload) {
    auto m = wire::parse_metadata_message(payload);
    if (!m) {
        p.conn.close(m.error().message());
        return;
    }
    if (m->type == wire::metadata_type::request) {
        const std::size_t begin = std::size_t{m->piece} * wire::metadata_piece_size;
        if (!meta_ || begin >= meta_->info_bytes.size()) {
            p.conn.send_extension(now, "ut_metadata", wire::encode_metadata_reject(m->piece));
        } else {
            const std::string_view info = meta_->info_bytes;
            p.conn.send_extension(
                now, "ut_metadata",
                wire::encode_metadata_data(m->piece, static_cast<std::int64_t>(info.size()),
                                           as_bytes(info.substr(begin, wire::metadata_piece_size))));
        }
        return;
    }
    if (m->type == wire::metadata_type::reject) {
        if (m->piece < metadata_received_.size() && metadata_requester_[m->piece] == p.conn.id() &&
            metadata_received_[m->piece] == 1) {
            metadata_received_[m->piece] = 0;
        }
        p.no_metadata = true;
        p.metadata_requests = 0;
        return;
    }
    // Data: only what we asked this peer for, of the size everyone agreed on.
    if (meta_ || m->piece >= metadata_received_.size() || metadata_requester_[m->piece] != p.conn.id() ||
        metadata_received_[m->piece] != 1 || m->total_size != metadata_size_) {
        return;
    }
    const std::size_t begin = std::size_t{m->piece} * wire::metadata_piece_size;
    const std::size_t expected = std::min(wire::metadata_piece_size, metadata_.size() - begin);
    if (m->data.size() != expected) {
        p.conn.close("metadata piece of the wrong size");
        return;
    }
    std::copy(m->data.begin(), m->data.end(), metadata_.begin() + static_cast<std::ptrdiff_t>(begin));
    metadata_received_[m->piece] = 2;
    ++metadata_contributors_[p.conn.id()];
    p.metadata_requests -= std::min<std::size_t>(p.metadata_requests, 1);
    if (std::all_of(metadata_received_.begin(), metadata_received_.end(),
                    [](std::uint8_t s) { return s == 2; })) {
        on_metadata_complete(now);
        return;
    }
    request_metadata(now, p);
}

void torrent::on_metadata_complete(time_point now) {
    const auto contributors = std::move(metadata_contributors_);
    metadata_contributors_.clear();
    auto info = sha1(byte_view(metadata_.data(), metadata_.size())) == info_hash_
                    ? parse_info_dictionary(byte_view(metadata_.data(), metadata_.size()))
                    : result<metainfo>(tl::unexpected(
                          error{errc::invalid_input, "metadata", "does not hash to the info-hash"}));
    if (!info) {
        // Start again, without the peers that sent it.
        std::fill(metadata_received_.begin(), metadata_received_.end(), 0);
        for (const auto& [id, pieces] : contributors) {
            if (auto it = peers_.find(id); it != peers_.end()) {
                it->second->conn.close("sent metadata that " + info.error().what);
                process_peer(now, *it->second);
            }
        }
        return;
    }
    metadata_.clear();
    metadata_received_.clear();
    metadata_requester_.clear();
    init_metadata(now, *info);
    emit(torrent_events::metadata_received{});
    std::vector<connection_id> ids;
    for (const auto& [id, p] : peers_) {
        ids.push_back(id);
    }
    for (connection_id id : ids) {
        if (auto it = peers_.find(id); it != peers_.end()) {
            process_peer(now, *it->second);
        }
    }
}

void torrent::handle_pex_message(time_point now, peer& p, byte_view payload) {
    if (meta_ && meta_->is_private) {
        return;  // BEP 27: private torrents get peers from their tracker only
    }
    // BEP 11: at most one message a minute; take one every 30 s to stay lenient.
    if (p.pex_accepted_at && now - *p.pex_accepted_at < pex_min_interval) {
        return;
    }
    p.pex_accepted_at = now;
    if (auto pex = wire::parse_pex(payload)) {
        // The seed flag counts: a seed is not worth a seed's dial (libtorrent does the same).
        for (const auto& a : pex->added) {
            if (!add_candidate(now, a.address, peer_source::pex, (a.flags & wire::pex_flag::seed) != 0)) {
                break;
            }
        }
        connect_more(now);
    }
}

void torrent::send_pex(time_point now) {
    if (meta_ && meta_->is_private) {
        return;  // BEP 27: private torrents get peers from their tracker only
    }
    // Where each connected peer can be reached: the address we dialled, or the address it came
    // from with the port its extension handshake gave.
    std::vector<wire::pex_peer> connected;
    for (const auto& [id, p] : peers_) {
        if (!p->conn.handshake_done()) {
            continue;
        }
        endpoint at = p->conn.remote();
        std::uint8_t flags = p->conn.is_seed() ? wire::pex_flag::seed : 0;
        if (p->conn.dir() == direction::outgoing) {
            flags |= wire::pex_flag::reachable;
        } else if (const auto port = p->conn.their_extensions().listen_port) {
            at.port = *port;
        } else {
            continue;
        }
        connected.push_back(wire::pex_peer{at, flags});
    }
    std::sort(connected.begin(), connected.end(),
              [](const wire::pex_peer& a, const wire::pex_peer& b) { return a.address < b.address; });
    for (auto& [id, p] : peers_) {
        if (!p->conn.handshake_done() || p->conn.their_extensions().id_of("ut_pex") == 0) {
            continue;
        }
        std::vector<endpoint> self{p->conn.remote()};
        if (const auto port = p->conn.their_extensions().listen_port) {
            self.push_back(endpoint{p->conn.remote().address, *port});
        }
        const wire::pex_message m = wire::next_pex(p->pex_sent, connected, self, pex_peers_max);
        if (m.added.empty() && m.dropped.empty()) {
            continue;
        }
        p->conn.send_extension(now, "ut_pex", wire::encode_pex(m));
        flush(*p);
    }
}

}  // namespace hyphae::bittorrent
