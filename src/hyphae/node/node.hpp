#pragma once
// A Hyphae node, sans-I/O: the torrents it shares and the peer sockets they use. It routes
// inputs to the right core and merges their outputs; the runtime drives one node over real
// sockets, the simulator many over a simulated network.
//
// Sockets: the runtime reports accepted connections (on_incoming) and their bytes; a socket is
// handed to a torrent once the handshake names its info-hash. Outgoing sockets are asked for by
// node_transmit{connect}. Socket ids are the node's; the runtime only echoes them.
//
// Trackers: each torrent with trackers has a tracker_client; its HTTP requests and UDP datagrams
// come out of poll_tracker_request() with node-wide ids, and their answers go back in through
// on_tracker_*(). Announcing starts once a torrent has checked its data.
//
// DHT: with config.dht, the node runs a Mainline DHT node on the UDP port of the same number as
// its TCP port. Its datagrams come in through on_dht_datagram() and go out through
// poll_dht_transmit(). Every torrent not marked private (BEP 27) and added with use_dht announces
// itself there once checked (get_peers, then announce_peer of the TCP port), every
// dht_announce_interval, sooner while it finds nobody; the peers found join the torrent.
//
// Drain order after every input: poll_transmit(), poll_disk_job(), poll_tracker_request(),
// poll_dht_transmit(), poll_event(), next_timer().

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/core/time.hpp"
#include "hyphae/proto/bittorrent/magnet.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"
#include "hyphae/proto/bittorrent/torrent.hpp"
#include "hyphae/proto/dht/dht_node.hpp"
#include "hyphae/proto/tracker/tracker_client.hpp"

namespace hyphae {

using torrent_handle = std::uint32_t;
using socket_id = std::uint64_t;

struct node_config {
    id160 peer_id;
    std::uint16_t listen_port = 0;
    bittorrent::torrent_config torrent{};
    tracker::tracker_client_config tracker{};
    std::size_t pending_incoming_max = 64;  // accepted sockets whose handshake has not come yet
    std::size_t connections_max = 500;      // peer sockets in all, across torrents
    duration pending_incoming_timeout = std::chrono::seconds(10);
    std::optional<dht::dht_config> dht;                         // none: no DHT
    duration dht_announce_interval = std::chrono::minutes(15);  // libtorrent's too
    duration dht_retry_min = std::chrono::seconds(5);           // after a lookup that found nobody
};

struct add_torrent_params {
    std::optional<bittorrent::metainfo> meta;       // a .torrent, or
    std::optional<bittorrent::magnet_link> magnet;  // a magnet link
    std::optional<bitfield> have;                   // trusted pieces from resume data
    bool check = false;                             // hash what is on disk first
    std::vector<endpoint> peers;                    // dial these too
    bool use_trackers = true;
    bool use_dht = true;  // ignored for private torrents and nodes without a DHT
};

// One DHT announce of a torrent has finished.
struct dht_announce_done {
    std::size_t peers = 0;   // found by its get_peers
    std::size_t stored = 0;  // nodes that took the announce
    duration elapsed{};
};

struct node_transmit {
    enum class kind { connect, send, close };
    socket_id socket = 0;
    kind what = kind::send;
    endpoint remote;
    std::vector<out_buffer> data;
    std::string reason;
};

struct node_disk_job {
    torrent_handle torrent = 0;
    disk_job job;
};

struct node_tracker_request {
    std::uint64_t id = 0;  // node-wide
    std::variant<tracker::http_get, tracker::udp_datagram, tracker::request_release> action;
};

struct node_event {
    torrent_handle torrent = 0;
    std::variant<bittorrent::torrent_event, tracker::tracker_event, dht_announce_done> what;
};

// A peer id in Azureus style, "-HY0010-" and 12 random bytes, so other clients can name us.
id160 make_peer_id(rng& random);

class node {
public:
    node(const node_config& config, std::uint64_t seed, time_point now);

