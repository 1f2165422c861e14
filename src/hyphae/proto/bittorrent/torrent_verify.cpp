// Verification: hashing written pieces, checking data on disk, bans for bad data, have
// broadcasts.
#include "hyphae/proto/bittorrent/torrent.hpp"
#include "hyphae/proto/bittorrent/torrent_peer.hpp"

namespace hyphae::bittorrent {

void torrent::hash_done(time_point now, const pending_hash& pending, const disk_result& result) {
    if (!result.ok) {
        emit(torrent_events::disk_error{result.error});
        if (pending.checking) {
            on_piece_hashed(now, pending.piece, true, sha1_hash{});
        } else {
            picker_->piece_failed(pending.piece);
        }
        return;
    }
    on_piece_hashed(now, pending.piece, pending.checking, result.hash);
}

void torrent::on_piece_hashed(time_point now, piece_index piece, bool checking, const sha1_hash& hash) {
    const bool good = hash == meta_->piece_hash(piece);
    if (checking) {
        if (good && !picker_->have(piece)) {
            picker_->set_have(piece);
            totals_.verified_bytes += meta_->piece_size(piece);
        }
        continue_checking(now);
        return;
    }
    if (good) {
        picker_->piece_passed(piece);
        contributors_.erase(piece);
        totals_.verified_bytes += meta_->piece_size(piece);
        emit(torrent_events::piece_verified{piece});
        broadcast_have(now, piece);
        if (picker_->complete() && !completed_reported_) {
            completed_reported_ = true;
            emit(torrent_events::download_complete{});
            // Seeds have nothing to say to seeds.
            std::vector<connection_id> seeds;
            for (auto& [id, p] : peers_) {
                if (p->conn.is_seed()) {
                    seeds.push_back(id);
                }
            }
            for (connection_id id : seeds) {
                drop(now, id, "both sides are seeds", false);
            }
            run_choker(now);
        }
        return;
    }
    totals_.wasted += meta_->piece_size(piece);
    emit(torrent_events::piece_failed{piece});
    picker_->piece_failed(piece);
    const auto contributors = std::move(contributors_[piece]);
    contributors_.erase(piece);
    std::vector<connection_id> to_ban;
    for (const auto& [id, blocks] : contributors) {
        auto it = peers_.find(id);
        if (it == peers_.end()) {
            continue;
        }
        it->second->strikes += contributors.size() == 1 ? 2 : 1;
        if (it->second->strikes >= config_.ban_strikes) {
            to_ban.push_back(id);
        }
    }
    for (connection_id id : to_ban) {
        drop(now, id, "sent data that failed the hash check", true);
    }
    for (auto& [id, p] : peers_) {
        fill_requests(now, *p);
        flush(*p);
    }
}

void torrent::start_checking(time_point now) {
    checking_ = true;
    next_check_ = 0;
    continue_checking(now);
}

// More hashes as room allows; done once every piece is hashed.
void torrent::continue_checking(time_point now) {
    issue_checks();
    if (hashes_.empty() && next_check_ >= meta_->piece_count()) {
        finish_checking(now);
    }
}

void torrent::issue_checks() {
    while (next_check_ < meta_->piece_count() && hashes_.size() < config_.hash_jobs_max && disk_room()) {
        if (picker_->have(next_check_)) {
            ++next_check_;  // vouched for by resume data
            continue;
        }
        disk_job job;
        job.what = disk_job::kind::hash;
        job.piece = next_check_;
        job.length = static_cast<std::uint32_t>(meta_->piece_size(next_check_));
        hashes_.emplace(new_job(std::move(job)), pending_hash{next_check_, true});
        ++next_check_;
    }
}

void torrent::finish_checking(time_point now) {
    checking_ = false;
    emit(torrent_events::checking_done{picker_->have_count()});
    for (auto& [id, p] : peers_) {
        if (p->conn.handshake_done() && !p->greeted) {
            greet(now, *p);
            update_interest(now, *p);
            flush(*p);
        }
    }
    if (picker_->complete()) {
        completed_reported_ = true;
        emit(torrent_events::download_complete{});
    }
    requeue_candidates(now);  // what the check found decides which candidates are worth a dial
    connect_more(now);
}

void torrent::broadcast_have(time_point now, piece_index piece) {
    for (auto& [id, p] : peers_) {
        if (!p->greeted) {
            continue;
        }
        p->conn.send_have(now, piece);
        update_interest(now, *p);
        flush(*p);
    }
}

}  // namespace hyphae::bittorrent
