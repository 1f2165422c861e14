#pragma once
// The simulated network: drives hosts (host/host.hpp) in virtual time, as the runtime drives one
// over real sockets. It is the simulator's one network model and the unit tests' one harness.
//
// Each host has one IPv4 address and port (its UDP and TCP port alike), a place for the latency
// model (or the fixed latency of network_params), an access link with upload and download caps,
// and optionally a NAT. After every input the network pumps the host: the owner (host_owner, or
// the network-wide ready handler) drains the services with events, then transmits, disk jobs and
// name look-ups are carried out, until the host is idle; then its timer is re-armed.
//
// - Datagrams leave through the uplink (queued behind what it is sending), cross the network
//   (one-way delay, jitter, loss), and reach the host at the address; to an unknown address they
//   are kept as strays (take_strays), for tests that play a remote peer.
// - Streams: a connect reaches the other host after one one-way delay (on_accepted), and the
//   dialler hears on_connected one delay later; a refused dial closes one delay later, an
//   unreachable one (no host there, or a NAT) after connect_timeout. Bytes are shared, never
//   copied. A capped uplink serves its connections in turn, a quantum (four block messages) at a
//   time, as TCP flows share a link; sends to one connection coalesce up to a quantum; the sender
//   hears on_send_done when a send has left, or at once for a send under 2 ms of the link on a
//   connection with nothing in line (it goes ahead); the receiver's downlink takes arrivals in
//   order and hands them over with their buffers (on_stream_buffer). A close reaches the other
//   end after what was sent before (a close with flush waits for the connection's queued bytes,
//   those on the wire included; one without drops them).
//   Datagrams queue on the uplink on their own (a DHT node's), not behind streams.
// - Disk jobs run through the disk runner (none: they fail) and answer after disk_latency (0: at
//   once, in the same pump).
// - Names resolve through `names`, at once (none there: a failure).
// - take_down() is a crash: the host is gone, its peers see their connections close; bring_up()
//   gives the address a fresh host.
//
// Deterministic: one event queue (time, then order of scheduling), one seeded generator.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hyphae/core/flat_map.hpp"
#include "hyphae/core/io.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/host/host.hpp"
#include "hyphae/host/host_owner.hpp"
#include "hyphae/sim/event_queue.hpp"
#include "hyphae/sim/latency_model.hpp"

namespace hyphae::sim {

using host_index = std::uint32_t;

struct access_link {
    float up_bytes_per_second = 0;  // 0: unlimited
    float down_bytes_per_second = 0;
};

struct network_params {
    std::uint64_t seed = 1;
    // One-way delay between hosts without places (add_host with no latency model).
    duration latency = std::chrono::milliseconds(5);
    duration jitter{};  // of datagrams between hosts without places: up to this much more
    double loss = 0;    // of datagrams, independently
    duration nat_timeout = std::chrono::seconds(60);
    duration connect_timeout = std::chrono::seconds(10);  // a dial a NAT swallows fails after this
    duration disk_latency = std::chrono::microseconds(100);
    std::uint32_t datagram_overhead = 28;  // IP and UDP headers, on the uplink
    time_point start = time_point(std::chrono::seconds(1000));
};

struct host_options {
    host_config config{};
    node_place place{};
    access_link link{};
    bool nat = false;  // unsolicited datagrams and incoming connections are dropped
};

struct network_counters {
    std::uint64_t events = 0;
    std::uint64_t datagrams = 0;
    std::uint64_t delivered = 0;
    std::uint64_t lost = 0;          // the loss model
    std::uint64_t to_down_host = 0;  // its host was down
    std::uint64_t nat_dropped = 0;
    std::uint64_t unknown_address = 0;  // strays
    std::uint64_t connects = 0;
    std::uint64_t connects_failed = 0;
    std::uint64_t stream_bytes = 0;
    std::uint64_t disk_jobs = 0;
};

// What one host sent and received, over all its lives.
struct host_traffic {
    std::uint64_t datagram_bytes_up = 0;
    std::uint64_t stream_bytes_up = 0;
    std::uint64_t stream_bytes_down = 0;
};

class network {
public:
    // Runs a disk job of host `at`'s service; its result is delivered after disk_latency.
    using disk_runner = std::function<disk_result(host_index at, const routed_disk_job& job)>;
    // Services of a host that has no owner have events: drain them.
    using ready_handler = std::function<void(host_index at, time_point now, service_id id)>;
    // An event the caller scheduled (schedule()) has come.
    using user_handler = std::function<void(const event& e)>;

    // With a latency model, hosts' places give the delays; without one, config.latency does.
    explicit network(network_params config, const latency_model* model = nullptr);
    ~network();
    network(const network&) = delete;
    network& operator=(const network&) = delete;

    // A host at `address` (IPv4), up. Indexes are dense and never reused.
    host_index add_host(const endpoint& address, host_options options = {});
    // An address for a host without one: 10.<i>.<i>.<i>:6881 style, distinct per call.
    endpoint next_address();

    host& at(host_index i);
    bool up(host_index i) const;
    std::size_t size() const { return hosts_.size(); }
    const endpoint& address_of(host_index i) const { return hosts_[i].address; }
    std::optional<host_index> host_at(const endpoint& address) const;
    void set_owner(host_index i, host_owner* owner);
    void set_link(host_index i, access_link link) { hosts_[i].link = link; }
    const host_traffic& traffic(host_index i) const { return hosts_[i].traffic; }

