#include "hyphae/proto/bittorrent/torrent.hpp"

#include <algorithm>

#include "hyphae/core/take_front.hpp"
#include "hyphae/proto/bittorrent/ut_metadata.hpp"
#include "hyphae/proto/bittorrent/ut_pex.hpp"

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
    int strikes = 0;
    std::vector<piece_index> suggested;
    std::optional<time_point> pex_accepted_at;
    std::vector<endpoint> pex_sent;  // what our PEX messages have told it we are connected to
};

namespace {

shared_bytes copy_bytes(std::string_view text) {
    return std::make_shared<const std::vector<std::uint8_t>>(text.begin(), text.end());
}

shared_bytes copy_bytes(byte_view bytes) {
    return std::make_shared<const std::vector<std::uint8_t>>(bytes.begin(), bytes.end());
}

const bitfield& empty_bitfield() {
    static const bitfield none;
    return none;
}

constexpr std::size_t suggested_max = 16;
constexpr std::size_t metadata_requests_per_peer_max = 2;
constexpr duration pex_min_interval = std::chrono::seconds(30);
constexpr duration pex_send_interval = std::chrono::seconds(60);
constexpr std::size_t pex_peers_max = 50;  // of each, added and dropped, per message (BEP 11)

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

// ---------------------------------------------------------------- outputs

std::optional<transmit> torrent::poll_transmit() {
    return take_front(transmits_);
}

std::optional<disk_job> torrent::poll_disk_job() {
    return take_front(disk_jobs_);
}

std::optional<torrent_event> torrent::poll_event() {
    return take_front(events_);
}

std::optional<time_point> torrent::next_timer() const {
    return next_tick_;
}

std::uint64_t torrent::new_job(disk_job job) {
    job.id = next_job_++;
    const std::uint64_t id = job.id;
    disk_jobs_.push_back(std::move(job));
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

// ---------------------------------------------------------------- peers and connections

void torrent::add_peers(time_point now, const std::vector<endpoint>& peers, peer_source source) {
    now_ = now;
    for (const endpoint& ep : peers) {
        if (ep.port == 0 || banned_.count(ep) != 0 || candidates_.count(ep) != 0) {
            continue;
        }
        if (ep.address.is_loopback() && ep.port == config_.listen_port && config_.listen_port != 0) {
            continue;  // ourselves, as a tracker or PEX may tell us
        }
        if (candidates_.size() >= config_.candidates_max) {
            break;
        }
        candidates_.emplace(ep, candidate{source, 0, now, false});
    }
    connect_more(now);
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

void torrent::connect_more(time_point now) {
    // Seeds dial too: the peers a tracker lists may be leechers that cannot reach us.
    if (stopped_ || checking_ || (meta_ && !picker_)) {
        return;
    }
    std::size_t connecting = 0;
    for (const auto& [id, p] : peers_) {
        connecting += p->connected ? 0 : 1;
    }
    for (auto& [ep, c] : candidates_) {
        if (peers_.size() >= config_.connections_max || connecting >= config_.connecting_max) {
            return;
        }
        if (c.connected || c.retry_at > now) {
            continue;
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
        transmit t;
        t.what = transmit::kind::connect;
        t.conn = id;
        t.remote = ep;
        transmits_.push_back(std::move(t));
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

void torrent::on_connected(time_point now, connection_id conn) {
    now_ = now;
    auto it = peers_.find(conn);
    if (it == peers_.end()) {
        return;
    }
    it->second->connected = true;
    flush(*it->second);
}

void torrent::on_stream_bytes(time_point now, connection_id conn, byte_view bytes) {
    now_ = now;
    auto it = peers_.find(conn);
    if (it == peers_.end()) {
        return;
    }
    it->second->conn.on_bytes(now, bytes);
    process_peer(now, *it->second);
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
}

void torrent::on_closed(time_point now, connection_id conn, const std::string& reason) {
    now_ = now;
    if (peers_.count(conn) != 0) {
        drop(now, conn, reason, false);
    }
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

void torrent::flush(peer& p) {
    if (!p.connected || !p.conn.has_send()) {
        return;
    }
    shared_bytes bytes = copy_bytes(p.conn.take_send());
    p.send_in_flight += bytes->size();
    transmit t;
    t.conn = p.conn.id();
    t.data.push_back(out_buffer{bytes, byte_view(bytes->data(), bytes->size())});
    transmits_.push_back(std::move(t));
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
    for (std::size_t i = 0; i < metadata_requester_.size(); ++i) {
        if (metadata_requester_[i] == conn && metadata_received_[i] == 1) {
            metadata_received_[i] = 0;
        }
    }
    const endpoint remote = p.conn.remote();
    if (p.conn.handshake_done()) {
        events_.push_back(torrent_events::peer_disconnected{conn, remote, reason});
    }
    transmit t;
    t.what = transmit::kind::close;
    t.conn = conn;
    t.reason = reason;
    transmits_.push_back(std::move(t));
    if (auto c = candidates_.find(remote); c != candidates_.end()) {
        // Back off 5 s, 10 s, 20 s ... per failure in a row; peers the user named are never dropped.
        c->second.connected = false;
        c->second.failures = p.conn.handshake_done() ? 0 : c->second.failures + 1;
        c->second.retry_at = now + config_.retry_after_failure * (1 << std::min(c->second.failures, 6));
        if (c->second.failures > config_.connect_failures_max && c->second.source != peer_source::manual) {
            candidates_.erase(c);
        }
    }
    if (ban) {
        banned_[remote] = now;
        candidates_.erase(remote);
        events_.push_back(torrent_events::peer_banned{remote, reason});
    }
    peers_.erase(it);
    connect_more(now);
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
        if (!meta_) {
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
        on_block(now, p, b->block, b->data);
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
        } else if (m->local_id == local_ut_pex_id && !(meta_ && meta_->is_private)) {
            // BEP 11: at most one message a minute; take one every 30 s to stay lenient.
            if (p.pex_accepted_at && now - *p.pex_accepted_at < pex_min_interval) {
                return;
            }
            p.pex_accepted_at = now;
            if (auto pex = wire::parse_pex(m->payload)) {
                std::vector<endpoint> added;
                for (const auto& a : pex->added) {
                    added.push_back(a.address);
                }
                add_peers(now, added, peer_source::pex);
            }
        }
        return;
    }
    // unchoked, request_received, allowed_fast, dht_port: process_peer() acts on the new state.
}

void torrent::on_peer_ready(time_point now, peer& p) {
    events_.push_back(torrent_events::peer_connected{p.conn.id(), p.conn.remote()});
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

void torrent::update_interest(time_point now, peer& p) {
    const bool want =
        picker_ && !checking_ && p.conn.pieces_known() && picker_->is_interesting(p.conn.peer_has());
    p.conn.set_interested(now, want);
}

// ---------------------------------------------------------------- downloading

void torrent::fill_requests(time_point now, peer& p) {
    if (!picker_ || checking_ || !p.conn.handshake_done() || !p.conn.am_interested() || picker_->complete()) {
        return;
    }
    const bool choked = p.conn.peer_choking();
    if (choked && p.conn.allowed_fast_for_us().empty()) {
        return;
    }
    if (writes_.size() >= config_.writes_in_flight_max) {
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
}

void torrent::on_block(time_point now, peer& p, const block_request& b, byte_view data) {
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
            flush(*it->second);
        }
    }
    ++contributors_[b.piece][p.conn.id()];
    disk_job job;
    job.what = disk_job::kind::write;
    job.piece = b.piece;
    job.begin = b.begin;
    job.length = b.length;
    job.data = copy_bytes(data);
    const std::uint64_t id = new_job(std::move(job));
    writes_.emplace(id, pending_write{p.conn.id(), b.piece});
    ++piece_writes_pending_[b.piece];
    if (received.piece_complete) {
        piece_hash_waiting_[b.piece] = 1;
    }
}

void torrent::on_disk_done(time_point now, std::uint64_t job, const disk_result& result) {
    now_ = now;
    if (auto w = writes_.find(job); w != writes_.end()) {
        const piece_index piece = w->second.piece;
        writes_.erase(w);
        --piece_writes_pending_[piece];
        if (!result.ok) {
            events_.push_back(torrent_events::disk_error{result.error});
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
        // The disk caught up: peers may ask for more.
        for (auto& [id, p] : peers_) {
            fill_requests(now, *p);
            flush(*p);
        }
        return;
    }
    if (auto r = reads_.find(job); r != reads_.end()) {
        const pending_read pending = r->second;
        reads_.erase(r);
        auto it = peers_.find(pending.conn);
        if (it == peers_.end()) {
            return;
        }
        peer& p = *it->second;
        --p.reads_in_flight;
        if (!result.ok || !result.data || result.data->size() != pending.block.length) {
            events_.push_back(torrent_events::disk_error{result.ok ? "short read" : result.error});
            p.conn.reject(now, pending.block);
            flush(p);
            return;
        }
        flush(p);  // messages queued before this block go first
        p.conn.send_block_header(now, pending.block);
        shared_bytes header = copy_bytes(p.conn.take_send());
        transmit t;
        t.conn = p.conn.id();
        t.data.push_back(out_buffer{header, byte_view(header->data(), header->size())});
        t.data.push_back(out_buffer{result.data, byte_view(result.data->data(), result.data->size())});
        transmits_.push_back(std::move(t));
        p.send_in_flight += header->size() + pending.block.length;
        p.conn.count_upload(now, pending.block.length);
        totals_.uploaded += pending.block.length;
        upload_rate_.add(now, pending.block.length);
        serve(now, p);
        flush(p);
        return;
    }
    if (auto h = hashes_.find(job); h != hashes_.end()) {
        const pending_hash pending = h->second;
        hashes_.erase(h);
        if (!result.ok) {
            events_.push_back(torrent_events::disk_error{result.error});
            if (pending.checking) {
                on_piece_hashed(now, pending.piece, true, sha1_hash{});
            } else {
                picker_->piece_failed(pending.piece);
            }
            return;
        }
        on_piece_hashed(now, pending.piece, pending.checking, result.hash);
    }
}

void torrent::on_piece_hashed(time_point now, piece_index piece, bool checking, const sha1_hash& hash) {
    const bool good = hash == meta_->piece_hash(piece);
    if (checking) {
        if (good && !picker_->have(piece)) {
            picker_->set_have(piece);
            totals_.verified_bytes += meta_->piece_size(piece);
        }
        issue_checks();
        if (hashes_.empty()) {
            finish_checking(now);
        }
        return;
    }
    if (good) {
        picker_->piece_passed(piece);
        contributors_.erase(piece);
        totals_.verified_bytes += meta_->piece_size(piece);
        events_.push_back(torrent_events::piece_verified{piece});
        broadcast_have(now, piece);
        if (picker_->complete() && !completed_reported_) {
            completed_reported_ = true;
            events_.push_back(torrent_events::download_complete{});
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
    events_.push_back(torrent_events::piece_failed{piece});
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

void torrent::start_checking(time_point now) {
    checking_ = true;
    next_check_ = 0;
    issue_checks();
    if (hashes_.empty()) {
        finish_checking(now);
    }
}

void torrent::issue_checks() {
    while (next_check_ < meta_->piece_count() && hashes_.size() < config_.hash_jobs_max) {
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
    events_.push_back(torrent_events::checking_done{picker_->have_count()});
    for (auto& [id, p] : peers_) {
        if (p->conn.handshake_done() && !p->greeted) {
            greet(now, *p);
            update_interest(now, *p);
            flush(*p);
        }
    }
    if (picker_->complete()) {
        completed_reported_ = true;
        events_.push_back(torrent_events::download_complete{});
    }
    connect_more(now);
}

// ---------------------------------------------------------------- uploading

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

// ---------------------------------------------------------------- time

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
            p.snubbed = true;
        } else if (!outstanding.empty()) {
            p.snubbed = now - p.conn.last_block_at() >= config_.snub_timeout;
        }
    }
    for (const auto& [id, why] : to_drop) {
        drop(now, id, why, false);
    }
}

void torrent::on_timer(time_point now) {
    now_ = now;
    if (now < next_tick_) {
        return;
    }
    next_tick_ = now + config_.tick_interval;
    timeouts(now);
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
}

// ---------------------------------------------------------------- peer exchange (BEP 11)

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
    for (auto& [id, p] : peers_) {
        if (!p->conn.handshake_done() || p->conn.their_extensions().id_of("ut_pex") == 0) {
            continue;
        }
        wire::pex_message m;
        std::vector<endpoint> now_listed;
        for (const wire::pex_peer& c : connected) {
            if (c.address == p->conn.remote() ||
                (p->conn.their_extensions().listen_port &&
                 c.address == endpoint{p->conn.remote().address, *p->conn.their_extensions().listen_port})) {
                continue;  // not itself
            }
            now_listed.push_back(c.address);
            const bool known =
                std::find(p->pex_sent.begin(), p->pex_sent.end(), c.address) != p->pex_sent.end();
            if (!known && m.added.size() < pex_peers_max) {
                m.added.push_back(c);
            }
        }
        for (const endpoint& e : p->pex_sent) {
            if (std::find(now_listed.begin(), now_listed.end(), e) == now_listed.end() &&
                m.dropped.size() < pex_peers_max) {
                m.dropped.push_back(e);
            }
        }
        if (m.added.empty() && m.dropped.empty()) {
            continue;
        }
        // What was sent is what the peer now knows; what did not fit goes next time.
        for (const endpoint& e : m.dropped) {
            p->pex_sent.erase(std::find(p->pex_sent.begin(), p->pex_sent.end(), e));
        }
        for (const wire::pex_peer& a : m.added) {
            p->pex_sent.push_back(a.address);
        }
        p->conn.send_extension(now, "ut_pex", wire::encode_pex(m));
        flush(*p);
    }
}

// ---------------------------------------------------------------- metadata (BEP 9)

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
    events_.push_back(torrent_events::metadata_received{});
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

}  // namespace hyphae::bittorrent
