#include "hyphae/proto/bittorrent/bittorrent_service.hpp"

#include <algorithm>

namespace hyphae::bittorrent {
namespace {

constexpr std::string_view protocol_prefix =
    "\x13"
    "BitTorrent protocol";
// <19>"BitTorrent protocol"<8 reserved><20 info-hash>: enough to route a connection.
constexpr std::size_t routing_prefix = 48;
constexpr std::size_t info_hash_at = 28;

id160 azureus_peer_id(rng& random) {
    id160 id;
    constexpr std::string_view prefix = "-HY0010-";
    std::copy(prefix.begin(), prefix.end(), id.bytes.begin());
    for (std::size_t i = prefix.size(); i < id.bytes.size(); ++i) {
        id.bytes[i] = static_cast<std::uint8_t>(random());
    }
    return id;
}

}  // namespace

bittorrent_service::bittorrent_service(const bittorrent_service_config& config, std::uint64_t seed)
    : config_(config), rng_(seed) {
    peer_id_ = config_.peer_id ? *config_.peer_id : azureus_peer_id(rng_);
}

bittorrent_service::~bittorrent_service() = default;

// ---------------------------------------------------------------- handles

torrent_handle bittorrent_service::handle_of(slot_index index) const {
    return static_cast<torrent_handle>(slots_[index].generation) << 32 | index;
}

std::optional<bittorrent_service::slot_index> bittorrent_service::live(torrent_handle h) const {
    const auto index = static_cast<slot_index>(h & 0xffffffffu);
    if (index >= slots_.size() || !slots_[index].core || slots_[index].generation != h >> 32) {
        return std::nullopt;
    }
    return index;
}

std::optional<torrent_handle> bittorrent_service::find(const sha1_hash& info_hash) const {
    auto it = by_hash_.find(info_hash);
    if (it == by_hash_.end()) {
        return std::nullopt;
    }
    return it->second;
}

const torrent* bittorrent_service::get(torrent_handle h) const {
    const auto index = live(h);
    return index ? slots_[*index].core.get() : nullptr;
}

// ---------------------------------------------------------------- commands

torrent_handle bittorrent_service::add_torrent(time_point now, add_params params) {
    const sha1_hash info_hash = std::holds_alternative<metainfo>(params.source)
                                    ? std::get<metainfo>(params.source).info_hash
                                    : std::get<sha1_hash>(params.source);
    if (auto existing = find(info_hash)) {
        return *existing;
    }
    slot_index index = 0;
    if (!free_.empty()) {
        index = free_.back();
        free_.pop_back();
    } else {
        index = static_cast<slot_index>(slots_.size());
        slots_.emplace_back();
    }
    slot& s = slots_[index];
    if (auto* meta = std::get_if<metainfo>(&params.source)) {
        s.core = std::make_unique<torrent>(*meta, peer_id_, config_.torrent, rng_(), now,
                                           std::move(params.have), params.check);
    } else {
        s.core = std::make_unique<torrent>(info_hash, peer_id_, config_.torrent, rng_(), now);
    }
    const torrent_handle h = handle_of(index);
    by_hash_.emplace(info_hash, h);
    if (!params.peers.empty()) {
        s.core->add_peers(now, params.peers, peer_source::manual);
    }
    collect(index);
    return h;
}

void bittorrent_service::remove_torrent(time_point now, torrent_handle h) {
    (void)now;
    const auto index = live(h);
    if (!index) {
        return;
    }
    slot& s = slots_[*index];
    std::vector<conn_id> conns;
    for (const auto& [local, conn] : s.conns) {
        conns.push_back(conn);
    }
    std::sort(conns.begin(), conns.end());  // the table's own order differs from run to run
    for (const conn_id conn : conns) {
        routes_.erase(conn);
        transmits_.push(io::close{conn, "torrent removed", false});
    }
    // Its disk jobs stay in jobs_ until their results come back, and then find no live handle.
    by_hash_.erase(s.core->info_hash());
    timers_.erase(*index);
    s.conns = {};
    s.core.reset();
    ++s.generation;
    free_.push_back(*index);
}

void bittorrent_service::stop_torrent(time_point now, torrent_handle h) {
    if (const auto index = live(h)) {
        slots_[*index].core->stop(now);
        collect(*index);
    }
}

void bittorrent_service::add_peers(time_point now, torrent_handle h, const std::vector<endpoint>& peers,
                                   peer_source source) {
    if (const auto index = live(h)) {
        slots_[*index].core->add_peers(now, peers, source);
        collect(*index);
    }
}

// A command, not an input: the one walk over all torrents is here.
void bittorrent_service::set_listen_port(std::uint16_t port) {
    config_.torrent.listen_port = port;
    for (slot& s : slots_) {
        if (s.core) {
            s.core->set_listen_port(port);
        }
    }
}

// ---------------------------------------------------------------- outputs

void bittorrent_service::collect(slot_index index) {
    slot& s = slots_[index];
    torrent& t = *s.core;
    const torrent_handle h = handle_of(index);
    while (auto out = t.poll_transmit()) {
        translate(index, std::move(*out));
    }
    while (auto job = t.poll_disk_job()) {
        job->id = new_job_id(h, job->id);
        job->storage = h;
        disk_jobs_.push(std::move(*job));
    }
    while (auto e = t.poll_event()) {
        push_event(bittorrent_event{h, std::move(*e)});
    }
    timers_.set(index, t.next_timer());
}

void bittorrent_service::translate(slot_index index, transmit out) {
    slot& s = slots_[index];
    const auto local = static_cast<connection_id>(conn_of(out));
    conn_id conn = 0;
    if (std::holds_alternative<io::connect>(out)) {
        conn = new_conn_id();
        s.conns.emplace(local, conn);
        routes_.emplace(conn, route{index, local});
    } else if (std::holds_alternative<io::datagram>(out)) {
        return;  // torrents send none
    } else {
        auto it = s.conns.find(local);
        if (it == s.conns.end()) {
            return;  // closed already (the torrent also closes what the peer closed)
        }
        conn = it->second;
        if (std::holds_alternative<io::close>(out)) {
            routes_.erase(conn);
            s.conns.erase(it);
        }
    }
    std::visit(
        [conn](auto& x) {
            if constexpr (!std::is_same_v<std::decay_t<decltype(x)>, io::datagram>) {
                x.conn = conn;
            }
        },
        out);
    transmits_.push(std::move(out));
}

std::uint64_t bittorrent_service::new_job_id(torrent_handle torrent, std::uint64_t local) {
    std::uint32_t index = 0;
    if (!free_jobs_.empty()) {
        index = free_jobs_.back();
        free_jobs_.pop_back();
    } else {
        index = static_cast<std::uint32_t>(jobs_.size());
        jobs_.emplace_back();
    }
    jobs_[index].torrent = torrent;
    jobs_[index].local = local;
    return static_cast<std::uint64_t>(jobs_[index].generation) << 32 | index;
}

// The oldest goes: the newest events say where a torrent is now.
void bittorrent_service::push_event(bittorrent_event e) {
    if (events_.size() >= config_.events_queued_max) {
        (void)events_.pop();
        ++counters_.events_dropped;
    }
    events_.push(std::move(e));
}

std::optional<time_point> bittorrent_service::next_timer() const {
    std::optional<time_point> next = timers_.next();
    if (!pending_deadlines_.empty() && (!next || pending_deadlines_.begin()->first < *next)) {
        next = pending_deadlines_.begin()->first;
    }
    return next;
}

// ---------------------------------------------------------------- incoming connections

claim bittorrent_service::claims_stream(byte_view first_bytes) const {
    const std::string_view seen = as_chars(first_bytes);
    if (seen.size() < protocol_prefix.size()) {
        return protocol_prefix.starts_with(seen) ? claim::need_more : claim::no;
    }
    return seen.starts_with(protocol_prefix) ? claim::yes : claim::no;
}

void bittorrent_service::on_accepted(time_point now, conn_id conn, const endpoint& remote) {
    if (pending_.size() >= config_.pending_handshakes_max) {
        ++counters_.incoming_over_max;
        transmits_.push(io::close{conn, "too many handshakes waiting", false});
        return;  // its bytes, which follow, find neither a route nor a pending entry
    }
    const time_point deadline = now + config_.handshake_route_timeout;
    pending_.emplace(conn, pending_stream{remote, deadline, {}});
    pending_deadlines_.emplace(deadline, conn);
}

void bittorrent_service::close_pending(conn_id conn, std::string reason) {
    auto it = pending_.find(conn);
    if (it != pending_.end()) {
        pending_deadlines_.erase({it->second.deadline, conn});
        pending_.erase(it);
    }
    transmits_.push(io::close{conn, std::move(reason), false});
}

void bittorrent_service::route_incoming(time_point now, conn_id conn, const endpoint& remote,
                                        byte_view first) {
    if (!as_chars(first).starts_with(protocol_prefix)) {
        transmits_.push(io::close{conn, "not a BitTorrent handshake", false});
        return;
    }
    const auto info_hash = *sha1_hash::from_bytes(first.subspan(info_hash_at, sha1_hash::size));
    auto it = by_hash_.find(info_hash);
    if (it == by_hash_.end()) {
        ++counters_.incoming_unknown;
        transmits_.push(
            io::close{conn, "handshake for a torrent we do not have (" + info_hash.to_hex() + ")", false});
        return;
    }
    const slot_index index = *live(it->second);
    slot& s = slots_[index];
    const auto local = s.core->add_incoming(now, remote);
    if (!local) {
        ++counters_.incoming_refused;
        transmits_.push(io::close{conn, "torrent takes no more connections", false});
        return;
    }
    ++counters_.incoming_routed;
    s.conns.emplace(*local, conn);
    routes_.emplace(conn, route{index, *local});
    s.core->on_stream_bytes(now, *local, first);
    collect(index);
}

void bittorrent_service::expire_pending(time_point now) {
    while (!pending_deadlines_.empty() && pending_deadlines_.begin()->first <= now) {
        ++counters_.incoming_timed_out;
        close_pending(pending_deadlines_.begin()->second, "no info-hash within the handshake deadline");
    }
}

// ---------------------------------------------------------------- connection inputs

void bittorrent_service::on_stream_buffer(time_point now, conn_id conn, const out_buffer& bytes) {
    if (auto r = routes_.find(conn); r != routes_.end()) {
        const route to = r->second;
        slots_[to.slot].core->on_stream_bytes(now, to.local, bytes.bytes, bytes.owner);
        collect(to.slot);
        return;
    }
    on_stream_bytes(now, conn, bytes.bytes);
}

void bittorrent_service::on_stream_bytes(time_point now, conn_id conn, byte_view bytes) {
    if (auto r = routes_.find(conn); r != routes_.end()) {
        const route to = r->second;
        slots_[to.slot].core->on_stream_bytes(now, to.local, bytes);
        collect(to.slot);
        return;
    }
    auto p = pending_.find(conn);
    if (p == pending_.end()) {
        return;
    }
    pending_stream& waiting = p->second;
    if (waiting.first.empty() && bytes.size() >= routing_prefix) {
        // The whole prefix in one read, as usual: route it without a copy.
        const endpoint remote = waiting.remote;
        pending_deadlines_.erase({waiting.deadline, conn});
        pending_.erase(p);
        route_incoming(now, conn, remote, bytes);
        return;
    }
    waiting.first.insert(waiting.first.end(), bytes.begin(), bytes.end());
    if (waiting.first.size() < routing_prefix) {
        return;
    }
    const byte_buffer first = std::move(waiting.first);
    const endpoint remote = waiting.remote;
    pending_deadlines_.erase({waiting.deadline, conn});
    pending_.erase(p);
    route_incoming(now, conn, remote, first);
}

void bittorrent_service::on_connected(time_point now, conn_id conn) {
    if (auto r = routes_.find(conn); r != routes_.end()) {
        const route to = r->second;
        slots_[to.slot].core->on_connected(now, to.local);
        collect(to.slot);
    }
}

void bittorrent_service::on_send_done(time_point now, conn_id conn, std::size_t bytes) {
    if (auto r = routes_.find(conn); r != routes_.end()) {
        const route to = r->second;
        slots_[to.slot].core->on_send_done(now, to.local, bytes);
        collect(to.slot);
    }
}

void bittorrent_service::on_closed(time_point now, conn_id conn, std::string_view reason) {
    if (auto p = pending_.find(conn); p != pending_.end()) {
        pending_deadlines_.erase({p->second.deadline, conn});
        pending_.erase(p);
        return;
    }
    auto r = routes_.find(conn);
    if (r == routes_.end()) {
        return;
    }
    const route to = r->second;
    routes_.erase(r);
    slot& s = slots_[to.slot];
    s.conns.erase(to.local);
    s.core->on_closed(now, to.local, std::string(reason));
    collect(to.slot);
}

void bittorrent_service::on_disk_done(time_point now, std::uint64_t job, const disk_result& result) {
    const auto slot_of_job = static_cast<std::uint32_t>(job & 0xffffffffu);
    if (slot_of_job >= jobs_.size() || jobs_[slot_of_job].torrent == 0 ||
        jobs_[slot_of_job].generation != job >> 32) {
        return;  // no such job in flight
    }
    job_slot& taken = jobs_[slot_of_job];
    const job_slot to = taken;
    taken.torrent = 0;
    ++taken.generation;
    free_jobs_.push_back(slot_of_job);
    const auto index = live(to.torrent);
    if (!index) {
        ++counters_.stale_disk_results;
        return;
    }
    slots_[*index].core->on_disk_done(now, to.local, result);
    collect(*index);
}

void bittorrent_service::on_timer(time_point now) {
    expire_pending(now);
    // Each due torrent fires once per call, even if it asks for `now` again.
    due_.clear();
    while (auto k = timers_.pop_due(now)) {
        due_.push_back(*k);
    }
    for (const timer_heap::key k : due_) {
        if (k < slots_.size() && slots_[k].core) {
            slots_[k].core->on_timer(now);
            collect(k);
        }
    }
}

}  // namespace hyphae::bittorrent