    // A crash: the host and its state are gone; its peers see its connections close.
    void take_down(host_index i);
    // A fresh host at the same address (add its services again).
    host& bring_up(host_index i, host_config config = {});

    void set_disk(disk_runner runner) { disk_ = std::move(runner); }
    void set_ready_handler(ready_handler handler) { ready_ = std::move(handler); }
    void set_user_handler(user_handler handler) { user_ = std::move(handler); }
    std::map<std::string, std::vector<endpoint>> names;

    // Runs a command on a service of host i, then carries out what it made.
    template <class S, class F>
    decltype(auto) call(host_index i, service_id id, F&& command) {
        struct pump_after {
            network& net;
            host_index i;
            ~pump_after() { net.pump(i); }
        } after{*this, i};
        return at(i).call<S>(now_, id, std::forward<F>(command));
    }
    // Carries out what host i has to do (after a command given to it directly).
    void pump(host_index i);

    // A datagram to host `to` as if from `from` (a remote peer a test plays), after one delay.
    void inject_datagram(host_index to, const endpoint& from, byte_buffer bytes);
    // Datagrams sent to addresses no host has.
    struct stray {
        host_index from = 0;
        io::datagram what;
    };
    std::vector<stray> take_strays() { return std::exchange(strays_, {}); }

    // The caller's own events (churn, workload): user_handler gets them in time order.
    void schedule(time_point at, std::uint8_t tag, std::uint32_t node, std::uint32_t payload = 0);

    // Driving.
    time_point now() const { return now_; }
    bool step();  // runs the next event; false when there is none
    // Runs events until done() holds (true) or the next event is past `deadline` (false; the
    // clock then stands at the deadline).
    bool run_until(const std::function<bool()>& done, time_point deadline);
    bool run_for(const std::function<bool()>& done, duration limit) { return run_until(done, now_ + limit); }
    void run_for(duration span);
    std::optional<time_point> next_event() const { return queue_.next_time(); }

    const network_counters& counters() const { return counters_; }
    const network_params& config() const { return config_; }
    // The network's generator (loss, jitter), which a scenario may share for its own draws.
    rng& random() { return rng_; }
    std::size_t links() const { return links_.size() / 2; }

private:
    struct link_end {
        host_index host = 0;
        conn_id conn = 0;
        bool operator==(const link_end&) const = default;
    };
    struct link_hash {
        std::size_t operator()(const link_end& e) const {
            std::uint64_t z = e.conn * 0x9e3779b97f4a7c15ULL + e.host * 0xc2b2ae3d27d4eb4fULL;
            z ^= z >> 29;
            return static_cast<std::size_t>(z * 0xbf58476d1ce4e5b9ULL ^ (z >> 32));
        }
    };
    // A capped uplink's streams, served in turn a quantum at a time, as TCP flows share a link.
    struct stream_uplink;
    struct sim_host {
        std::unique_ptr<host> h;
        host_owner* owner = nullptr;
        std::vector<std::pair<host_index, std::uint32_t>> pinholes;  // NAT: (peer, expiry in ms)
        std::unique_ptr<stream_uplink> streams;                      // once it sends on a capped link
        endpoint address;
        node_place place;
        access_link link;
        host_traffic traffic;
        time_point timer_at = time_point::max();
        time_point uplink_free{};
        time_point downlink_free{};
        std::uint32_t incarnation = 0;
        bool nat = false;
    };
    // What travels: a datagram, a connect, bytes, a close, a send done, a disk result.
    struct flight;

    static std::uint64_t key_of(const endpoint& address);
    duration one_way(host_index from, host_index to, bool jitter);
    time_point depart(sim_host& src, std::uint64_t bytes);
    time_point arrive(host_index to, time_point at, std::uint64_t bytes);
    std::uint32_t store(flight f);
    void carry(host_index i, transmit t);
    void send_datagram(host_index i, io::datagram d);
    void dial(host_index i, const io::connect& c);
    void send_stream(host_index i, io::send s);
    void dispatch_send(host_index i, conn_id conn, std::vector<out_buffer> data, std::uint64_t size,
                       time_point leaves, bool tell_sender);
    void dispatch_close(host_index i, conn_id conn, time_point leaves);
    void uplink_next(host_index i);
    void close_stream(host_index i, const io::close& c);
    void fire(const event& e);
    void deliver(const event& e, flight f);
    void fire_timer(const event& e);
    void reschedule(host_index i);
    bool pinhole_open(const sim_host& h, host_index from, time_point at) const;
    void open_pinhole(sim_host& h, host_index to);

    network_params config_;
    const latency_model* model_;
    rng rng_;
    time_point now_;
    event_queue queue_;
    std::vector<sim_host> hosts_;
    flat_map<std::uint64_t, host_index> by_address_;
    flat_map<link_end, link_end, link_hash> links_;  // one end -> the other (conn 0: not yet accepted)
    flat_map<link_end, std::vector<io::send>, link_hash> early_sends_;  // before the accept
    std::vector<flight> flights_;
    std::vector<std::uint32_t> free_flights_;
    std::vector<stray> strays_;
    // Sparse sends the pump reports done once the host's transmits are drained.
    struct sparse_done {
        host_index host = 0;
        conn_id conn = 0;
        std::uint64_t size = 0;
    };
    std::vector<sparse_done> done_now_;
    disk_runner disk_;
    ready_handler ready_;
    user_handler user_;
    network_counters counters_;
    std::uint32_t next_address_ = 0;
    std::uint16_t next_port_ = 40000;
};

}  // namespace hyphae::sim
