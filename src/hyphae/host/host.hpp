#pragma once
// The host: one peer's services on one UDP port and one TCP port, sans-I/O. A driver (the
// runtime over real sockets, the simulator over a simulated network) feeds it what arrives and
// carries out what it asks for; the host routes each input to the service it belongs to and
// merges the services' outputs.
//
// Inputs (each takes `now`, which never goes backwards):
//   on_datagram(now, from, bytes)          a UDP datagram on the host's port
//   on_accepted(now, remote) -> conn       a TCP connection someone opened (empty: refuse it)
//   on_connected / on_stream_bytes / on_send_done / on_closed    per connection
//   on_disk_done(now, service, job, result), on_resolved(now, service, query, result)
//   on_timer(now)                          next_timer() has come
//   call(now, service, f)                  a command to a service (f gets the typed service)
// Outputs, drained by the driver after every input, in this order, until all are empty:
//   poll_transmit()    datagrams, connects, bytes to send, closes (core/io.hpp)
//   poll_disk_job()    disk jobs, with the service they come back to
//   poll_resolve()     host names to look up, likewise
//   poll_ready()       services with typed events for their owner to drain
//   next_timer()       when to call on_timer()
//
// Routing: a datagram goes to the first service (in claim order, service.hpp) that claims its
// bytes; an incoming connection waits, its first bytes kept, until a service claims it (then
// that service gets on_accepted and every byte), or every service refuses it, or it has sent
// claim_bytes_max bytes or stayed pending_stream_timeout without being claimed (then it is
// closed). Connections and their inputs then go to the service that claimed or dialled them.
//
// Bounds: pending_streams_max connections waiting to be claimed and connections_max in all
// (more incoming ones are refused, more dials fail at once with on_closed); transmits_queued_max
// and disk_jobs_queued_max undrained outputs (beyond them a datagram is dropped, a connection is
// closed, a disk job fails at once). Each is counted in counters().
//
// Timers: one heap of the services' deadlines (and the host's own, for pending connections), so
// an input costs O(log services), never a walk over all of them.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "hyphae/core/fifo.hpp"
#include "hyphae/core/flat_map.hpp"
#include "hyphae/core/io.hpp"
#include "hyphae/core/service.hpp"
#include "hyphae/core/time.hpp"
#include "hyphae/core/timer_heap.hpp"

namespace hyphae {

struct host_config {
    std::size_t pending_streams_max = 64;
    duration pending_stream_timeout = std::chrono::seconds(10);
    std::size_t claim_bytes_max = 256;  // first bytes kept while no service has decided
    std::size_t connections_max = 1000;
    std::size_t transmits_queued_max = 1 << 16;
    std::size_t disk_jobs_queued_max = 1 << 16;
};

struct host_counters {
    std::uint64_t datagrams_unclaimed = 0;
    std::uint64_t streams_accepted = 0;
    std::uint64_t streams_refused = 0;    // over pending_streams_max or connections_max
    std::uint64_t streams_unclaimed = 0;  // no service spoke their protocol
    std::uint64_t streams_timed_out = 0;  // said nothing a service could claim in time
    std::uint64_t dials_refused = 0;      // over connections_max
    std::uint64_t transmits_dropped = 0;  // over transmits_queued_max
    std::uint64_t disk_jobs_refused = 0;  // over disk_jobs_queued_max
};

struct routed_disk_job {
    service_id service = 0;
    disk_job job;
};

struct routed_resolve {
    service_id service = 0;
    resolve_query query;
};

class host {
public:
    explicit host(host_config config = {});
    ~host();
    host(const host&) = delete;
    host& operator=(const host&) = delete;

    // Services come and go at run time. Ids are never reused.
    service_id add(time_point now, std::unique_ptr<service> s);
    // Closes the service's connections; its outstanding disk jobs and look-ups are forgotten.
    void remove(time_point now, service_id id);
    bool has(service_id id) const { return id < slots_.size() && slots_[id].core != nullptr; }
    service& get(service_id id) { return *slots_.at(id).core; }
    template <class S>
    S& get(service_id id) {
        return static_cast<S&>(get(id));
    }
    // Runs a command on a service, then collects what it made.
    template <class S, class F>
    decltype(auto) call(time_point now, service_id id, F&& command) {
        S& s = get<S>(id);
        if constexpr (std::is_void_v<std::invoke_result_t<F, S&>>) {
            command(s);
            collect(now, id);
        } else {
            decltype(auto) out = command(s);
            collect(now, id);
            return out;
        }
    }

