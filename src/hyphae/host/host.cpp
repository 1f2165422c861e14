#include "hyphae/host/host.hpp"

#include <algorithm>

namespace hyphae {

host::host(host_config config) : config_(config), slots_(1) {}

host::~host() = default;

service_id host::add(time_point now, std::unique_ptr<service> s) {
    const auto id = static_cast<service_id>(slots_.size());
    s->attach(id, first_conn_of(id));
    const int rank = s->claim_rank();
    slots_.push_back(slot{std::move(s), false});
    const auto at = std::find_if(claim_order_.begin(), claim_order_.end(),
                                 [&](service_id other) { return slots_[other].core->claim_rank() > rank; });
    claim_order_.insert(at, id);
    collect(now, id);
    return id;
}

void host::remove(time_point now, service_id id) {
    if (!has(id)) {
        return;
    }
    (void)now;
    for (auto it = owners_.begin(); it != owners_.end();) {
        if (it->second == id) {
            transmits_.push(io::close{it->first, "service removed", false});
            it = owners_.erase(it);
        } else {
            ++it;
        }
    }
    timers_.erase(id);
    std::erase(claim_order_, id);
    slots_[id].core.reset();
    slots_[id].ready = false;
}

std::optional<service_id> host::owner_of(conn_id conn) const {
    auto it = owners_.find(conn);
    if (it == owners_.end()) {
        return std::nullopt;
    }
    return it->second;
}

void host::collect(time_point now, service_id id) {
    service& s = *slots_[id].core;
    while (auto t = s.poll_transmit()) {
        route(now, id, std::move(*t));
    }
    while (auto job = s.poll_disk_job()) {
        if (disk_jobs_.size() >= config_.disk_jobs_queued_max) {
            ++counters_.disk_jobs_refused;
            s.on_disk_done(now, job->id, disk_result{false, "too many disk jobs waiting", nullptr, {}});
            continue;
        }
        disk_jobs_.push(routed_disk_job{id, std::move(*job)});
    }
    while (auto query = s.poll_resolve()) {
        resolves_.push(routed_resolve{id, std::move(*query)});
    }
    timers_.set(id, s.next_timer());
    if (s.has_events() && !slots_[id].ready) {
        slots_[id].ready = true;
        ready_.push(id);
    }
}

void host::route(time_point now, service_id id, transmit t) {
    if (auto* c = std::get_if<io::connect>(&t)) {
        if (connection_count() >= config_.connections_max) {
            ++counters_.dials_refused;
            slots_[id].core->on_closed(now, c->conn, "too many connections in all");
            return;
        }
        owners_[c->conn] = id;
    } else if (auto* s = std::get_if<io::send>(&t)) {
        if (!owners_.contains(s->conn)) {
            return;  // closed already: its bytes have nowhere to go
        }
    } else if (auto* x = std::get_if<io::close>(&t)) {
        if (owners_.erase(x->conn) == 0) {
            return;
        }
    }
    push_transmit(now, id, std::move(t));
}

void host::push_transmit(time_point now, service_id id, transmit t) {
    if (transmits_.size() < config_.transmits_queued_max || std::holds_alternative<io::close>(t)) {
        transmits_.push(std::move(t));
        return;
    }
    ++counters_.transmits_dropped;
    // A lost datagram is UDP's everyday business; lost stream bytes would corrupt the stream.
    const conn_id conn = conn_of(t);
    if (conn != 0 && owners_.erase(conn) > 0) {
        transmits_.push(io::close{conn, "host output queue full", false});
        slots_[id].core->on_closed(now, conn, "host output queue full");
    }
}

std::optional<service_id> host::poll_ready() {
    while (auto id = ready_.pop()) {
        if (has(*id)) {
            slots_[*id].ready = false;
            return id;
        }
    }
    return std::nullopt;
}

void host::on_datagram(time_point now, const endpoint& from, byte_view bytes) {
    for (const service_id id : claim_order_) {
        service& s = *slots_[id].core;
        if (s.claims_datagram(bytes)) {
            s.on_datagram(now, from, bytes);
            collect(now, id);
            return;
        }
    }
    ++counters_.datagrams_unclaimed;
}

std::optional<conn_id> host::on_accepted(time_point now, const endpoint& remote) {
    if (pending_.size() >= config_.pending_streams_max || connection_count() >= config_.connections_max) {
        ++counters_.streams_refused;
        return std::nullopt;
    }
    ++counters_.streams_accepted;
    const conn_id conn = next_incoming_++;
    pending_.emplace(conn, pending_stream{remote, now, {}});
    arm_pending_timer();
    return conn;
}

void host::on_stream_bytes(time_point now, conn_id conn, byte_view bytes) {
    if (auto it = owners_.find(conn); it != owners_.end()) {
        const service_id id = it->second;
        slots_[id].core->on_stream_bytes(now, conn, bytes);
        collect(now, id);
        return;
    }
    auto p = pending_.find(conn);
    if (p == pending_.end()) {
        return;
    }
    p->second.first.insert(p->second.first.end(), bytes.begin(), bytes.end());
    try_claim(now, conn);
}

void host::try_claim(time_point now, conn_id conn) {
    auto p = pending_.find(conn);
    const byte_view first(p->second.first);
    bool maybe = false;
    for (const service_id id : claim_order_) {
        const claim c = slots_[id].core->claims_stream(first);
        if (c == claim::need_more) {
            maybe = true;
        } else if (c == claim::yes) {
            pending_stream taken = std::move(p->second);
            pending_.erase(p);
            arm_pending_timer();
            owners_[conn] = id;
            service& s = *slots_[id].core;
            s.on_accepted(now, conn, taken.remote);
            s.on_stream_bytes(now, conn, taken.first);
            collect(now, id);
            return;
        }
    }
    if (!maybe) {
        ++counters_.streams_unclaimed;
        close_pending(conn, "no service speaks this protocol");
    } else if (first.size() >= config_.claim_bytes_max) {
        ++counters_.streams_unclaimed;
        close_pending(conn, "unrecognised protocol");
    }
}

void host::close_pending(conn_id conn, std::string reason) {
    pending_.erase(conn);
    arm_pending_timer();
    transmits_.push(io::close{conn, std::move(reason), false});
}

void host::arm_pending_timer() {
    if (pending_.empty()) {
        timers_.erase(own_timer);
    } else {
        timers_.set(own_timer, pending_.begin()->second.since + config_.pending_stream_timeout);
    }
}

void host::expire_pending(time_point now) {
    while (!pending_.empty() && now - pending_.begin()->second.since >= config_.pending_stream_timeout) {
        ++counters_.streams_timed_out;
        close_pending(pending_.begin()->first, "nothing a service could claim in time");
    }
    arm_pending_timer();
}

void host::on_connected(time_point now, conn_id conn) {
    if (auto it = owners_.find(conn); it != owners_.end()) {
        const service_id id = it->second;
        slots_[id].core->on_connected(now, conn);
        collect(now, id);
    }
}

void host::on_send_done(time_point now, conn_id conn, std::size_t bytes) {
    if (auto it = owners_.find(conn); it != owners_.end()) {
        const service_id id = it->second;
        slots_[id].core->on_send_done(now, conn, bytes);
        collect(now, id);
    }
}

void host::on_closed(time_point now, conn_id conn, std::string_view reason) {
    if (pending_.erase(conn) > 0) {
        arm_pending_timer();
        return;
    }
    auto it = owners_.find(conn);
    if (it == owners_.end()) {
        return;
    }
    const service_id id = it->second;
    owners_.erase(it);
    slots_[id].core->on_closed(now, conn, reason);
    collect(now, id);
}

void host::on_disk_done(time_point now, service_id id, std::uint64_t job, const disk_result& result) {
    if (has(id)) {
        slots_[id].core->on_disk_done(now, job, result);
        collect(now, id);
    }
}

void host::on_resolved(time_point now, service_id id, std::uint64_t query, const resolve_result& result) {
    if (has(id)) {
        slots_[id].core->on_resolved(now, query, result);
        collect(now, id);
    }
}

void host::on_timer(time_point now) {
    // Each due timer fires once per call, even if its service asks for `now` again.
    due_.clear();
    while (auto k = timers_.pop_due(now)) {
        due_.push_back(*k);
    }
    for (const timer_heap::key k : due_) {
        if (k == own_timer) {
            expire_pending(now);
        } else if (has(k)) {
            slots_[k].core->on_timer(now);
            collect(now, k);
        }
    }
}

}  // namespace hyphae
