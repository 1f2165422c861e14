#include "hyphae/host/host.hpp"

#include <algorithm>
#include <array>

namespace hyphae {

host::host(host_config config) : config_(config), slots_(1) {}

host::~host() = default;

host::extra_state& host::extra() {
    if (!extra_) {
        extra_ = std::make_unique<extra_state>();
    }
    return *extra_;
}

const host_counters& host::counters() const {
    static const host_counters none{};
    return extra_ ? extra_->counters : none;
}

std::optional<transmit> host::poll_transmit() {
    auto t = transmits_.pop();
    if (!t && trim_transmits_) {
        transmits_ = {};  // a burst is over: its storage goes back
        trim_transmits_ = false;
    }
    return t;
}

void host::queue_transmit(transmit t) {
    transmits_.push(std::move(t));
    if (transmits_.size() > transmits_kept) {
        trim_transmits_ = true;
    }
}

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
    if (extra_) {
        std::vector<conn_id> owned;
        for (const auto& [conn, owner] : extra_->owners) {
            if (owner == id) {
                owned.push_back(conn);
            }
        }
        std::sort(owned.begin(), owned.end());  // the table's own order differs from run to run
        for (const conn_id conn : owned) {
            extra_->owners.erase(conn);
            queue_transmit(io::close{conn, "service removed", false});
        }
    }
    timers_.erase(id);
    std::erase(claim_order_, id);
    slots_[id].core.reset();
    slots_[id].ready = false;
}

std::optional<service_id> host::owner_of(conn_id conn) const {
    if (!extra_) {
        return std::nullopt;
    }
    auto it = extra_->owners.find(conn);
    if (it == extra_->owners.end()) {
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
        extra_state& x = extra();
        if (x.disk_jobs.size() >= config_.disk_jobs_queued_max) {
            ++x.counters.disk_jobs_refused;
            s.on_disk_done(now, job->id, disk_result{false, "too many disk jobs waiting", nullptr, {}});
            continue;
        }
        x.disk_jobs.push(routed_disk_job{id, std::move(*job)});
    }
    while (auto query = s.poll_resolve()) {
        extra().resolves.push(routed_resolve{id, std::move(*query)});
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
            ++extra().counters.dials_refused;
            slots_[id].core->on_closed(now, c->conn, "too many connections in all");
            return;
        }
        extra().owners[c->conn] = id;
    } else if (auto* s = std::get_if<io::send>(&t)) {
        if (!extra_ || !extra_->owners.contains(s->conn)) {
            return;  // closed already: its bytes have nowhere to go
        }
    } else if (auto* x = std::get_if<io::close>(&t)) {
        if (!extra_ || extra_->owners.erase(x->conn) == 0) {
            return;
        }
    }
    push_transmit(now, id, std::move(t));
}

