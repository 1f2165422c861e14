// Uploading: serving requests from disk reads, the upload limit, choking.
#include <algorithm>

#include "hyphae/proto/bittorrent/torrent.hpp"
#include "hyphae/proto/bittorrent/torrent_peer.hpp"

namespace hyphae::bittorrent {

void torrent::serve(time_point now, peer& p) {
    auto& queue = p.conn.incoming_requests();
    while (!queue.empty() && p.reads_in_flight < config_.disk_reads_per_peer_max &&
           p.send_in_flight + p.reads_in_flight * block_size < config_.send_buffer_max) {
        const block_request b = queue.front();
        if (!picker_ || !picker_->have(b.piece) || checking_) {
            queue.pop_front();
            p.conn.reject(now, b);
            continue;
        }
        if (!disk_room()) {
            return;  // the disk queue is full: the request waits for the next tick
        }
        if (config_.upload_rate_max > 0) {
            const auto at = upload_limit_.when_available(now, b.length);
            if (!at || *at > now) {
                return;  // the next tick tries again
            }
            upload_limit_.grant(now, b.length);
        }
        queue.pop_front();
        disk_job job;
        job.what = disk_job::kind::read;
        job.piece = b.piece;
        job.begin = b.begin;
        job.length = b.length;
        reads_.emplace(new_job(std::move(job)), pending_read{p.conn.id(), b});
        ++p.reads_in_flight;
    }
}

void torrent::read_done(time_point now, const pending_read& pending, const disk_result& result) {
    auto it = peers_.find(pending.conn);
    if (it == peers_.end()) {
        return;
    }
    peer& p = *it->second;
    --p.reads_in_flight;
    if (!result.ok || !result.data || result.data->size() != pending.block.length) {
        emit(torrent_events::disk_error{result.ok ? "short read" : result.error});
        p.conn.reject(now, pending.block);
        flush(p);
        return;
    }
    flush(p);  // messages queued before this block go first
    p.conn.send_block_header(now, pending.block);
    shared_bytes header = p.conn.take_send_buffer();
    const std::size_t size = header->size() + pending.block.length;
    io::send t{p.conn.id(), {}};
    t.data.reserve(2);
    t.data.push_back(out_buffer{header, byte_view(header->data(), header->size())});
    t.data.push_back(out_buffer{result.data, byte_view(result.data->data(), result.data->size())});
    push_send(p, std::move(t), size);
    if (p.doomed) {
        return;
    }
    p.conn.count_upload(now, pending.block.length);
    totals_.uploaded += pending.block.length;
    upload_rate_.add(now, pending.block.length);
    serve(now, p);
    flush(p);
}

void torrent::run_choker(time_point now) {
    std::vector<choker_peer> candidates;
    for (const auto& [id, p] : peers_) {
        if (!p->conn.handshake_done()) {
            continue;
        }
        candidates.push_back(choker_peer{id, p->conn.peer_interested(), p->conn.am_choking(), p->snubbed,
                                         p->conn.download_rate(now), p->conn.upload_rate(now),
                                         p->conn.connected_at(), p->conn.is_seed()});
    }
    const std::vector<peer_key> unchoke = choker_.decide(now, candidates, complete(), rng_);
    for (auto& [id, p] : peers_) {
        if (!p->conn.handshake_done()) {
            continue;
        }
        const bool chosen = std::find(unchoke.begin(), unchoke.end(), id) != unchoke.end();
        p->conn.set_choking(now, !chosen);
        flush(*p);
    }
    next_choke_ = now + config_.choking.unchoke_interval;
}

}  // namespace hyphae::bittorrent
