#include "hyphae/sim/network.hpp"

#include <algorithm>
#include <cassert>

#include "hyphae/core/fifo.hpp"
#include "hyphae/sim/distributions.hpp"

namespace hyphae::sim {

namespace {

constexpr time_point never = time_point::max();
constexpr std::size_t pinholes_max = 64;  // per NAT-ed host: its most recent destinations
// What a capped uplink sends of one connection before the next one's turn: four block messages,
// about what a TCP sender with segmentation offload puts on the wire in one burst (64 KiB).
constexpr std::uint64_t uplink_quantum = 4 * (16 * 1024 + 64);
// A send this quick to transmit, on a connection with nothing in line, leaves at once and is done
// at once, ahead of the bulk flows' turns, as a fair-queueing link favours a sparse flow. It is
// what requests and HAVEs are: without it each took a turn of its own.
constexpr duration sparse_send_time = std::chrono::milliseconds(2);

duration transfer_time(std::uint64_t bytes, float rate) {
    return duration(static_cast<std::int64_t>(static_cast<double>(bytes) * 1e9 / static_cast<double>(rate)));
}

std::uint32_t ms_of(time_point t) {
    return static_cast<std::uint32_t>(std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count());
}

}  // namespace

struct network::stream_uplink {
    struct pending {
        std::vector<out_buffer> data;
        std::uint64_t size = 0;
        std::uint64_t left = 0;
        bool close = false;  // a close after flush: goes when everything before it has
    };
    fifo<conn_id> turn;  // connections with bytes waiting, in the order they are served
    flat_map<conn_id, fifo<pending>> waiting;
    conn_id on_wire = 0;     // whose quantum is being sent (0: none)
    std::uint64_t debt = 0;  // bytes of sparse sends, paid by the next quantum
    bool busy = false;
};

struct network::flight {
    enum class kind : std::uint8_t {
        datagram,
        connect,
        connected,
        refused,
        bytes,
        close,
        send_done,
        disk,
        uplink
    };
    kind what = kind::datagram;
    host_index from = 0;
    std::uint32_t incarnation = 0;  // of the receiving host when sent (connection events only)
    conn_id conn = 0;               // at the receiver (connect: at the dialler)
    std::size_t size = 0;           // send_done
    service_id service = 0;         // disk
    std::uint64_t job = 0;
    endpoint source;  // datagram
    byte_buffer bytes;
    std::vector<out_buffer> data;
    std::unique_ptr<disk_result> result;  // rare, and large: kept out of line
    const char* reason = "";              // closes and failed dials: one of a few fixed texts
};

network::network(network_params config, const latency_model* model)
    : config_(config), model_(model), rng_(config.seed), now_(config.start) {}

network::~network() = default;

std::uint64_t network::key_of(const endpoint& address) {
    return static_cast<std::uint64_t>(address.address.v4_host_order()) << 16 | address.port;
}

host_index network::add_host(const endpoint& address, host_options options) {
    assert(address.address.is_v4());
    const auto i = static_cast<host_index>(hosts_.size());
    sim_host& s = hosts_.emplace_back();
    s.h = std::make_unique<host>(options.config);
    s.address = address;
    s.place = options.place;
    s.link = options.link;
    s.nat = options.nat;
    by_address_[key_of(address)] = i;
    return i;
}

endpoint network::next_address() {
    const std::uint32_t n = ++next_address_;
    return endpoint{ip_address::v4(0x0a000000u | (n & 0xffffffu)), 6881};
}

host& network::at(host_index i) {
    assert(hosts_.at(i).h != nullptr);
    return *hosts_.at(i).h;
}

bool network::up(host_index i) const {
    return i < hosts_.size() && hosts_[i].h != nullptr;
}

std::optional<host_index> network::host_at(const endpoint& address) const {
    if (!address.address.is_v4()) {
        return std::nullopt;
    }
    auto it = by_address_.find(key_of(address));
    if (it == by_address_.end()) {
        return std::nullopt;
    }
    return it->second;
}

void network::set_owner(host_index i, host_owner* owner) {
    hosts_.at(i).owner = owner;
    if (hosts_[i].h) {
        pump(i);
    }
}

void network::take_down(host_index i) {
    sim_host& s = hosts_.at(i);
    if (!s.h) {
        return;
    }
    // Its peers see a reset; its own ends vanish with it.
    std::vector<link_end> ends;
    for (const auto& [end, other] : links_) {
        if (end.host == i) {
            ends.push_back(end);
        }
    }
    // In connection order: the table's own order differs from run to run.
    std::sort(ends.begin(), ends.end(), [](const link_end& a, const link_end& b) { return a.conn < b.conn; });
    for (const link_end& end : ends) {
        const link_end other = links_[end];
        links_.erase(end);
        early_sends_.erase(end);
        if (other.conn != 0 && up(other.host)) {
            flight f;
            f.what = flight::kind::close;
            f.from = i;
            f.incarnation = hosts_[other.host].incarnation;
            f.conn = other.conn;
            f.reason = "connection reset";
            queue_.push(now_ + one_way(i, other.host, false), event_kind::deliver, other.host,
                        store(std::move(f)));
        }
    }
    s.h.reset();
    s.streams.reset();
    std::erase_if(done_now_, [&](const sparse_done& d) { return d.host == i; });
    s.owner = nullptr;
    s.timer_at = never;
    s.pinholes.clear();
    s.pinholes.shrink_to_fit();
    ++s.incarnation;
}

host& network::bring_up(host_index i, host_config config) {
    sim_host& s = hosts_.at(i);
    assert(!s.h);
    ++s.incarnation;
    s.h = std::make_unique<host>(config);
    s.timer_at = never;
    return *s.h;
}

void network::pump(host_index i) {
    for (;;) {
        if (!hosts_[i].h) {
            return;
        }
        bool any = false;
        // An owner may take its own host down (a peer that leaves when done): look again each time.
        while (hosts_[i].h) {
            const auto id = hosts_[i].h->poll_ready();
            if (!id) {
                break;
            }
            any = true;
            if (hosts_[i].owner != nullptr) {
                hosts_[i].owner->on_ready(now_, *id);
            } else if (ready_) {
                ready_(i, now_, *id);
            }
        }
        if (hosts_[i].owner != nullptr && hosts_[i].owner->on_pump(now_)) {
            any = true;
        }
        if (!hosts_[i].h) {
            return;
        }
        host& h = *hosts_[i].h;
        while (auto t = h.poll_transmit()) {
            any = true;
            carry(i, std::move(*t));
        }
        // on_send_done only queues in the host: nothing is carried, so nothing joins the list.
        for (const sparse_done& d : done_now_) {
            any = true;
            if (d.host == i && links_.contains(link_end{i, d.conn})) {
                h.on_send_done(now_, d.conn, d.size);
            }
        }
        done_now_.clear();
        while (auto job = h.poll_disk_job()) {
            any = true;
            ++counters_.disk_jobs;
            disk_result result = disk_ ? disk_(i, *job) : disk_result{false, "no disk here", nullptr, {}};
            if (config_.disk_latency == duration::zero()) {
                h.on_disk_done(now_, job->service, job->job.id, result);  // the loop drains what it made
                continue;
            }
            flight f;
            f.what = flight::kind::disk;
            f.incarnation = hosts_[i].incarnation;
            f.service = job->service;
            f.job = job->job.id;
            f.result = std::make_unique<disk_result>(std::move(result));
            queue_.push(now_ + config_.disk_latency, event_kind::deliver, i, store(std::move(f)));
        }
        while (auto q = h.poll_resolve()) {
            any = true;
            auto it = names.find(q->query.host);
            if (it == names.end()) {
                h.on_resolved(now_, q->service, q->query.id,
                              fail(errc::io, q->query.host, "no such name in the simulated network"));
            } else {
                std::vector<endpoint> found = it->second;
                for (endpoint& e : found) {
                    if (q->query.port != 0) {
                        e.port = q->query.port;
                    }
                }
                h.on_resolved(now_, q->service, q->query.id, found);
            }
        }
        if (!any) {
            break;
        }
    }
    reschedule(i);
}

void network::reschedule(host_index i) {
    sim_host& s = hosts_[i];
    std::optional<time_point> next = s.h->next_timer();
    if (s.owner != nullptr) {
        if (auto own = s.owner->next_timer(); own && (!next || *own < *next)) {
            next = own;
        }
    }
    if (!next) {
        return;
    }
    // Work due now runs a millisecond later, so that a core that keeps a deadline due cannot spin.
    const time_point at = *next > now_ ? *next : now_ + milliseconds(1);
    if (s.timer_at <= at && s.timer_at > now_) {
        return;  // an earlier wake-up is pending; it will ask again
    }
    s.timer_at = at;
    queue_.push(at, event_kind::timer, i, s.incarnation);
}

void network::fire_timer(const event& e) {
    sim_host& s = hosts_[e.node];
    if (!s.h || e.payload != s.incarnation || e.at != s.timer_at) {
        return;  // stale: the host went down, or asked for another time since
    }
    s.timer_at = never;
    if (auto due = s.h->next_timer(); due && *due <= now_) {
        s.h->on_timer(now_);
    }
    if (s.owner != nullptr) {
        if (auto due = s.owner->next_timer(); due && *due <= now_) {
            s.owner->on_timer(now_);
        }
    }
    pump(e.node);
}

duration network::one_way(host_index from, host_index to, bool jitter) {
    if (model_ != nullptr) {
        return jitter ? model_->one_way(hosts_[from].place, hosts_[to].place, rng_)
                      : model_->one_way(hosts_[from].place, hosts_[to].place);
    }
    if (jitter && config_.jitter.count() > 0) {
        return config_.latency + duration(static_cast<duration::rep>(
                                     rng_.uniform(static_cast<std::uint64_t>(config_.jitter.count()))));
    }
    return config_.latency;
}

time_point network::depart(sim_host& src, std::uint64_t bytes) {
    if (src.link.up_bytes_per_second <= 0) {
        return now_;
    }
    const time_point t = std::max(now_, src.uplink_free) + transfer_time(bytes, src.link.up_bytes_per_second);
    src.uplink_free = t;
    return t;
}

time_point network::arrive(host_index to, time_point at, std::uint64_t bytes) {
    sim_host& dst = hosts_[to];
    if (dst.link.down_bytes_per_second <= 0) {
        return std::max(at, dst.downlink_free);
    }
    const time_point t =
        std::max(at, dst.downlink_free) + transfer_time(bytes, dst.link.down_bytes_per_second);
    dst.downlink_free = t;
    return t;
}

std::uint32_t network::store(flight f) {
    if (!free_flights_.empty()) {
        const std::uint32_t slot = free_flights_.back();
        free_flights_.pop_back();
        flights_[slot] = std::move(f);
        return slot;
    }
    flights_.push_back(std::move(f));
    return static_cast<std::uint32_t>(flights_.size() - 1);
}

void network::carry(host_index i, transmit t) {
    std::visit(
        [&](auto& what) {
            using T = std::decay_t<decltype(what)>;
            if constexpr (std::is_same_v<T, io::datagram>) {
                send_datagram(i, std::move(what));
            } else if constexpr (std::is_same_v<T, io::connect>) {
                dial(i, what);
            } else if constexpr (std::is_same_v<T, io::send>) {
                send_stream(i, std::move(what));
            } else {
                close_stream(i, what);
            }
        },
        t);
}

bool network::pinhole_open(const sim_host& h, host_index from, time_point at) const {
    const std::uint32_t ms = ms_of(at);
    return std::any_of(h.pinholes.begin(), h.pinholes.end(),
                       [&](const auto& p) { return p.first == from && p.second >= ms; });
}

void network::open_pinhole(sim_host& h, host_index to) {
    const std::uint32_t expiry = ms_of(now_ + config_.nat_timeout);
    auto it =
        std::find_if(h.pinholes.begin(), h.pinholes.end(), [&](const auto& p) { return p.first == to; });
    if (it != h.pinholes.end()) {
        it->second = expiry;
    } else if (h.pinholes.size() < pinholes_max) {
        h.pinholes.emplace_back(to, expiry);
    } else {
        *std::min_element(h.pinholes.begin(), h.pinholes.end(),
                          [](const auto& a, const auto& b) { return a.second < b.second; }) = {to, expiry};
    }
}

void network::send_datagram(host_index i, io::datagram d) {
    sim_host& src = hosts_[i];
    ++counters_.datagrams;
    src.traffic.datagram_bytes_up += d.bytes.size();
    const auto dst = host_at(d.to);
    if (!dst) {
        ++counters_.unknown_address;
        strays_.push_back(stray{i, std::move(d)});
        return;
    }
    if (src.nat) {
        open_pinhole(src, *dst);
    }
    if (config_.loss > 0 && unit_interval(rng_) < config_.loss) {
        ++counters_.lost;
        return;
    }
    const time_point leaves = depart(src, d.bytes.size() + config_.datagram_overhead);
    flight f;
    f.what = flight::kind::datagram;
    f.from = i;
    f.source = src.address;
    f.bytes = std::move(d.bytes);
    queue_.push(leaves + one_way(i, *dst, true), event_kind::deliver, *dst, store(std::move(f)));
}

void network::inject_datagram(host_index to, const endpoint& from, byte_buffer bytes) {
    flight f;
    f.what = flight::kind::datagram;
    f.from = static_cast<host_index>(-1);
    f.source = from;
    f.bytes = std::move(bytes);
    queue_.push(now_ + config_.latency, event_kind::deliver, to, store(std::move(f)));
}

void network::dial(host_index i, const io::connect& c) {
    ++counters_.connects;
    const auto dst = host_at(c.remote);
    links_[link_end{i, c.conn}] = link_end{dst.value_or(0), 0};
    flight f;
    f.from = i;
    f.incarnation = hosts_[i].incarnation;
    f.conn = c.conn;
    if (!dst || !up(*dst) || hosts_[*dst].nat) {
        // Nobody answers: the dial times out.
        f.what = flight::kind::refused;
        f.reason = "connection timed out";
        queue_.push(now_ + config_.connect_timeout, event_kind::deliver, i, store(std::move(f)));
        return;
    }
    f.what = flight::kind::connect;
    queue_.push(now_ + one_way(i, *dst, false), event_kind::deliver, *dst, store(std::move(f)));
}

void network::send_stream(host_index i, io::send s) {
    auto it = links_.find(link_end{i, s.conn});
    if (it != links_.end() && it->second.conn == 0) {
        early_sends_[link_end{i, s.conn}].push_back(std::move(s));  // sent once connected, as a socket would
        return;
    }
    std::uint64_t size = 0;
    for (const out_buffer& b : s.data) {
        size += b.bytes.size();
    }
    sim_host& src = hosts_[i];
    if (src.link.up_bytes_per_second <= 0) {
        dispatch_send(i, s.conn, std::move(s.data), size, now_, true);
        return;
    }
    if (!src.streams) {
        src.streams = std::make_unique<stream_uplink>();
    }
    stream_uplink& u = *src.streams;
    const auto line = u.waiting.find(s.conn);
    const bool quiet = line == u.waiting.end() || line->second.empty();
    if (quiet && u.on_wire != s.conn &&
        transfer_time(size, src.link.up_bytes_per_second) <= sparse_send_time) {
        u.debt += size;
        done_now_.push_back({i, s.conn, size});
        dispatch_send(i, s.conn, std::move(s.data), size, now_, false);
        return;
    }
    auto& queue = line != u.waiting.end() ? line->second : u.waiting[s.conn];
    if (queue.empty()) {
        u.turn.push_back(s.conn);
    } else if (stream_uplink::pending& tail = queue.back();
               !tail.close && tail.left + size <= uplink_quantum) {
        // Joins the send before it: one turn and one arrival for both, as a socket would coalesce them.
        tail.data.insert(tail.data.end(), std::make_move_iterator(s.data.begin()),
                         std::make_move_iterator(s.data.end()));
        tail.size += size;
        tail.left += size;
        return;
    }
    queue.push_back(stream_uplink::pending{std::move(s.data), size, size, false});
    if (!u.busy) {
        uplink_next(i);
    }
}

void network::uplink_next(host_index i) {
    sim_host& src = hosts_[i];
    stream_uplink& u = *src.streams;
    while (!u.turn.empty()) {
        const conn_id conn = u.turn.front();
        u.turn.pop_front();
        auto q = u.waiting.find(conn);
        if (q == u.waiting.end() || q->second.empty()) {
            continue;
        }
        auto& line = q->second;
        if (line.front().close) {
            u.waiting.erase(q);
            dispatch_close(i, conn, now_);
            continue;
        }
        // One quantum: whole sends while they fit, then part of the next one.
        std::uint64_t budget = uplink_quantum;
        std::uint64_t done_size = 0;
        std::vector<out_buffer> done;
        while (budget > 0 && !line.empty() && !line.front().close) {
            stream_uplink::pending& head = line.front();
            const std::uint64_t chunk = std::min(budget, head.left);
            head.left -= chunk;
            budget -= chunk;
            if (head.left != 0) {
                break;
            }
            done_size += head.size;
            if (done.empty()) {
                done = std::move(head.data);
            } else {
                done.insert(done.end(), std::make_move_iterator(head.data.begin()),
                            std::make_move_iterator(head.data.end()));
            }
            line.pop_front();
        }
        const time_point sent =
            now_ + transfer_time(uplink_quantum - budget + u.debt, src.link.up_bytes_per_second);
        u.debt = 0;
        flight tick;
        tick.what = flight::kind::uplink;
        tick.incarnation = src.incarnation;
        if (done_size != 0) {
            // The tick that ends these sends tells the sender too: one event, not two.
            tick.conn = conn;
            tick.size = done_size;
            dispatch_send(i, conn, std::move(done), done_size, sent, false);
        }
        if (line.empty()) {
            u.waiting.erase(q);
        } else {
            u.turn.push_back(conn);
        }
        u.busy = true;
        u.on_wire = conn;
        queue_.push(sent, event_kind::deliver, i, store(std::move(tick)));
        return;
    }
    u.busy = false;
    u.on_wire = 0;
}

void network::dispatch_send(host_index i, conn_id conn, std::vector<out_buffer> data, std::uint64_t size,
                            time_point leaves, bool tell_sender) {
    sim_host& src = hosts_[i];
    if (tell_sender) {
        flight done;
        done.what = flight::kind::send_done;
        done.incarnation = src.incarnation;
        done.conn = conn;
        done.size = size;
        queue_.push(leaves, event_kind::deliver, i, store(std::move(done)));
    }
    auto it = links_.find(link_end{i, conn});
    if (it == links_.end() || it->second.conn == 0 || !up(it->second.host)) {
        return;  // the other end is gone: the bytes go nowhere
    }
    const link_end other = it->second;
    src.traffic.stream_bytes_up += size;
    counters_.stream_bytes += size;
    flight f;
    f.what = flight::kind::bytes;
    f.from = i;
    f.incarnation = hosts_[other.host].incarnation;
    f.conn = other.conn;
    f.size = size;
    f.data = std::move(data);
    const time_point reaches = arrive(other.host, leaves + one_way(i, other.host, false), size);
    queue_.push(reaches, event_kind::deliver, other.host, store(std::move(f)));
}

void network::close_stream(host_index i, const io::close& c) {
    sim_host& src = hosts_[i];
    if (src.streams) {
        stream_uplink& u = *src.streams;
        auto q = u.waiting.find(c.conn);
        const bool in_line = q != u.waiting.end() && !q->second.empty();
        if (c.flush && (in_line || (u.busy && u.on_wire == c.conn))) {
            // The close goes once the bytes before it have, those on the wire included.
            if (!in_line) {
                u.turn.push_back(c.conn);
            }
            u.waiting[c.conn].push_back(stream_uplink::pending{{}, 0, 0, true});
            return;
        }
        if (in_line) {
            u.waiting.erase(q);  // a reset: what was waiting is dropped
        }
    }
    dispatch_close(i, c.conn, now_);
}

void network::dispatch_close(host_index i, conn_id conn, time_point leaves) {
    auto it = links_.find(link_end{i, conn});
    if (it == links_.end()) {
        return;
    }
    const link_end other = it->second;
    links_.erase(it);
    early_sends_.erase(link_end{i, conn});
    if (other.conn == 0 || !up(other.host)) {
        return;  // not accepted yet: the connect finds no dialler and is reset then
    }
    flight f;
    f.what = flight::kind::close;
    f.from = i;
    f.incarnation = hosts_[other.host].incarnation;
    f.conn = other.conn;
    f.reason = "closed by the peer";
    const time_point reaches = arrive(other.host, leaves + one_way(i, other.host, false), 0);
    queue_.push(reaches, event_kind::deliver, other.host, store(std::move(f)));
}

void network::schedule(time_point at, std::uint8_t tag, std::uint32_t node, std::uint32_t payload) {
    queue_.push(at, event_kind::user, node, payload, tag);
}

bool network::step() {
    auto e = queue_.pop();
    if (!e) {
        return false;
    }
    now_ = std::max(now_, e->at);
    ++counters_.events;
    fire(*e);
    return true;
}

bool network::run_until(const std::function<bool()>& done, time_point deadline) {
    while (!done()) {
        const auto next = queue_.next_time();
        if (!next || *next > deadline) {
            now_ = std::max(now_, deadline);
            return done();
        }
        step();
    }
    return true;
}

void network::run_for(duration span) {
    run_until([] { return false; }, now_ + span);
}

void network::fire(const event& e) {
    switch (e.kind) {
        case event_kind::deliver: {
            flight f = std::exchange(flights_[e.payload], flight{});
            free_flights_.push_back(e.payload);
            deliver(e, std::move(f));
            break;
        }
        case event_kind::timer:
            fire_timer(e);
            break;
        case event_kind::user:
            if (user_) {
                user_(e);
            }
            break;
    }
}

void network::deliver(const event& e, flight f) {
    const host_index to = e.node;
    sim_host& dst = hosts_[to];
    if (!dst.h) {
        if (f.what == flight::kind::datagram) {
            ++counters_.to_down_host;
        } else if (f.what == flight::kind::connect) {
            // The host went down while the dial was on its way: nobody answers it.
            flight r;
            r.what = flight::kind::refused;
            r.incarnation = f.incarnation;
            r.conn = f.conn;
            r.reason = "connection timed out";
            queue_.push(now_ + config_.connect_timeout, event_kind::deliver, f.from, store(std::move(r)));
        }
        return;
    }
    // A connect is for whoever has the address now; the rest belong to one life of the host.
    // (A connect's incarnation is the dialler's.)
    if (f.what != flight::kind::datagram && f.what != flight::kind::connect &&
        f.incarnation != dst.incarnation) {
        return;  // for a life of the host that has ended
    }
    host& h = *dst.h;
    switch (f.what) {
        case flight::kind::datagram:
            if (dst.nat && !pinhole_open(dst, f.from, e.at)) {
                ++counters_.nat_dropped;
                return;
            }
            ++counters_.delivered;
            h.on_datagram(now_, f.source, as_bytes(f.bytes));
            break;
        case flight::kind::connect: {
            // The dialler's side of a connection comes from an ephemeral port.
            const endpoint caller{hosts_[f.from].address.address, next_port_++};
            if (next_port_ == 0) {
                next_port_ = 40000;
            }
            const auto accepted = h.on_accepted(now_, caller);
            auto mine = links_.find(link_end{f.from, f.conn});
            const bool dialler_waits = up(f.from) && hosts_[f.from].incarnation == f.incarnation &&
                                       mine != links_.end() && mine->second.conn == 0;
            if (!accepted) {
                if (dialler_waits) {
                    flight r;
                    r.what = flight::kind::refused;
                    r.incarnation = f.incarnation;
                    r.conn = f.conn;
                    r.reason = "connection refused";
                    queue_.push(now_ + one_way(to, f.from, false), event_kind::deliver, f.from,
                                store(std::move(r)));
                }
                break;
            }
            if (!dialler_waits) {
                // The dialler gave up meanwhile: its reset follows the accept.
                h.on_closed(now_, *accepted, "connection reset");
                break;
            }
            mine->second = link_end{to, *accepted};
            links_[link_end{to, *accepted}] = link_end{f.from, f.conn};
            flight ok;
            ok.what = flight::kind::connected;
            ok.incarnation = f.incarnation;
            ok.conn = f.conn;
            queue_.push(now_ + one_way(to, f.from, false), event_kind::deliver, f.from, store(std::move(ok)));
            break;
        }
        case flight::kind::connected:
            if (links_.contains(link_end{to, f.conn})) {
                if (auto early = early_sends_.extract(link_end{to, f.conn})) {
                    for (io::send& s : early.mapped()) {
                        send_stream(to, std::move(s));
                    }
                }
                h.on_connected(now_, f.conn);
            }
            break;
        case flight::kind::refused: {
            auto it = links_.find(link_end{to, f.conn});
            if (it == links_.end() || it->second.conn != 0) {
                return;  // closed by its own side meanwhile, or accepted after all
            }
            links_.erase(it);
            early_sends_.erase(link_end{to, f.conn});
            ++counters_.connects_failed;
            h.on_closed(now_, f.conn, f.reason);
            break;
        }
        case flight::kind::bytes: {
            if (!links_.contains(link_end{to, f.conn})) {
                return;  // this end closed: the bytes are dropped
            }
            dst.traffic.stream_bytes_down += f.size;
            // A close the service asks for meanwhile waits in the host's queue until the pump.
            for (const out_buffer& b : f.data) {
                h.on_stream_buffer(now_, f.conn, b);
            }
            break;
        }
        case flight::kind::close: {
            auto it = links_.find(link_end{to, f.conn});
            if (it == links_.end()) {
                return;
            }
            links_.erase(it);
            h.on_closed(now_, f.conn, f.reason);
            break;
        }
        case flight::kind::send_done:
            if (links_.contains(link_end{to, f.conn})) {
                h.on_send_done(now_, f.conn, f.size);
            }
            break;
        case flight::kind::disk:
            h.on_disk_done(now_, f.service, f.job, *f.result);
            break;
        case flight::kind::uplink:
            uplink_next(to);
            if (f.conn == 0 || !links_.contains(link_end{to, f.conn})) {
                return;
            }
            h.on_send_done(now_, f.conn, f.size);
            break;
    }
    pump(to);
}

}  // namespace hyphae::sim