    torrent_handle add_torrent(time_point now, add_torrent_params params);
    void add_peers(time_point now, torrent_handle t, const std::vector<endpoint>& peers,
                   bittorrent::peer_source source);
    bittorrent::torrent& get(torrent_handle t) { return *torrents_.at(t).core; }
    const bittorrent::torrent& get(torrent_handle t) const { return *torrents_.at(t).core; }
    void set_listen_port(std::uint16_t port);
    // Closes a torrent's peers and announces 'stopped' to its trackers.
    void stop_torrent(time_point now, torrent_handle t);
    // No tracker exchange is under way (the 'stopped' announces are done): safe to exit.
    bool trackers_idle() const { return tracker_routes_.empty(); }

    // Sockets
    std::optional<socket_id> on_incoming(time_point now, const endpoint& remote);
    void on_connected(time_point now, socket_id s);
    void on_stream_bytes(time_point now, socket_id s, byte_view bytes);
    void on_send_done(time_point now, socket_id s, std::size_t bytes);
    void on_closed(time_point now, socket_id s, const std::string& reason);
    // Disk and time
    void on_disk_done(time_point now, torrent_handle t, std::uint64_t job, const disk_result& result);
    // Trackers
    void on_tracker_http_response(time_point now, std::uint64_t id, int status, byte_view body);
    void on_tracker_datagram(time_point now, std::uint64_t id, byte_view datagram);
    void on_tracker_failed(time_point now, std::uint64_t id, const std::string& reason);
    void on_timer(time_point now);
    // DHT (only with config.dht)
    bool has_dht() const { return dht_ != nullptr; }
    const dht::dht_node* dht() const { return dht_.get(); }
    void on_dht_datagram(time_point now, const endpoint& from, byte_view bytes);
    // A bootstrap node known only later (a name resolved): joins through it now.
    void add_dht_bootstrap(time_point now, const endpoint& ep);

    std::optional<node_transmit> poll_transmit();
    std::optional<dht::dht_transmit> poll_dht_transmit();
    std::optional<node_disk_job> poll_disk_job();
    std::optional<node_tracker_request> poll_tracker_request();
    std::optional<node_event> poll_event();
    std::optional<time_point> next_timer() const;

private:
    struct torrent_slot {
        std::unique_ptr<bittorrent::torrent> core;
        std::unordered_map<bittorrent::connection_id, socket_id> sockets;
        std::unique_ptr<tracker::tracker_client> tracker;
        bool announcing = false;
        bool stopped = false;
        bool use_dht = false;
        dht::lookup_id dht_lookup = 0;
        time_point next_dht{};
        duration dht_retry{};
    };
    struct tracker_route {
        torrent_handle torrent;
        std::uint64_t local_id;
    };
    struct pending_socket {
        endpoint remote;
        time_point since;
        std::string received;
    };
    struct route {
        torrent_handle torrent;
        bittorrent::connection_id conn;
    };

    void drain(time_point now, torrent_handle t);
    void drain_transmit(time_point now, torrent_handle t, transmit tx);
    void drain_tracker(time_point now, torrent_handle t);
    tracker::tracker_stats stats_for(time_point now, const bittorrent::torrent& core) const;
    void close_socket(socket_id s, std::string reason);
    bool dht_due(const torrent_slot& slot) const;
    void announce_to_dht(time_point now, torrent_handle t);
    void drain_dht(time_point now);

    node_config config_;
    rng rng_;
    std::vector<torrent_slot> torrents_;
    std::map<socket_id, pending_socket> pending_;
    std::unordered_map<socket_id, route> routes_;
    socket_id next_socket_ = 1;
    std::deque<node_transmit> transmits_;
    std::deque<node_disk_job> disk_jobs_;
    std::deque<node_tracker_request> tracker_requests_;
    std::unordered_map<std::uint64_t, tracker_route> tracker_routes_;
    std::map<std::pair<torrent_handle, std::uint64_t>, std::uint64_t>
        tracker_ids_;  // (torrent, local) -> node id
    std::uint64_t next_tracker_id_ = 1;
    std::deque<node_event> events_;
    std::unique_ptr<dht::dht_node> dht_;
    std::unordered_map<dht::lookup_id, torrent_handle> dht_lookups_;
};

}  // namespace hyphae