    // Inputs
    void on_datagram(time_point now, const endpoint& from, byte_view bytes);
    std::optional<conn_id> on_accepted(time_point now, const endpoint& remote);
    void on_connected(time_point now, conn_id conn);
    void on_stream_bytes(time_point now, conn_id conn, byte_view bytes);
    void on_stream_buffer(time_point now, conn_id conn, const out_buffer& bytes);
    void on_send_done(time_point now, conn_id conn, std::size_t bytes);
    void on_closed(time_point now, conn_id conn, std::string_view reason);
    void on_disk_done(time_point now, service_id id, std::uint64_t job, const disk_result& result);
    void on_resolved(time_point now, service_id id, std::uint64_t query, const resolve_result& result);
    void on_timer(time_point now);

    // Outputs
    std::optional<transmit> poll_transmit();
    std::optional<routed_disk_job> poll_disk_job() { return extra_ ? extra_->disk_jobs.pop() : std::nullopt; }
    std::optional<routed_resolve> poll_resolve() { return extra_ ? extra_->resolves.pop() : std::nullopt; }
    std::optional<service_id> poll_ready();
    std::optional<time_point> next_timer() const { return timers_.next(); }
    bool idle() const {
        return transmits_.empty() && ready_.empty() &&
               (!extra_ || (extra_->disk_jobs.empty() && extra_->resolves.empty()));
    }

    const host_counters& counters() const;
    std::size_t connection_count() const {
        return extra_ ? extra_->owners.size() + extra_->pending.size() : 0;
    }
    std::size_t pending_streams() const { return extra_ ? extra_->pending.size() : 0; }
    // The service a connection belongs to (none: pending, or unknown).
    std::optional<service_id> owner_of(conn_id conn) const;

private:
    struct slot {
        std::unique_ptr<service> core;
        bool ready = false;
    };
    struct pending_stream {
        endpoint remote;
        time_point since;
        byte_buffer first;
    };
    // What only a host with connections, disk jobs, name look-ups or something to count needs,
    // allocated on first use: a simulator's million hosts that each run one DHT node never pay
    // for it.
    struct extra_state {
        flat_map<conn_id, service_id> owners;
        std::map<conn_id, pending_stream> pending;  // ids grow: the first is the oldest
        conn_id next_incoming = 1;
        fifo<routed_disk_job> disk_jobs;
        fifo<routed_resolve> resolves;
        host_counters counters;
    };
    extra_state& extra();

    // After any input to or command on a service: move its outputs into the merged queues,
    // re-arm its timer, note its events.
    void collect(time_point now, service_id id);
    void route(time_point now, service_id id, transmit t);
    void push_transmit(time_point now, service_id id, transmit t);
    void queue_transmit(transmit t);
    void stream_input(time_point now, conn_id conn, byte_view bytes, const out_buffer* buffer);
    void try_claim(time_point now, conn_id conn);
    void close_pending(conn_id conn, std::string reason);
    void expire_pending(time_point now);
    void arm_pending_timer();

    static constexpr timer_heap::key own_timer = 0;  // service ids start at 1

    // A drained output queue that grew beyond this many transmits gives its storage back. A
    // runtime's batch of replies (64 datagrams a recvmmsg) stays under it: giving back and
    // growing again each batch cost the UDP tracker a fifth of its rate.
    static constexpr std::size_t transmits_kept = 256;

    host_config config_;
    std::vector<slot> slots_;              // by service id; [0] unused
    std::vector<service_id> claim_order_;  // by claim_rank, then id
    timer_heap timers_;
    fifo<transmit> transmits_;
    fifo<service_id> ready_;
    std::unique_ptr<extra_state> extra_;
    bool trim_transmits_ = false;  // transmits_ grew beyond transmits_kept
};

// Connection ids [first_conn_of(s), first_conn_of(s + 1)) are service s's to dial with; the host
// names incoming connections below first_conn_of(1).
constexpr conn_id first_conn_of(service_id id) {
    return (static_cast<conn_id>(id) << 40) + 1;
}

}  // namespace hyphae
