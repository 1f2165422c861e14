#pragma once
// The swarm machine for one torrent: peers, piece picking, choking, verification and, for magnet
// links, fetching the info dictionary from peers (BEP 9). Sans-I/O: it never touches a socket,
// a file or a clock.
//
// Inputs (each takes `now`, which never goes backwards):
//   add_peers(), add_incoming()        peers to dial / a connection a peer opened
//   on_connected(), on_stream_bytes(), on_send_done(), on_closed()   per connection
//   on_disk_done()                     a disk job it asked for has finished
//   on_timer()                         next_timer() has come
// Outputs, drained by the driver after every input, in this order until all are empty:
//   poll_transmit()   io::connect, io::send (buffers, in order per connection), io::close
//                     (core/io.hpp), whose conn is the torrent's own connection_id
//   poll_disk_job()   write a block, read a block, hash a piece (storage left 0: the driver's)
//   poll_event()      piece verified, download complete, peer banned, ...
//   next_timer()      when to call on_timer()

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
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
#include "hyphae/proto/bittorrent/choker.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"
#include "hyphae/proto/bittorrent/peer_connection.hpp"
#include "hyphae/proto/bittorrent/piece_picker.hpp"
#include "hyphae/proto/bittorrent/token_bucket.hpp"

namespace hyphae::bittorrent {

enum class peer_source : std::uint8_t { manual, tracker, dht, pex, incoming };

namespace torrent_events {
struct metadata_received {};
struct piece_verified {
    piece_index piece;
};
struct piece_failed {
    piece_index piece;
};
struct checking_done {
    std::size_t pieces_have;
};
struct download_complete {};
struct peer_connected {
    connection_id conn;
    endpoint remote;
};
struct peer_disconnected {
    connection_id conn;
    endpoint remote;
    std::string reason;
};
struct peer_banned {
    endpoint remote;
    std::string reason;
};
struct disk_error {
    std::string what;
};
}  // namespace torrent_events

using torrent_event =
    std::variant<torrent_events::metadata_received, torrent_events::piece_verified,
                 torrent_events::piece_failed, torrent_events::checking_done,
                 torrent_events::download_complete, torrent_events::peer_connected,
                 torrent_events::peer_disconnected, torrent_events::peer_banned, torrent_events::disk_error>;

struct torrent_config {
    std::size_t connections_max = 50;
    std::size_t connecting_max = 8;  // dials in flight
    // With three quarters of connections_max, or as a seed with its upload slots taken, one dial
    // per interval: the last slots are left to
    // peers that dial us (newcomers find room), and a torrent one short of the limit does not dial
    // full peers back to back (at 1,000 simulated leechers, 900 dials each).
    duration well_connected_dial_interval = std::chrono::seconds(5);
    duration dial_pause_after_seed = std::chrono::seconds(1);  // a seed's dial found a seed
    std::size_t candidates_max = 2000;                         // known peers not connected
    std::size_t request_queue_min = 4;  // blocks in flight per peer, before rates are known
    std::size_t request_queue_max = 500;
    double request_queue_seconds = 3.0;  // pipeline depth: this many seconds of the peer's rate
    std::size_t disk_reads_per_peer_max = 16;
    std::size_t send_buffer_max = 4 << 20;    // bytes handed to a socket and not yet written
    std::size_t hash_jobs_max = 8;            // checking: pieces hashed at once
    std::size_t writes_in_flight_max = 4096;  // blocks waiting for the disk before we stop requesting
    // Undrained outputs. The driver drains after every input, so these are safety nets:
    // - transmits: a connection whose bytes do not fit is closed (a hole would corrupt its
    //   stream); dials wait; closes always fit (one per connection).
    std::size_t transmits_queued_max = 8192;
    // - disk jobs: blocks we ask for, reads for peers and checks wait for room; a write (a block
    //   we asked for while there was room, counted against it) is never refused.
    std::size_t disk_jobs_queued_max = 8192;
    // - events: the oldest is dropped and counted (the newest say where the torrent is now).
    std::size_t events_queued_max = 1024;
    int ban_strikes = 2;  // a peer alone in a failed piece gets 2, one of several gets 1
    duration connect_timeout = std::chrono::seconds(10);
    duration request_timeout = std::chrono::seconds(30);
    duration snub_timeout = std::chrono::seconds(60);
    duration retry_after_failure = std::chrono::seconds(5);  // doubled for each failure in a row
    // A peer that took the connection and closed it before the handshake is up and full (or
    // not in this swarm): asking again soon only churns. Doubled likewise: the first retry comes
    // a minute later (libtorrent: 60 s x failures).
    duration retry_after_refusal = std::chrono::seconds(30);
    int connect_failures_max = 6;  // then the address is forgotten
    duration tick_interval = std::chrono::seconds(1);
    std::int64_t download_rate_max = 0;  // bytes/s, 0: unlimited
    std::int64_t upload_rate_max = 0;
    std::uint16_t listen_port = 0;
    std::string client_name = "Hyphae";
    picker_config picker{};
    choker_config choking{};
    peer_connection_config connection{};
};

struct torrent_stats {
    std::int64_t downloaded = 0;  // payload from peers, including discarded blocks
    std::int64_t uploaded = 0;
    std::int64_t verified_bytes = 0;
    std::int64_t wasted = 0;  // failed pieces and duplicates
    double download_rate = 0;
    double upload_rate = 0;
    std::size_t peers = 0;
    std::size_t seeds = 0;
    std::uint64_t events_dropped = 0;                 // over events_queued_max
    std::uint64_t connections_closed_queue_full = 0;  // their bytes were over transmits_queued_max
};

class torrent {
public:
    // A torrent whose metadata we have. `have` (resume data) is trusted; `check` makes it hash
    // every other piece first (seeding, or data on disk that resume data does not vouch for).
    torrent(const metainfo& meta, const id160& peer_id, const torrent_config& config, std::uint64_t seed,
            time_point now, std::optional<bitfield> have, bool check);
    // A magnet link: the info dictionary comes from peers first.
    torrent(const sha1_hash& info_hash, const id160& peer_id, const torrent_config& config,
            std::uint64_t seed, time_point now);

