// The torrent: construction, inputs and outputs, what a peer said, state and stats. The work
// itself lives by concern in torrent_peers, torrent_download, torrent_verify, torrent_upload and
// torrent_metadata.
#include "hyphae/proto/bittorrent/torrent.hpp"

#include <algorithm>

#include "hyphae/proto/bittorrent/torrent_peer.hpp"

namespace hyphae::bittorrent {
namespace {

const bitfield& empty_bitfield() {
    static const bitfield none;
    return none;
}

constexpr std::size_t suggested_max = 16;
constexpr duration pex_send_interval = std::chrono::seconds(60);

}  // namespace

// A torrent with metadata is a magnet torrent whose metadata is already here.
torrent::torrent(const metainfo& meta, const id160& peer_id, const torrent_config& config, std::uint64_t seed,
                 time_point now, std::optional<bitfield> have, bool check)
    : torrent(meta.info_hash, peer_id, config, seed, now) {
    init_metadata(now, meta);
    if (have && have->size() == meta.piece_count()) {
        for (piece_index p = 0; p < meta.piece_count(); ++p) {
            if (have->test(p)) {
                picker_->set_have(p);
                totals_.verified_bytes += meta.piece_size(p);
            }
        }
    }
    if (check) {
        start_checking(now);
    }
}

torrent::torrent(const sha1_hash& info_hash, const id160& peer_id, const torrent_config& config,
                 std::uint64_t seed, time_point now)
    : info_hash_(info_hash),
      peer_id_(peer_id),
      config_(config),
      rng_(seed),
      choker_(config.choking),
      download_limit_(config.download_rate_max, std::max<std::int64_t>(config.download_rate_max, block_size)),
      upload_limit_(config.upload_rate_max, std::max<std::int64_t>(config.upload_rate_max, block_size)),
      next_tick_(now),
      next_choke_(now),
      next_pex_(now + std::chrono::seconds(60)),
      now_(now) {}

torrent::~torrent() = default;

void torrent::init_metadata(time_point now, const metainfo& meta) {
    meta_ = meta;
    shape_ = torrent_shape{meta.piece_count(), meta.piece_length, meta.total_size};
    picker_.emplace(meta.piece_length, meta.total_size, config_.picker);
    piece_writes_pending_.assign(meta.piece_count(), 0);
    piece_hash_waiting_.assign(meta.piece_count(), 0);
    for (auto& [id, p] : peers_) {
        p->conn.set_shape(now, shape_);
    }
}

const bitfield& torrent::have() const {
    return picker_ ? picker_->have_bitfield() : empty_bitfield();
}

std::optional<transmit> torrent::poll_transmit() {
    return transmits_.pop();
}

std::optional<disk_job> torrent::poll_disk_job() {
    return disk_jobs_.pop();
}

std::optional<torrent_event> torrent::poll_event() {
    return events_.pop();
}

// No peers, nobody to dial and no check to resume: the tick would do nothing, so an idle torrent
// (most of a daemon's 10^5) asks for no timer. The input that wakes it brings the tick back, due
// at once (the time of that input, never a time already past).
std::optional<time_point> torrent::next_timer() const {
    if (!checking_ && peers_.empty() && (candidates_.empty() || stopped_)) {
        return std::nullopt;
    }
    return std::max(next_tick_, now_);
}

std::uint64_t torrent::new_job(disk_job job) {
    job.id = next_job_++;
    const std::uint64_t id = job.id;
    disk_jobs_.push(std::move(job));
    return id;
}

torrent_stats torrent::stats(time_point now) const {
    torrent_stats s = totals_;
    s.download_rate = download_rate_.bytes_per_second(now);
    s.upload_rate = upload_rate_.bytes_per_second(now);
    s.peers = 0;
    for (const auto& [id, p] : peers_) {
        if (p->conn.handshake_done()) {
            ++s.peers;
            s.seeds += p->conn.is_seed() ? 1 : 0;
        }
    }
    return s;
}

void torrent::stop(time_point now) {
    stopped_ = true;
    std::vector<connection_id> ids;
    for (const auto& [id, p] : peers_) {
        ids.push_back(id);
    }
    for (connection_id id : ids) {
        drop(now, id, "stopping", false);
    }
}

void torrent::on_connected(time_point now, connection_id conn) {
    now_ = now;
    auto it = peers_.find(conn);
    if (it == peers_.end()) {
        return;
    }
    it->second->connected = true;
    flush(*it->second);
    reap(now);
}

void torrent::on_stream_bytes(time_point now, connection_id conn, byte_view bytes,
                              const shared_bytes& owner) {
    now_ = now;
    auto it = peers_.find(conn);
    if (it == peers_.end()) {
        return;
    }
    it->second->conn.on_bytes(now, bytes, owner);
    process_peer(now, *it->second);
    reap(now);
}

void torrent::on_send_done(time_point now, connection_id conn, std::size_t bytes) {
    now_ = now;
    auto it = peers_.find(conn);
    if (it == peers_.end()) {
        return;
    }
    peer& p = *it->second;
    p.send_in_flight -= std::min(p.send_in_flight, bytes);
    serve(now, p);
    flush(p);
    reap(now);
}

void torrent::on_closed(time_point now, connection_id conn, const std::string& reason) {
    now_ = now;
    if (peers_.count(conn) != 0) {
        drop(now, conn, reason, false);
    }
}

void torrent::on_disk_done(time_point now, std::uint64_t job, const disk_result& result) {
    now_ = now;
    if (auto w = writes_.find(job); w != writes_.end()) {
        const pending_write pending = w->second;
        writes_.erase(w);
        write_done(now, pending, result);
    } else if (auto r = reads_.find(job); r != reads_.end()) {
        const pending_read pending = r->second;
        reads_.erase(r);
        read_done(now, pending, result);
    } else if (auto h = hashes_.find(job); h != hashes_.end()) {
        const pending_hash pending = h->second;
        hashes_.erase(h);
        hash_done(now, pending, result);
    }
    reap(now);
}

void torrent::on_timer(time_point now) {
    now_ = now;
    if (now < next_tick_) {
        return;
    }
    next_tick_ = now + config_.tick_interval;
    timeouts(now);
    if (checking_) {
        continue_checking(now);  // checks that found the disk queue full
    }
    if (now >= next_choke_ && !checking_) {
        run_choker(now);
    }
    if (now >= next_pex_) {
        send_pex(now);
        next_pex_ = now + pex_send_interval;
    }
    connect_more(now);
    std::vector<connection_id> ids;
    for (const auto& [id, p] : peers_) {
        ids.push_back(id);
    }
    for (connection_id id : ids) {
        if (auto it = peers_.find(id); it != peers_.end()) {
            if (!meta_) {
                request_metadata(now, *it->second);
            }
            process_peer(now, *it->second);
        }
    }
    reap(now);
}

void torrent::process_peer(time_point now, peer& p) {
    const connection_id id = p.conn.id();
    while (auto e = p.conn.poll_event()) {
        if (auto* c = std::get_if<peer_events::closed>(&*e)) {
            drop(now, id, c->reason, false);
            return;
        }
        handle_event(now, p, *e);
        if (peers_.count(id) == 0) {
            return;  // handling the event dropped the peer
        }
    }
    fill_requests(now, p);
    serve(now, p);
    flush(p);
}

void torrent::handle_event(time_point now, peer& p, const peer_event& e) {
    const connection_id id = p.conn.id();
    if (auto* h = std::get_if<peer_events::handshake_received>(&e)) {
        for (const auto& [other_id, other] : peers_) {
            if (other_id == id || !other->conn.their_handshake() ||
                other->conn.their_handshake()->peer_id != h->peer_id) {
                continue;
            }
            // Both ended up dialling each other: both sides must keep the same one, the
            // connection opened by the peer with the smaller id.
            const direction keep = peer_id_ < h->peer_id ? direction::outgoing : direction::incoming;
            if (p.conn.dir() == other->conn.dir() || p.conn.dir() != keep) {
                p.conn.close("a second connection to the same peer");
                return;
            }
            const connection_id duplicate = other_id;
            drop(now, duplicate, "a second connection to the same peer", false);
            break;
        }
        on_peer_ready(now, p);
        return;
    }
    if (std::holds_alternative<peer_events::extension_handshake_received>(e)) {
        on_extension_handshake(now, p);
        return;
    }
    if (std::holds_alternative<peer_events::pieces_known>(e)) {
        if (picker_ && !p.availability) {
            p.availability = true;
            if (p.conn.is_seed()) {
                p.counted_as_seed = true;
                picker_->add_seed();
            } else {
                picker_->add_peer_bitfield(p.conn.peer_has());
            }
            if (complete() && p.conn.is_seed()) {
                if (p.conn.dir() == direction::outgoing) {
                    // Our dial found a seed: the next one waits (where seeds are, more are).
                    next_spare_dial_ = now + config_.dial_pause_after_seed;
                }
                p.conn.close("both sides are seeds");
                return;
            }
        }
        update_interest(now, p);
        return;
    }
    if (auto* h = std::get_if<peer_events::have>(&e)) {
        if (picker_ && p.availability) {
            if (p.counted_as_seed) {
                return;
            }
            picker_->add_peer_have(h->piece);
        }
        update_interest(now, p);
        return;
    }
    if (auto* c = std::get_if<peer_events::choked>(&e)) {
        if (picker_) {
            for (const block_request& b : c->dropped) {
                picker_->abort_request(block_ref{b.piece, b.begin / block_size}, id);
            }
        }
        return;
    }
    if (std::holds_alternative<peer_events::interest_changed>(e)) {
        // A newly interested peer gets a slot now if one is free, not at the next round.
        if (p.conn.peer_interested() && p.conn.am_choking()) {
            std::size_t unchoked = 0;
            for (const auto& [other_id, other] : peers_) {
                unchoked += other->conn.am_choking() ? 0 : 1;
            }
            if (unchoked < config_.choking.upload_slots) {
                run_choker(now);
            }
        }
        return;
    }
    if (auto* b = std::get_if<peer_events::block_received>(&e)) {
        on_block(now, p, b->block, b->data, b->whole);
        return;
    }
    if (auto* r = std::get_if<peer_events::rejected>(&e)) {
        if (picker_) {
            picker_->abort_request(block_ref{r->block.piece, r->block.begin / block_size}, id);
        }
        return;
    }
    if (auto* s = std::get_if<peer_events::suggested>(&e)) {
        if (p.suggested.size() < suggested_max) {
            p.suggested.push_back(s->piece);
        }
        return;
    }
    if (auto* m = std::get_if<peer_events::extension_message>(&e)) {
        if (m->local_id == local_ut_metadata_id) {
            handle_metadata_message(now, p, m->payload);
        } else if (m->local_id == local_ut_pex_id) {
            handle_pex_message(now, p, m->payload);
        }
        return;
    }
    // unchoked, request_received, allowed_fast, dht_port: process_peer() acts on the new state.
}

void torrent::flush(peer& p) {
    if (!p.connected || !p.conn.has_send()) {
        return;
    }
    if (p.doomed) {
        (void)p.conn.take_send();  // its connection closes: what follows a hole is worthless
        return;
    }
    shared_bytes bytes = p.conn.take_send_buffer();
    const std::size_t size = bytes->size();
    const byte_view view(bytes->data(), size);
    push_send(p, io::send{p.conn.id(), {out_buffer{std::move(bytes), view}}}, size);
}

// ---------------------------------------------------------------- output bounds

// A driver drains after every input, so a full queue means one that does not: then the peer
// whose bytes do not fit is closed (at the end of this input) rather than a hole left in its
// stream, and nothing more is queued for it.
void torrent::push_send(peer& p, io::send s, std::size_t bytes) {
    if (p.doomed) {
        return;
    }
    if (transmits_.size() >= config_.transmits_queued_max) {
        p.doomed = true;
        ++totals_.connections_closed_queue_full;
        doomed_.push_back(p.conn.id());
        return;
    }
    p.send_in_flight += bytes;
    transmits_.push(std::move(s));
}

void torrent::reap(time_point now) {
    while (!doomed_.empty()) {
        const connection_id id = doomed_.back();
        doomed_.pop_back();
        drop(now, id, "output queue full", false);
    }
}

// What the peer connection says is in flight, counted again after anything that changes it.
void torrent::count_requests(peer& p) {
    const std::size_t now_outstanding = p.conn.outstanding().size();
    requests_in_flight_ = requests_in_flight_ - p.requests_counted + now_outstanding;
    p.requests_counted = now_outstanding;
}

// The oldest goes: the newest events say where the torrent is now.
void torrent::emit(torrent_event e) {
    if (events_.size() >= config_.events_queued_max) {
        (void)events_.pop();
        ++totals_.events_dropped;
    }
    events_.push(std::move(e));
}

}  // namespace hyphae::bittorrent
