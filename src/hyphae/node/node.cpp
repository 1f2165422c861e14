#include "hyphae/node/node.hpp"

#include <algorithm>

#include "hyphae/core/take_front.hpp"

namespace hyphae {
using namespace hyphae::bittorrent;
using namespace hyphae::tracker;
namespace {
// <19>"BitTorrent protocol"<8 reserved><20 info-hash>: enough to route a connection.
constexpr std::size_t routing_prefix = 48;
}  // namespace

id160 make_peer_id(rng& random) {
    id160 id;
    constexpr std::string_view prefix = "-HY0010-";
    std::copy(prefix.begin(), prefix.end(), id.bytes.begin());
    for (std::size_t i = prefix.size(); i < id.bytes.size(); ++i) {
        id.bytes[i] = static_cast<std::uint8_t>(random());
    }
    return id;
}

node::node(const node_config& config, std::uint64_t seed, time_point now) : config_(config), rng_(seed) {
    config_.torrent.listen_port = config_.listen_port;
    if (config_.dht) {
        dht_ = std::make_unique<dht::dht_node>(*config_.dht, rng_(), now);
        if (!config_.dht->bootstrap.empty()) {
            dht_->bootstrap(now);
        }
    }
}

void node::set_listen_port(std::uint16_t port) {
    config_.listen_port = port;
    config_.torrent.listen_port = port;
}

torrent_handle node::add_torrent(time_point now, add_torrent_params params) {
    const auto handle = static_cast<torrent_handle>(torrents_.size());
    torrent_slot slot;
    std::vector<std::vector<std::string>> tiers;
    if (params.meta) {
        tiers = params.meta->trackers;
    } else {
        for (const std::string& url : params.magnet->trackers) {
            tiers.push_back({url});
        }
    }
    if (params.use_trackers && !tiers.empty()) {
        const sha1_hash info_hash = params.meta ? params.meta->info_hash : params.magnet->info_hash;
        slot.tracker = std::make_unique<tracker_client>(std::move(tiers), info_hash, config_.peer_id,
                                                        config_.listen_port, config_.tracker, rng_());
    }
    if (params.meta) {
        slot.core = std::make_unique<torrent>(*params.meta, config_.peer_id, config_.torrent, rng_(), now,
                                              std::move(params.have), params.check);
    } else {
        slot.core = std::make_unique<torrent>(params.magnet->info_hash, config_.peer_id, config_.torrent,
                                              rng_(), now);
        for (const std::string& text : params.magnet->peers) {
            if (auto ep = endpoint::parse(text)) {
                params.peers.push_back(*ep);
            }
        }
    }
    slot.use_dht = params.use_dht && !(params.meta && params.meta->is_private);
    slot.dht_retry = config_.dht_retry_min;
    torrents_.push_back(std::move(slot));
    if (!params.peers.empty()) {
        torrents_.back().core->add_peers(now, params.peers, peer_source::manual);
    }
    drain(now, handle);
    return handle;
}

tracker_stats node::stats_for(time_point now, const torrent& core) const {
    const torrent_stats s = core.stats(now);
    tracker_stats out;
    out.uploaded = s.uploaded;
    out.downloaded = s.downloaded;
    // Without metadata the size is unknown: any non-zero 'left' says we are a leecher.
    out.left = core.has_metadata() ? core.meta().total_size - s.verified_bytes : block_size;
    return out;
}

void node::stop_torrent(time_point now, torrent_handle t) {
    torrent_slot& slot = torrents_.at(t);
    if (slot.stopped) {
        return;
    }
    slot.stopped = true;
    if (dht_ && slot.dht_lookup != 0) {
        dht_->cancel(slot.dht_lookup);  // the DHT has no 'stopped': its records expire
        dht_lookups_.erase(slot.dht_lookup);
        slot.dht_lookup = 0;
    }
    slot.core->stop(now);
    if (slot.tracker && slot.announcing) {
        slot.tracker->stop(now, stats_for(now, *slot.core));
    }
    drain(now, t);
}

void node::drain_tracker(time_point now, torrent_handle t) {
    torrent_slot& slot = torrents_[t];
    if (!slot.tracker) {
        return;
    }
    slot.tracker->set_stats(stats_for(now, *slot.core));
    while (auto r = slot.tracker->poll_request()) {
        const auto key = std::make_pair(t, r->request_id);
        auto it = tracker_ids_.find(key);
        if (it == tracker_ids_.end()) {
            it = tracker_ids_.emplace(key, next_tracker_id_++).first;
            tracker_routes_[it->second] = tracker_route{t, r->request_id};
        }
        const std::uint64_t id = it->second;
        if (std::holds_alternative<request_release>(r->action)) {
            tracker_routes_.erase(id);
            tracker_ids_.erase(it);
        }
        tracker_requests_.push_back(node_tracker_request{id, std::move(r->action)});
    }
    while (auto e = slot.tracker->poll_event()) {
        if (auto* found = std::get_if<peers_found>(&*e); found && !slot.stopped) {
            slot.core->add_peers(now, found->peers, peer_source::tracker);
        }
        events_.push_back(node_event{t, std::move(*e)});
    }
}

void node::add_peers(time_point now, torrent_handle t, const std::vector<endpoint>& peers,
                     peer_source source) {
    torrents_.at(t).core->add_peers(now, peers, source);
    drain(now, t);
}

void node::drain_transmit(time_point now, torrent_handle t, transmit tx) {
    torrent_slot& slot = torrents_[t];
    node_transmit out;
    const auto conn = static_cast<connection_id>(conn_of(tx));
    if (auto* c = std::get_if<io::connect>(&tx)) {
        out.what = node_transmit::kind::connect;
        out.remote = c->remote;
    } else if (auto* s = std::get_if<io::send>(&tx)) {
        out.data = std::move(s->data);
    } else if (auto* x = std::get_if<io::close>(&tx)) {
        out.what = node_transmit::kind::close;
        out.reason = std::move(x->reason);
    } else {
        return;  // torrents send no datagrams
    }
    if (out.what == node_transmit::kind::connect) {
        if (routes_.size() + pending_.size() >= config_.connections_max) {
            // Over the node's limit: the dial fails at once, and the torrent tries later.
            slot.core->on_closed(now, conn, "too many connections in all");
            return;
        }
        out.socket = next_socket_++;
        slot.sockets[conn] = out.socket;
        routes_[out.socket] = route{t, conn};
    } else {
        auto it = slot.sockets.find(conn);
        if (it == slot.sockets.end()) {
            return;
        }
        out.socket = it->second;
        if (out.what == node_transmit::kind::close) {
            routes_.erase(it->second);
            slot.sockets.erase(it);
        }
    }
    transmits_.push_back(std::move(out));
}

void node::drain(time_point now, torrent_handle t) {
    torrent_slot& slot = torrents_[t];
    while (auto tx = slot.core->poll_transmit()) {
        drain_transmit(now, t, std::move(*tx));
    }
    while (auto job = slot.core->poll_disk_job()) {
        disk_jobs_.push_back(node_disk_job{t, std::move(*job)});
    }
    while (auto e = slot.core->poll_event()) {
        if (slot.tracker && !slot.stopped) {
            // Announce once the data is checked, so that 'left' is right; 'completed' once.
            if (std::holds_alternative<torrent_events::download_complete>(*e) && slot.announcing) {
                slot.tracker->completed(now, stats_for(now, *slot.core));
            }
        }
        events_.push_back(node_event{t, std::move(*e)});
    }
    if (slot.tracker && !slot.announcing && !slot.stopped && !slot.core->checking()) {
        slot.announcing = true;
        slot.tracker->start(now, stats_for(now, *slot.core));
    }
    drain_tracker(now, t);
    if (dht_due(slot) && now >= slot.next_dht) {
        announce_to_dht(now, t);
    }
    // Peers a tracker just gave are dialled now.
    while (auto tx = slot.core->poll_transmit()) {
        drain_transmit(now, t, std::move(*tx));
    }
}

bool node::dht_due(const torrent_slot& slot) const {
    return dht_ && slot.use_dht && !slot.stopped && slot.dht_lookup == 0 && !slot.core->checking();
}

void node::announce_to_dht(time_point now, torrent_handle t) {
    torrent_slot& slot = torrents_[t];
    const dht::lookup_id id =
        dht_->announce(now, slot.core->info_hash(), config_.listen_port, slot.core->complete());
    if (id == 0) {
        slot.next_dht = now + slot.dht_retry;  // too many lookups running: later
        return;
    }
    slot.dht_lookup = id;
    dht_lookups_[id] = t;
}

void node::drain_dht(time_point now) {
    if (!dht_) {
        return;
    }
    while (auto e = dht_->poll_event()) {
        if (const auto* found = std::get_if<dht::peers_found>(&*e)) {
            auto it = dht_lookups_.find(found->id);
            if (it != dht_lookups_.end() && !torrents_[it->second].stopped) {
                torrents_[it->second].core->add_peers(now, found->peers, peer_source::dht);
                drain(now, it->second);
            }
        } else if (const auto* done = std::get_if<dht::lookup_done>(&*e)) {
            auto it = dht_lookups_.find(done->id);
            if (it == dht_lookups_.end()) {
                continue;
            }
            const torrent_handle t = it->second;
            dht_lookups_.erase(it);
            torrent_slot& slot = torrents_[t];
            slot.dht_lookup = 0;
            // Found nobody: ask again soon, then less and less often.
            if (done->peers > 0) {
                slot.dht_retry = config_.dht_retry_min;
                slot.next_dht = now + config_.dht_announce_interval;
            } else {
                slot.next_dht = now + slot.dht_retry;
                slot.dht_retry = std::min(slot.dht_retry * 2, config_.dht_announce_interval);
            }
            events_.push_back(
                node_event{t, dht_announce_done{done->peers, done->stored, done->stats.elapsed}});
        }
    }
}

void node::on_dht_datagram(time_point now, const endpoint& from, byte_view bytes) {
    if (dht_) {
        dht_->on_datagram(now, from, bytes);
        drain_dht(now);
    }
}

void node::add_dht_bootstrap(time_point now, const endpoint& ep) {
    if (!dht_) {
        return;
    }
    dht_->add_bootstrap(ep);
    if (dht_->table().size() < config_.dht->lookup.result_size) {
        dht_->bootstrap(now);
    }
    drain_dht(now);
}

std::optional<dht::dht_transmit> node::poll_dht_transmit() {
    return dht_ ? dht_->poll_datagram() : std::nullopt;
}

void node::close_socket(socket_id s, std::string reason) {
    node_transmit out;
    out.socket = s;
    out.what = node_transmit::kind::close;
    out.reason = std::move(reason);
    transmits_.push_back(std::move(out));
}

std::optional<socket_id> node::on_incoming(time_point now, const endpoint& remote) {
    if (pending_.size() >= config_.pending_incoming_max ||
        routes_.size() + pending_.size() >= config_.connections_max) {
        return std::nullopt;
    }
    const socket_id s = next_socket_++;
    pending_.emplace(s, pending_socket{remote, now, {}});
    return s;
}

void node::on_connected(time_point now, socket_id s) {
    if (auto r = routes_.find(s); r != routes_.end()) {
        torrents_[r->second.torrent].core->on_connected(now, r->second.conn);
        drain(now, r->second.torrent);
    }
}

void node::on_stream_bytes(time_point now, socket_id s, byte_view bytes) {
    if (auto r = routes_.find(s); r != routes_.end()) {
        const route to = r->second;
        torrents_[to.torrent].core->on_stream_bytes(now, to.conn, bytes);
        drain(now, to.torrent);
        return;
    }
    auto p = pending_.find(s);
    if (p == pending_.end()) {
        return;
    }
    p->second.received.append(as_chars(bytes));
    if (p->second.received.size() < routing_prefix) {
        return;
    }
    const std::string received = std::move(p->second.received);
    const endpoint remote = p->second.remote;
    pending_.erase(p);
    const auto hash = sha1_hash::from_bytes(std::string_view(received).substr(28, 20));
    const auto target = std::find_if(torrents_.begin(), torrents_.end(), [&](const torrent_slot& slot) {
        return slot.core->info_hash() == *hash;
    });
    if (received.compare(0, 20,
                         "\x13"
                         "BitTorrent protocol") != 0) {
        close_socket(s, "not a BitTorrent handshake");
        return;
    }
    if (target == torrents_.end()) {
        close_socket(s, "handshake for a torrent we do not have (" + hash->to_hex() + ")");
        return;
    }
    const auto t = static_cast<torrent_handle>(target - torrents_.begin());
    auto conn = target->core->add_incoming(now, remote);
    if (!conn) {
        close_socket(s, "torrent takes no more connections");
        return;
    }
    target->sockets[*conn] = s;
    routes_[s] = route{t, *conn};
    target->core->on_stream_bytes(now, *conn, as_bytes(received));
    drain(now, t);
}

void node::on_send_done(time_point now, socket_id s, std::size_t bytes) {
    if (auto r = routes_.find(s); r != routes_.end()) {
        const route to = r->second;
        torrents_[to.torrent].core->on_send_done(now, to.conn, bytes);
        drain(now, to.torrent);
    }
}

void node::on_closed(time_point now, socket_id s, const std::string& reason) {
    pending_.erase(s);
    auto r = routes_.find(s);
    if (r == routes_.end()) {
        return;
    }
    const route to = r->second;
    routes_.erase(r);
    torrents_[to.torrent].sockets.erase(to.conn);
    torrents_[to.torrent].core->on_closed(now, to.conn, reason);
    drain(now, to.torrent);
}

void node::on_disk_done(time_point now, torrent_handle t, std::uint64_t job, const disk_result& result) {
    torrents_.at(t).core->on_disk_done(now, job, result);
    drain(now, t);
}

void node::on_tracker_http_response(time_point now, std::uint64_t id, int status, byte_view body) {
    auto it = tracker_routes_.find(id);
    if (it == tracker_routes_.end()) {
        return;
    }
    const tracker_route r = it->second;
    torrents_[r.torrent].tracker->on_http_response(now, r.local_id, status, body);
    drain(now, r.torrent);
}

void node::on_tracker_datagram(time_point now, std::uint64_t id, byte_view datagram) {
    auto it = tracker_routes_.find(id);
    if (it == tracker_routes_.end()) {
        return;
    }
    const tracker_route r = it->second;
    torrents_[r.torrent].tracker->on_udp_datagram(now, r.local_id, datagram);
    drain(now, r.torrent);
}

void node::on_tracker_failed(time_point now, std::uint64_t id, const std::string& reason) {
    auto it = tracker_routes_.find(id);
    if (it == tracker_routes_.end()) {
        return;
    }
    const tracker_route r = it->second;
    torrents_[r.torrent].tracker->on_request_failed(now, r.local_id, reason);
    drain(now, r.torrent);
}

std::optional<node_tracker_request> node::poll_tracker_request() {
    return take_front(tracker_requests_);
}

void node::on_timer(time_point now) {
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (now - it->second.since >= config_.pending_incoming_timeout) {
            close_socket(it->first, "no handshake");
            it = pending_.erase(it);
        } else {
            ++it;
        }
    }
    for (torrent_handle t = 0; t < torrents_.size(); ++t) {
        const auto due = torrents_[t].core->next_timer();
        if (due && *due <= now) {
            torrents_[t].core->on_timer(now);
            drain(now, t);
        }
        if (torrents_[t].tracker) {
            const auto tracker_due = torrents_[t].tracker->next_timer();
            if (tracker_due && *tracker_due <= now) {
                torrents_[t].tracker->on_timer(now);
                drain(now, t);
            }
        }
        if (dht_due(torrents_[t]) && torrents_[t].next_dht <= now) {
            announce_to_dht(now, t);
        }
    }
    if (dht_) {
        if (auto due = dht_->next_timer(); due && *due <= now) {
            dht_->on_timer(now);
        }
        drain_dht(now);
    }
}

std::optional<node_transmit> node::poll_transmit() {
    return take_front(transmits_);
}

std::optional<node_disk_job> node::poll_disk_job() {
    return take_front(disk_jobs_);
}

std::optional<node_event> node::poll_event() {
    return take_front(events_);
}

std::optional<time_point> node::next_timer() const {
    std::optional<time_point> next;
    for (const torrent_slot& slot : torrents_) {
        if (auto due = slot.core->next_timer(); due && (!next || *due < *next)) {
            next = due;
        }
        if (slot.tracker) {
            if (auto due = slot.tracker->next_timer(); due && (!next || *due < *next)) {
                next = due;
            }
        }
    }
    for (const torrent_slot& slot : torrents_) {
        if (dht_due(slot) && (!next || slot.next_dht < *next)) {
            next = slot.next_dht;
        }
    }
    if (dht_) {
        if (auto due = dht_->next_timer(); due && (!next || *due < *next)) {
            next = due;
        }
    }
    for (const auto& [s, p] : pending_) {
        const time_point due = p.since + config_.pending_incoming_timeout;
        if (!next || due < *next) {
            next = due;
        }
    }
    return next;
}

}  // namespace hyphae
