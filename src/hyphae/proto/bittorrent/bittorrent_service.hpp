#pragma once
// The BitTorrent service: every torrent of a host, on the host's one TCP port. It is a
// hyphae::service (core/service.hpp) the host owns; a daemon gives it 10^5 torrents, so an input
// touches only the torrent it concerns and nothing walks all torrents per input or per
// next_timer().
//
// Inputs (every one takes `now`, which never goes backwards):
//   from the host:  on_accepted, on_stream_bytes, on_connected, on_send_done, on_closed (per
//                   connection), on_disk_done, on_timer
//   commands:       add_torrent, remove_torrent, stop_torrent, add_peers, set_listen_port
// Outputs, drained by the host after every input, in this order, until empty:
//   poll_transmit()   io::connect / io::send / io::close (core/io.hpp) with host connection ids
//   poll_disk_job()   reads, writes and hashes; `storage` is the torrent's handle
//   next_timer()      the earliest of the torrents' deadlines and the handshake deadlines
// and has_events(): poll_event() gives {torrent handle, torrent_event} to whoever owns the service
// (the session), which drains it when the host names the service in poll_ready().
//
// Incoming connections: claims_stream() says need_more for a strict prefix of "\x13BitTorrent
// protocol", yes once those 20 bytes are there, no otherwise. After on_accepted the service keeps
// the first 48 bytes (protocol string, reserved bytes, info-hash) and hands the connection, every
// byte included, to the torrent with that info-hash (torrent::add_incoming). It closes with a
// reason a connection for a torrent it does not have ("handshake for a torrent we do not have
// (<hex>)"), one the torrent refuses (stopped, full, banned address), one that has not named an
// info-hash within handshake_route_timeout, and any beyond pending_handshakes_max waiting at once.
//
// Ids:
// - A torrent_handle is never reused: the torrent's slot in the lower 32 bits, the slot's
//   generation (from 1, bumped when a torrent leaves it) in the upper 32. 0 names no torrent.
// - Host connection ids map both ways to (torrent slot, the torrent's own connection_id). Dials
//   take ids from new_conn_id(). When the host reports a connection closed, the mapping goes
//   first, so the torrent's own close of it goes nowhere.
// - Disk jobs get service-unique ids mapped back to (torrent handle, the torrent's own job id):
//   a slot in a table of jobs in flight and that slot's generation, so a job costs no allocation
//   once the table has grown to the jobs in flight. A result for a removed torrent (its handle no
//   longer live) is dropped and counted; one for no job in flight is ignored.
//
// Bounds: pending_handshakes_max connections awaiting their info-hash, for handshake_route_timeout
// at most; events_queued_max events (then the oldest is dropped and counted: the newest say where
// a torrent is now); each torrent's own output queues (torrent_config's *_queued_max). The
// service's transmit and disk queues hold only what one input made (the host drains them after
// each), so they are bounded by one torrent's bounds plus the closes of one torrent's connections.
//
// Discovery is not here (proto/bittorrent includes no tracker or DHT): the session asks find(),
// get(h)->stats(now), listen_port(), and reads checking_done / download_complete /
// metadata_received events to start and update announces, then hands peers in through add_peers.

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "hyphae/core/bitfield.hpp"
#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/fifo.hpp"
#include "hyphae/core/flat_map.hpp"
#include "hyphae/core/io.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/core/service.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/core/time.hpp"
#include "hyphae/core/timer_heap.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"
#include "hyphae/proto/bittorrent/torrent.hpp"

namespace hyphae::bittorrent {

using torrent_handle = std::uint64_t;

struct add_params {
    std::variant<metainfo, sha1_hash> source;  // a .torrent's metainfo, or a magnet link's info-hash
    std::optional<bitfield> have;              // pieces resume data vouches for (metainfo only)
    bool check = false;                        // hash every other piece on disk first
    std::vector<endpoint> peers;               // dialled as peers the user named
};

struct bittorrent_service_config {
    std::optional<id160> peer_id;  // none: "-HY0010-" and 12 random bytes
    torrent_config torrent{};      // every torrent's; its listen_port follows set_listen_port()
    std::size_t pending_handshakes_max = 64;
    duration handshake_route_timeout = std::chrono::seconds(10);
    std::size_t events_queued_max = 4096;
};

struct bittorrent_service_counters {
    std::uint64_t incoming_routed = 0;
    std::uint64_t incoming_unknown = 0;    // for a torrent we do not have
    std::uint64_t incoming_refused = 0;    // the torrent took no more (stopped, full, banned)
    std::uint64_t incoming_timed_out = 0;  // named no info-hash within handshake_route_timeout
    std::uint64_t incoming_over_max = 0;   // over pending_handshakes_max
    std::uint64_t events_dropped = 0;      // over events_queued_max: drain poll_event()
    std::uint64_t stale_disk_results = 0;  // for torrents removed meanwhile
};

struct bittorrent_event {
    torrent_handle torrent = 0;
    torrent_event what;
};

class bittorrent_service final : public service {
public:
    bittorrent_service(const bittorrent_service_config& config, std::uint64_t seed);
    ~bittorrent_service() override;

