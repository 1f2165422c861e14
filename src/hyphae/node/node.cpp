#include "hyphae/node/node.hpp"

#include <algorithm>

namespace hyphae {
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

node::node(const node_config& config, std::uint64_t seed, time_point) : config_(config), rng_(seed) {
    config_.torrent.listen_port = config_.listen_port;
}

void node::set_listen_port(std::uint16_t port) {
    config_.listen_port = port;
    config_.torrent.listen_port = port;
}

torrent_handle node::add_torrent(time_point now, add_torrent_params params) {
    const auto handle = static_cast<torrent_handle>(torrents_.size());
    torrent_slot slot;
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
    torrents_.push_back(std::move(slot));
    if (!params.peers.empty()) {
        torrents_.back().core->add_peers(now, params.peers, peer_source::manual);
    }
    drain(now, handle);
    return handle;
}

void node::add_peers(time_point now, torrent_handle t, const std::vector<endpoint>& peers,
                     peer_source source) {
    torrents_.at(t).core->add_peers(now, peers, source);
    drain(now, t);
}

void node::drain(time_point, torrent_handle t) {
    torrent_slot& slot = torrents_[t];
    while (auto tx = slot.core->poll_transmit()) {
        node_transmit out;
        out.what = tx->what;
        out.remote = tx->remote;
        out.data = std::move(tx->data);
        out.reason = std::move(tx->reason);
        if (tx->what == transmit::kind::connect) {
            out.socket = next_socket_++;
            slot.sockets[tx->conn] = out.socket;
            routes_[out.socket] = route{t, tx->conn};
        } else {
            auto it = slot.sockets.find(tx->conn);
            if (it == slot.sockets.end()) {
                continue;
            }
            out.socket = it->second;
            if (tx->what == transmit::kind::close) {
                routes_.erase(it->second);
                slot.sockets.erase(it);
            }
        }
        transmits_.push_back(std::move(out));
    }
    while (auto job = slot.core->poll_disk_job()) {
        disk_jobs_.push_back(node_disk_job{t, std::move(*job)});
    }
    while (auto e = slot.core->poll_event()) {
        events_.push_back(node_event{t, std::move(*e)});
    }
}

void node::close_socket(socket_id s, std::string reason) {
    node_transmit out;
    out.socket = s;
    out.what = transmit::kind::close;
    out.reason = std::move(reason);
    transmits_.push_back(std::move(out));
}

std::optional<socket_id> node::on_incoming(time_point now, const endpoint& remote) {
    if (pending_.size() >= config_.pending_incoming_max) {
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
    }
}

std::optional<node_transmit> node::poll_transmit() {
    if (transmits_.empty()) {
        return std::nullopt;
    }
    node_transmit t = std::move(transmits_.front());
    transmits_.pop_front();
    return t;
}

std::optional<node_disk_job> node::poll_disk_job() {
    if (disk_jobs_.empty()) {
        return std::nullopt;
    }
    node_disk_job j = std::move(disk_jobs_.front());
    disk_jobs_.pop_front();
    return j;
}

std::optional<node_event> node::poll_event() {
    if (events_.empty()) {
        return std::nullopt;
    }
    node_event e = std::move(events_.front());
    events_.pop_front();
    return e;
}

std::optional<time_point> node::next_timer() const {
    std::optional<time_point> next;
    for (const torrent_slot& slot : torrents_) {
        if (auto due = slot.core->next_timer(); due && (!next || *due < *next)) {
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