void host::push_transmit(time_point now, service_id id, transmit t) {
    if (transmits_.size() < config_.transmits_queued_max || std::holds_alternative<io::close>(t)) {
        queue_transmit(std::move(t));
        return;
    }
    ++extra().counters.transmits_dropped;
    // A lost datagram is UDP's everyday business; lost stream bytes would corrupt the stream.
    const conn_id conn = conn_of(t);
    if (conn != 0 && extra_->owners.erase(conn) > 0) {
        queue_transmit(io::close{conn, "host output queue full", false});
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
    ++extra().counters.datagrams_unclaimed;
}

std::optional<conn_id> host::on_accepted(time_point now, const endpoint& remote) {
    extra_state& x = extra();
    if (x.pending.size() >= config_.pending_streams_max || connection_count() >= config_.connections_max) {
        ++x.counters.streams_refused;
        return std::nullopt;
    }
    ++x.counters.streams_accepted;
    const conn_id conn = x.next_incoming++;
    x.pending.emplace(conn, pending_stream{remote, now, {}});
    arm_pending_timer();
    return conn;
}

void host::on_stream_bytes(time_point now, conn_id conn, byte_view bytes) {
    stream_input(now, conn, bytes, nullptr);
}

void host::on_stream_buffer(time_point now, conn_id conn, const out_buffer& bytes) {
    stream_input(now, conn, bytes.bytes, &bytes);
}

void host::stream_input(time_point now, conn_id conn, byte_view bytes, const out_buffer* buffer) {
    if (!extra_) {
        return;
    }
    if (auto it = extra_->owners.find(conn); it != extra_->owners.end()) {
        const service_id id = it->second;
        if (buffer != nullptr) {
            slots_[id].core->on_stream_buffer(now, conn, *buffer);
        } else {
            slots_[id].core->on_stream_bytes(now, conn, bytes);
        }
        collect(now, id);
        return;
    }
    auto p = extra_->pending.find(conn);
    if (p == extra_->pending.end()) {
        return;
    }
    p->second.first.insert(p->second.first.end(), bytes.begin(), bytes.end());
    try_claim(now, conn);
}

void host::try_claim(time_point now, conn_id conn) {
    extra_state& x = *extra_;
    auto p = x.pending.find(conn);
    const byte_view first(p->second.first);
    bool maybe = false;
    for (const service_id id : claim_order_) {
        const claim c = slots_[id].core->claims_stream(first);
        if (c == claim::need_more) {
            maybe = true;
        } else if (c == claim::yes) {
            pending_stream taken = std::move(p->second);
            x.pending.erase(p);
            arm_pending_timer();
            x.owners[conn] = id;
            service& s = *slots_[id].core;
            s.on_accepted(now, conn, taken.remote);
            s.on_stream_bytes(now, conn, taken.first);
            collect(now, id);
            return;
        }
    }
    if (!maybe) {
        ++x.counters.streams_unclaimed;
        close_pending(conn, "no service speaks this protocol");
    } else if (first.size() >= config_.claim_bytes_max) {
        ++x.counters.streams_unclaimed;
        close_pending(conn, "unrecognised protocol");
    }
}

void host::close_pending(conn_id conn, std::string reason) {
    extra_->pending.erase(conn);
    arm_pending_timer();
    queue_transmit(io::close{conn, std::move(reason), false});
}

void host::arm_pending_timer() {
    if (!extra_ || extra_->pending.empty()) {
        timers_.erase(own_timer);
    } else {
        timers_.set(own_timer, extra_->pending.begin()->second.since + config_.pending_stream_timeout);
    }
}

void host::expire_pending(time_point now) {
    if (!extra_) {
        return;
    }
    auto& pending = extra_->pending;
    while (!pending.empty() && now - pending.begin()->second.since >= config_.pending_stream_timeout) {
        ++extra_->counters.streams_timed_out;
        close_pending(pending.begin()->first, "nothing a service could claim in time");
    }
    arm_pending_timer();
}

void host::on_connected(time_point now, conn_id conn) {
    if (!extra_) {
        return;
    }
    if (auto it = extra_->owners.find(conn); it != extra_->owners.end()) {
        const service_id id = it->second;
        slots_[id].core->on_connected(now, conn);
        collect(now, id);
    }
}

void host::on_send_done(time_point now, conn_id conn, std::size_t bytes) {
    if (!extra_) {
        return;
    }
    if (auto it = extra_->owners.find(conn); it != extra_->owners.end()) {
        const service_id id = it->second;
        slots_[id].core->on_send_done(now, conn, bytes);
        collect(now, id);
    }
}

void host::on_closed(time_point now, conn_id conn, std::string_view reason) {
    if (!extra_) {
        return;
    }
    if (extra_->pending.erase(conn) > 0) {
        arm_pending_timer();
        return;
    }
    auto it = extra_->owners.find(conn);
    if (it == extra_->owners.end()) {
        return;
    }
    const service_id id = it->second;
    extra_->owners.erase(it);
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
    // Each due timer fires once per call, even if its service asks for `now` again. The keys due
    // are gathered first: a few in place, more (rare) in a vector.
    std::array<timer_heap::key, 8> few{};
    std::size_t count = 0;
    std::vector<timer_heap::key> more;
    while (auto k = timers_.pop_due(now)) {
        if (count < few.size()) {
            few[count++] = *k;
        } else {
            more.push_back(*k);
        }
    }
    const auto fire = [&](timer_heap::key k) {
        if (k == own_timer) {
            expire_pending(now);
        } else if (has(k)) {
            slots_[k].core->on_timer(now);
            collect(now, k);
        }
    };
    for (std::size_t i = 0; i < count; ++i) {
        fire(few[i]);
    }
    for (const timer_heap::key k : more) {
        fire(k);
    }
}

}  // namespace hyphae
