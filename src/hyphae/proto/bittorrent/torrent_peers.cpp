// The torrent's peers: whom to dial, incoming connections, greeting, dropping and banning,
// timeouts.
#include <algorithm>

#include "hyphae/proto/bittorrent/torrent.hpp"
#include "hyphae/proto/bittorrent/torrent_peer.hpp"

namespace hyphae::bittorrent {

void torrent::add_peers(time_point now, const std::vector<endpoint>& peers, peer_source source) {
    now_ = now;
    for (const endpoint& ep : peers) {
        if (!add_candidate(now, ep, source, false)) {
            break;
        }
    }
    connect_more(now);
}

bool torrent::add_candidate(time_point now, const endpoint& ep, peer_source source, bool seed) {
    if (auto known = candidates_.find(ep); known != candidates_.end()) {
        known->second.seed = known->second.seed || seed;
        return true;
    }
    if (ep.port == 0 || banned_.count(ep) != 0) {
        return true;
    }
    if (ep.address.is_loopback() && ep.port == config_.listen_port && config_.listen_port != 0) {
        return true;  // ourselves, as a tracker or PEX may tell us
    }
    if (candidates_.size() >= config_.candidates_max) {
        return false;
    }
    candidates_.emplace(ep, candidate{source, 0, now, false, seed});
    queue_dial(ep, now, now);
    return true;
}

void torrent::connect_more(time_point now) {
    // Seeds dial too: the peers a tracker lists may be leechers that cannot reach us.
    if (stopped_ || checking_ || (meta_ && !picker_)) {
        return;
    }
    while (!backing_off_.empty() && backing_off_.begin()->first <= now) {
        dial_queue_.push_back(backing_off_.begin()->second);
        backing_off_.erase(backing_off_.begin());
    }
    if (dial_queue_.empty() || peers_.size() >= config_.connections_max) {
        return;
    }
    std::size_t connecting = 0;
    for (const auto& [id, p] : peers_) {
        connecting += p->connected ? 0 : 1;
    }
    const bool seeding = complete();
    // A seed gains nothing from a dial: it dials for leechers that cannot reach it, freely while
    // its upload slots are not all taken, then at the well-connected pace; a dial that finds a
    // seed also makes the next one wait (in a flash crowd's last minute, new seeds dialled seeds
    // by the hundred).
    bool seed_busy = false;
    if (seeding) {
        std::size_t interested = 0;
        for (const auto& [id, p] : peers_) {
            interested += p->conn.peer_interested() ? 1 : 0;
        }
        seed_busy = interested >= config_.choking.upload_slots;
    }
    while (!dial_queue_.empty()) {
        if (peers_.size() >= config_.connections_max || connecting >= config_.connecting_max || !can_dial()) {
            return;  // the rest wait for room (a full transmit queue: a later tick)
        }
        const bool well_connected = seed_busy || 4 * peers_.size() >= 3 * config_.connections_max;
        if ((well_connected || seeding) && now < next_spare_dial_) {
            return;
        }
        const endpoint ep = dial_queue_.front();
        dial_queue_.pop_front();
        auto it = candidates_.find(ep);
        // Entries go stale (forgotten, dialled from an older entry, backing off again): skip them.
        if (it == candidates_.end() || it->second.connected || it->second.retry_at > now) {
            continue;
        }
        candidate& c = it->second;
        if (c.seed && seeding) {
            continue;  // seeds have nothing to say to seeds: redialling one only churns
        }
        const connection_id id = next_conn_++;
        wire::handshake ours;
        ours.info_hash = info_hash_;
        ours.peer_id = peer_id_;
        ours.set_extension_protocol();
        ours.set_fast_extension();
        auto p = std::make_unique<peer>(
            peer_connection(id, ep, direction::outgoing, ours, shape_, config_.connection, now), c.source,
            false, now);
        peers_.emplace(id, std::move(p));
        c.connected = true;
        ++connecting;
        transmits_.push(io::connect{id, ep});
        if (well_connected) {
            next_spare_dial_ = now + config_.well_connected_dial_interval;
        }
    }
}

void torrent::queue_dial(const endpoint& ep, time_point at, time_point now) {
    if (at <= now) {
        dial_queue_.push_back(ep);
    } else {
        backing_off_.emplace(at, ep);
    }
    // Stale entries pile up while the torrent is full: start again from the candidates.
    if (dial_queue_.size() + backing_off_.size() > 2 * candidates_.size() + 64) {
        requeue_candidates(now);
    }
}

void torrent::requeue_candidates(time_point now) {
    dial_queue_.clear();
    backing_off_.clear();
    std::vector<endpoint> waiting;
    for (const auto& [ep, c] : candidates_) {
        if (!c.connected) {
            waiting.push_back(ep);
        }
    }
    std::sort(waiting.begin(), waiting.end());  // in address order: the table's differs run to run
    for (const endpoint& ep : waiting) {
        const candidate& c = candidates_.find(ep)->second;
        if (c.retry_at <= now) {
            dial_queue_.push_back(ep);
        } else {
            backing_off_.emplace(c.retry_at, ep);
        }
    }
}

std::optional<connection_id> torrent::add_incoming(time_point now, const endpoint& remote) {
    now_ = now;
    if (stopped_ || peers_.size() >= config_.connections_max || banned_.count(remote) != 0) {
        return std::nullopt;
    }
    const connection_id id = next_conn_++;
    wire::handshake ours;
    ours.info_hash = info_hash_;
    ours.peer_id = peer_id_;
    ours.set_extension_protocol();
    ours.set_fast_extension();
    peers_.emplace(id, std::make_unique<peer>(peer_connection(id, remote, direction::incoming, ours, shape_,
                                                              config_.connection, now),
                                              peer_source::incoming, true, now));
    return id;
}

void torrent::on_peer_ready(time_point now, peer& p) {
    emit(torrent_events::peer_connected{p.conn.id(), p.conn.remote()});
    if (!checking_) {
        greet(now, p);
    }
}

// Our pieces and extensions; while checking, what we have is not known yet: greet() waits.
void torrent::greet(time_point now, peer& p) {
    p.conn.send_pieces(now, have());
    if (p.conn.extension_protocol()) {
        wire::extension_handshake ext;
        ext.messages = {{"ut_metadata", local_ut_metadata_id}};
        if (!(meta_ && meta_->is_private)) {
            ext.messages.emplace("ut_pex", local_ut_pex_id);
        }
        if (meta_) {
            ext.metadata_size = static_cast<std::int64_t>(meta_->info_bytes.size());
        }
        if (config_.listen_port != 0) {
            ext.listen_port = config_.listen_port;
        }
        ext.client = config_.client_name;
        ext.request_queue = static_cast<std::uint32_t>(config_.connection.incoming_requests_max);
        ext.your_ip = p.conn.remote().address;
        ext.upload_only = complete();
        p.conn.send_extension_handshake(ext);
    }
    p.greeted = true;
}

void torrent::drop(time_point now, connection_id conn, const std::string& reason, bool ban) {
    auto it = peers_.find(conn);
    if (it == peers_.end()) {
        return;
    }
    peer& p = *it->second;
    if (picker_) {
        if (p.counted_as_seed) {
            picker_->remove_seed();
        } else if (p.availability) {
            picker_->remove_peer_bitfield(p.conn.peer_has());
        }
        picker_->peer_gone(conn);
    }
    requests_in_flight_ -= p.requests_counted;
    for (std::size_t i = 0; i < metadata_requester_.size(); ++i) {
        if (metadata_requester_[i] == conn && metadata_received_[i] == 1) {
            metadata_received_[i] = 0;
        }
    }
    const endpoint remote = p.conn.remote();
    if (p.conn.handshake_done()) {
        emit(torrent_events::peer_disconnected{conn, remote, reason});
    }
    transmits_.push(io::close{conn, reason, false});
    if (auto c = candidates_.find(remote); c != candidates_.end()) {
        // Back off 5 s, 10 s, 20 s ... per failure in a row; peers the user named are never dropped.
        c->second.connected = false;
        c->second.seed = p.conn.is_seed();
        c->second.failures = p.conn.handshake_done() ? 0 : c->second.failures + 1;
        const bool refused = p.connected && !p.conn.handshake_done();
        c->second.retry_at = now + (refused ? config_.retry_after_refusal : config_.retry_after_failure) *
                                       (1 << std::min(c->second.failures, 6));
        if (c->second.failures > config_.connect_failures_max && c->second.source != peer_source::manual) {
            candidates_.erase(c);
        } else {
            queue_dial(remote, c->second.retry_at, now);
        }
    }
    if (ban) {
        banned_[remote] = now;
        candidates_.erase(remote);
        emit(torrent_events::peer_banned{remote, reason});
    }
    peers_.erase(it);
    connect_more(now);
}

void torrent::timeouts(time_point now) {
    std::vector<std::pair<connection_id, std::string>> to_drop;
    for (auto& [id, pp] : peers_) {
        peer& p = *pp;
        if (!p.connected) {
            if (now - p.dialled_at >= config_.connect_timeout) {
                to_drop.emplace_back(id, "connect timed out");
            }
            continue;
        }
        p.conn.on_timer(now);
        const auto& outstanding = p.conn.outstanding();
        if (!outstanding.empty() && now - p.conn.last_block_at() >= config_.request_timeout) {
            // A peer that sits on our requests: hand its blocks to others, keep it for later.
            const std::vector<block_request> stuck = outstanding;
            for (const block_request& b : stuck) {
                p.conn.cancel(now, b);
                if (picker_) {
                    picker_->abort_request(block_ref{b.piece, b.begin / block_size}, id);
                }
            }
            count_requests(p);
            p.snubbed = true;
        } else if (!outstanding.empty()) {
            p.snubbed = now - p.conn.last_block_at() >= config_.snub_timeout;
        }
    }
    for (const auto& [id, why] : to_drop) {
        drop(now, id, why, false);
    }
}

}  // namespace hyphae::bittorrent