    // The host's service contract.
    std::string_view name() const override { return "bittorrent"; }
    claim claims_stream(byte_view first_bytes) const override;
    void on_accepted(time_point now, conn_id conn, const endpoint& remote) override;
    void on_connected(time_point now, conn_id conn) override;
    void on_stream_bytes(time_point now, conn_id conn, byte_view bytes) override;
    void on_stream_buffer(time_point now, conn_id conn, const out_buffer& bytes) override;
    void on_send_done(time_point now, conn_id conn, std::size_t bytes) override;
    void on_closed(time_point now, conn_id conn, std::string_view reason) override;
    void on_disk_done(time_point now, std::uint64_t job, const disk_result& result) override;
    void on_timer(time_point now) override;
    std::optional<transmit> poll_transmit() override { return transmits_.pop(); }
    std::optional<disk_job> poll_disk_job() override { return disk_jobs_.pop(); }
    std::optional<time_point> next_timer() const override;
    bool has_events() const override { return !events_.empty(); }
    std::optional<bittorrent_event> poll_event() { return events_.pop(); }

    // Commands. An info-hash already added gives the handle it has (the params are ignored).
    torrent_handle add_torrent(time_point now, add_params params);
    // Closes its connections and forgets it: later inputs and disk results for it are dropped.
    void remove_torrent(time_point now, torrent_handle h);
    // Closes its connections; it takes no new ones and dials nobody.
    void stop_torrent(time_point now, torrent_handle h);
    void add_peers(time_point now, torrent_handle h, const std::vector<endpoint>& peers, peer_source source);
    // The port peers can reach us on: told in extension handshakes, and never dialled as a peer.
    void set_listen_port(std::uint16_t port);

    // Queries
    std::optional<torrent_handle> find(const sha1_hash& info_hash) const;
    const torrent* get(torrent_handle h) const;  // null: no such torrent (or removed)
    std::size_t torrent_count() const { return by_hash_.size(); }
    std::uint16_t listen_port() const { return config_.torrent.listen_port; }
    const id160& peer_id() const { return peer_id_; }
    const bittorrent_service_counters& counters() const { return counters_; }
    std::size_t connection_count() const { return routes_.size(); }  // routed to a torrent
    std::size_t pending_handshakes() const { return pending_.size(); }
    std::size_t disk_jobs_in_flight() const { return jobs_.size() - free_jobs_.size(); }

private:
    using slot_index = std::uint32_t;
    struct slot {
        std::unique_ptr<torrent> core;  // null: free
        std::uint32_t generation = 1;
        flat_map<connection_id, conn_id> conns;  // the torrent's connections, by its own id
    };
    struct route {
        slot_index slot;
        connection_id local;
    };
    struct job_slot {
        torrent_handle torrent = 0;  // 0: free
        std::uint64_t local = 0;
        std::uint32_t generation = 1;
    };
    struct pending_stream {
        endpoint remote;
        time_point deadline;
        byte_buffer first;  // what came before the info-hash did
    };

    torrent_handle handle_of(slot_index index) const;
    std::optional<slot_index> live(torrent_handle h) const;
    // After any input to a torrent: its outputs into the service's, its deadline into the heap.
    void collect(slot_index index);
    void translate(slot_index index, transmit out);
    void push_event(bittorrent_event e);
    std::uint64_t new_job_id(torrent_handle torrent, std::uint64_t local);
    void route_incoming(time_point now, conn_id conn, const endpoint& remote, byte_view first);
    void close_pending(conn_id conn, std::string reason);
    void expire_pending(time_point now);

    bittorrent_service_config config_;
    rng rng_;
    id160 peer_id_;
    std::vector<slot> slots_;
    std::vector<slot_index> free_;
    std::unordered_map<sha1_hash, torrent_handle> by_hash_;
    timer_heap timers_;                 // keyed by slot
    std::vector<timer_heap::key> due_;  // on_timer's scratch
    flat_map<conn_id, route> routes_;
    std::vector<job_slot> jobs_;  // disk jobs in flight; a job's id is generation << 32 | slot
    std::vector<std::uint32_t> free_jobs_;
    std::unordered_map<conn_id, pending_stream> pending_;
    std::set<std::pair<time_point, conn_id>> pending_deadlines_;  // earliest first
    fifo<transmit> transmits_;
    fifo<disk_job> disk_jobs_;
    fifo<bittorrent_event> events_;
    bittorrent_service_counters counters_;
};

}  // namespace hyphae::bittorrent