    // Inputs
    void add_peers(time_point now, const std::vector<endpoint>& peers, peer_source source);
    // Empty when the torrent takes no more connections or the address is banned: close it.
    std::optional<connection_id> add_incoming(time_point now, const endpoint& remote);
    void on_connected(time_point now, connection_id conn);
    // `owner`, when given, holds `bytes`: a block that is all of it is written without a copy.
    void on_stream_bytes(time_point now, connection_id conn, byte_view bytes, const shared_bytes& owner = {});
    void on_send_done(time_point now, connection_id conn, std::size_t bytes);
    void on_closed(time_point now, connection_id conn, const std::string& reason);
    void on_disk_done(time_point now, std::uint64_t job, const disk_result& result);
    void on_timer(time_point now);
    // Closes every connection and takes no new ones (the process is stopping).
    void stop(time_point now);
    // The port peers reach us on: told in extension handshakes, never dialled as a peer.
    void set_listen_port(std::uint16_t port) { config_.listen_port = port; }

    // Outputs
    std::optional<transmit> poll_transmit();
    std::optional<disk_job> poll_disk_job();
    std::optional<torrent_event> poll_event();
    std::optional<time_point> next_timer() const;

    // State
    const sha1_hash& info_hash() const { return info_hash_; }
    bool has_metadata() const { return meta_.has_value(); }
    const metainfo& meta() const { return *meta_; }  // has_metadata() only
    bool checking() const { return checking_; }
    bool complete() const { return meta_ && picker_ && picker_->complete(); }
    const bitfield& have() const;
    torrent_stats stats(time_point now) const;
    std::size_t connection_count() const { return peers_.size(); }
    // Undrained outputs (each under its *_queued_max; transmits also hold one close per connection).
    std::size_t transmits_queued() const { return transmits_.size(); }
    std::size_t disk_jobs_queued() const { return disk_jobs_.size(); }
    std::size_t events_queued() const { return events_.size(); }
    std::size_t requests_in_flight() const { return requests_in_flight_; }
    std::size_t dial_queue_entries() const { return dial_queue_.size() + backing_off_.size(); }
    bool knows(const endpoint& remote) const { return candidates_.contains(remote); }

    ~torrent();
    torrent(const torrent&) = delete;
    torrent& operator=(const torrent&) = delete;

private:
    struct peer;
    struct candidate {
        peer_source source = peer_source::manual;
        int failures = 0;
        time_point retry_at{};
        bool connected = false;
        bool seed = false;  // it had every piece when we were last connected, or PEX said so
    };
    struct pending_read {
        connection_id conn;
        block_request block;
    };
    struct pending_write {
        connection_id conn;
        piece_index piece;
    };
    struct pending_hash {
        piece_index piece;
        bool checking;
    };

    // Inputs and outputs (torrent.cpp)
    void init_metadata(time_point now, const metainfo& meta);
    void process_peer(time_point now, peer& p);
    void handle_event(time_point now, peer& p, const peer_event& e);
    void flush(peer& p);
    std::uint64_t new_job(disk_job job);
    // Output bounds (torrent.cpp): bytes for a peer, or else its connection is doomed.
    void push_send(peer& p, io::send s, std::size_t bytes);
    bool can_dial() const { return transmits_.size() < config_.transmits_queued_max; }
    // Room in the disk queue for new work, every block we asked for counted as a write to come.
    std::size_t disk_room_left() const {
        const std::size_t used = disk_jobs_.size() + requests_in_flight_;
        return used < config_.disk_jobs_queued_max ? config_.disk_jobs_queued_max - used : 0;
    }
    bool disk_room() const { return disk_room_left() > 0; }
    void count_requests(peer& p);
    void emit(torrent_event e);
    // Drops the peers whose bytes found the transmit queue full; at the end of every input.
    void reap(time_point now);

