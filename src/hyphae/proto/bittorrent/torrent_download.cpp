// Downloading: interest, requests (pipeline depth, the download limit), blocks, writes.
#include <algorithm>
#include <utility>

#include "hyphae/proto/bittorrent/torrent.hpp"
#include "hyphae/proto/bittorrent/torrent_peer.hpp"

namespace hyphae::bittorrent {

void torrent::update_interest(time_point now, peer& p) {
    const bool want =
        picker_ && !checking_ && p.conn.pieces_known() && picker_->is_interesting(p.conn.peer_has());
    p.conn.set_interested(now, want);
}

void torrent::fill_requests(time_point now, peer& p) {
    count_requests(p);  // blocks that came, rejects and chokes since we last looked
    if (!picker_ || checking_ || !p.conn.handshake_done() || !p.conn.am_interested() || picker_->complete()) {
        return;
    }
    const bool choked = p.conn.peer_choking();
    if (choked && p.conn.allowed_fast_for_us().empty()) {
        return;
    }
    if (writes_.size() >= config_.writes_in_flight_max) {
        disk_held_requests_ = true;
        return;  // the disk is behind: stop asking until it catches up
    }
    const double rate = p.conn.download_rate(now);
    std::size_t depth = static_cast<std::size_t>(rate * config_.request_queue_seconds / block_size);
    std::size_t limit = config_.request_queue_max;
    if (const auto& q = p.conn.their_extensions().request_queue) {
        limit = std::min<std::size_t>(limit, *q);
    }
    depth = std::clamp(depth, std::min(config_.request_queue_min, limit), limit);
    const std::size_t outstanding = p.conn.outstanding().size();
    if (outstanding >= depth) {
        return;
    }
    std::size_t want = depth - outstanding;
    // Every block asked for is a write to come: ask only for what the disk queue has room for.
    const std::size_t room = disk_room_left();
    if (room < want) {
        disk_held_requests_ = true;
        want = room;
    }
    if (want == 0) {
        return;
    }
    if (config_.download_rate_max > 0) {
        // Whole blocks only: a partial grant would spend tokens on nothing.
        std::size_t allowed = 0;
        while (allowed < want) {
            const auto at = download_limit_.when_available(now, block_size);
            if (!at || *at > now) {
                break;
            }
            download_limit_.grant(now, block_size);
            ++allowed;
        }
        want = allowed;
        if (want == 0) {
            return;
        }
    }
    pick_options options;
    if (choked) {
        options.restrict_to = std::span<const piece_index>(p.conn.allowed_fast_for_us());
    }
    options.suggested = p.suggested;
    const std::vector<block_ref> blocks = picker_->pick(p.conn.peer_has(), p.conn.id(), want, rng_, options);
    for (const block_ref& b : blocks) {
        p.conn.request(now, block_request{b.piece, b.block * block_size, picker_->block_length(b)});
    }
    count_requests(p);
}

void torrent::on_block(time_point now, peer& p, const block_request& b, byte_view data,
                       const shared_bytes& whole) {
    totals_.downloaded += static_cast<std::int64_t>(data.size());
    download_rate_.add(now, static_cast<std::int64_t>(data.size()));
    if (!picker_ || picker_->have(b.piece) || b.begin % block_size != 0) {
        totals_.wasted += static_cast<std::int64_t>(data.size());
        return;
    }
    const block_ref ref{b.piece, b.begin / block_size};
    const auto received = picker_->block_received(ref, p.conn.id());
    if (!received.accepted) {
        totals_.wasted += static_cast<std::int64_t>(data.size());
        return;
    }
    for (peer_key other : received.cancel_at) {
        if (auto it = peers_.find(other); it != peers_.end() && other != p.conn.id()) {
            it->second->conn.cancel(now, b);
            count_requests(*it->second);
            flush(*it->second);
        }
    }
    ++contributors_[b.piece][p.conn.id()];
    disk_job job;
    job.what = disk_job::kind::write;
    job.piece = b.piece;
    job.begin = b.begin;
    job.length = b.length;
    job.data = whole ? whole : copy_bytes(data);
    const std::uint64_t id = new_job(std::move(job));
    writes_.emplace(id, pending_write{p.conn.id(), b.piece});
    ++piece_writes_pending_[b.piece];
    if (received.piece_complete) {
        piece_hash_waiting_[b.piece] = 1;
    }
}

void torrent::write_done(time_point now, const pending_write& pending, const disk_result& result) {
    const piece_index piece = pending.piece;
    --piece_writes_pending_[piece];
    if (!result.ok) {
        emit(torrent_events::disk_error{result.error});
        piece_hash_waiting_[piece] = 0;
        picker_->piece_failed(piece);
        contributors_.erase(piece);
    } else if (piece_writes_pending_[piece] == 0 && piece_hash_waiting_[piece] != 0) {
        piece_hash_waiting_[piece] = 0;
        disk_job h;
        h.what = disk_job::kind::hash;
        h.piece = piece;
        h.length = static_cast<std::uint32_t>(meta_->piece_size(piece));
        hashes_.emplace(new_job(std::move(h)), pending_hash{piece, false});
    }
    // The disk caught up: peers it held back may ask for more. The others ask as their blocks come.
    if (std::exchange(disk_held_requests_, false)) {
        for (auto& [id, p] : peers_) {
            fill_requests(now, *p);
            flush(*p);
        }
    }
}

}  // namespace hyphae::bittorrent