    // Peers (torrent_peers.cpp): dialling, incoming connections, greeting, drop and ban, timeouts
    // A peer to dial (it may be one already); false when there is no room for more.
    bool add_candidate(time_point now, const endpoint& ep, peer_source source, bool seed);
    void connect_more(time_point now);
    void queue_dial(const endpoint& ep, time_point at, time_point now);
    void requeue_candidates(time_point now);
    void on_peer_ready(time_point now, peer& p);
    void greet(time_point now, peer& p);
    void drop(time_point now, connection_id conn, const std::string& reason, bool ban);
    void timeouts(time_point now);

    // Downloading (torrent_download.cpp): interest, requests, blocks, writes
    void update_interest(time_point now, peer& p);
    void fill_requests(time_point now, peer& p);
    void on_block(time_point now, peer& p, const block_request& b, byte_view data, const shared_bytes& whole);
    void write_done(time_point now, const pending_write& pending, const disk_result& result);

    // Verification (torrent_verify.cpp): hashing, checking, have broadcast
    void hash_done(time_point now, const pending_hash& pending, const disk_result& result);
    void on_piece_hashed(time_point now, piece_index piece, bool checking, const sha1_hash& hash);
    void start_checking(time_point now);
    void continue_checking(time_point now);
    void issue_checks();
    void finish_checking(time_point now);
    void broadcast_have(time_point now, piece_index piece);

    // Uploading (torrent_upload.cpp): serving requests, reads, choking, the upload limit
    void serve(time_point now, peer& p);
    void read_done(time_point now, const pending_read& pending, const disk_result& result);
    void run_choker(time_point now);

    // Metadata (BEP 9) and peer exchange (BEP 11) (torrent_metadata.cpp)
    void on_extension_handshake(time_point now, peer& p);
    void request_metadata(time_point now, peer& p);
    void handle_metadata_message(time_point now, peer& p, byte_view payload);
    void on_metadata_complete(time_point now);
    void handle_pex_message(time_point now, peer& p, byte_view payload);
    void send_pex(time_point now);

    sha1_hash info_hash_;
    id160 peer_id_;
    torrent_config config_;
    rng rng_;
    std::optional<metainfo> meta_;
    torrent_shape shape_;
    std::optional<piece_picker> picker_;
    choker choker_;
    token_bucket download_limit_;
    token_bucket upload_limit_;
    bool checking_ = false;
    bool completed_reported_ = false;
    bool stopped_ = false;
    piece_index next_check_ = 0;

    ordered_map<connection_id, std::unique_ptr<peer>> peers_;
    // Thousands in a large swarm, looked up by address: a flat table (walks sort what they take).
    flat_map<endpoint, candidate, std::hash<endpoint>> candidates_;
    // Candidates to dial, so that connect_more never walks them all: those due now, in the order
    // they became due, and those backing off, by when. Entries are checked when taken.
    std::deque<endpoint> dial_queue_;
    std::multimap<time_point, endpoint> backing_off_;
    std::map<endpoint, time_point> banned_;
    connection_id next_conn_ = 1;

    std::uint64_t next_job_ = 1;
    std::unordered_map<std::uint64_t, pending_read> reads_;
    std::unordered_map<std::uint64_t, pending_write> writes_;
    std::unordered_map<std::uint64_t, pending_hash> hashes_;
    std::size_t requests_in_flight_ = 0;  // our block requests, across peers (see disk_room())
    bool disk_held_requests_ = false;     // a peer asked for less than it could: the disk was full
    std::vector<connection_id> doomed_;   // to drop at the end of this input (see push_send())
    std::vector<std::uint32_t> piece_writes_pending_;  // per piece: blocks not yet on disk
    std::vector<std::uint8_t> piece_hash_waiting_;     // per piece: all blocks in, hash when written
    std::unordered_map<piece_index, std::map<connection_id, int>> contributors_;  // for bans

    // Metadata exchange (magnet links)
    std::int64_t metadata_size_ = 0;
    std::vector<std::uint8_t> metadata_;
    std::vector<std::uint8_t> metadata_received_;  // per 16 KiB piece: 0 missing, 1 asked, 2 have
    std::vector<connection_id> metadata_requester_;
    std::map<connection_id, int> metadata_contributors_;

    // fifo, not deque: an empty deque allocates, and a daemon holds 10^5 torrents.
    fifo<transmit> transmits_;
    fifo<disk_job> disk_jobs_;
    fifo<torrent_event> events_;
    time_point next_tick_;
    time_point next_choke_;
    time_point next_pex_;
    time_point next_spare_dial_{};  // well connected: the next dial not before
    time_point now_;
    torrent_stats totals_;
    rate_meter download_rate_;
    rate_meter upload_rate_;
};

static_assert(sans_io_core<torrent>);

}  // namespace hyphae::bittorrent
