#pragma once
// A Hyphae node, sans-I/O: the torrents it shares and the peer sockets they use. It routes
// inputs to the right core and merges their outputs; the runtime drives one node over real
// sockets, the simulator many over a simulated network.
//
// Sockets: the runtime reports accepted connections (on_incoming) and their bytes; a socket is
// handed to a torrent once the handshake names its info-hash. Outgoing sockets are asked for by
// node_transmit{connect}. Socket ids are the node's; the runtime only echoes them.
//
// Drain order after every input: poll_transmit(), poll_disk_job(), poll_event(), next_timer().

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
#include "hyphae/proto/torrent/magnet.hpp"
#include "hyphae/proto/torrent/metainfo.hpp"
#include "hyphae/proto/torrent/torrent.hpp"

namespace hyphae {

using torrent_handle = std::uint32_t;
using socket_id = std::uint64_t;

struct node_config {
    id160 peer_id;
    std::uint16_t listen_port = 0;
    torrent_config torrent{};
    std::size_t pending_incoming_max = 64;  // accepted sockets whose handshake has not come yet
    duration pending_incoming_timeout = std::chrono::seconds(10);
};

struct add_torrent_params {
    std::optional<metainfo> meta;       // a .torrent, or
    std::optional<magnet_link> magnet;  // a magnet link
    std::optional<bitfield> have;       // trusted pieces from resume data
    bool check = false;                 // hash what is on disk first
    std::vector<endpoint> peers;        // dial these too
};

struct node_transmit {
    socket_id socket = 0;
    transmit::kind what = transmit::kind::send;
    endpoint remote;
    std::vector<out_buffer> data;
    std::string reason;
};

struct node_disk_job {
    torrent_handle torrent = 0;
    disk_job job;
};

struct node_event {
    torrent_handle torrent = 0;
    torrent_event what;
};

// A peer id in Azureus style, "-HY0010-" and 12 random bytes, so other clients can name us.
id160 make_peer_id(rng& random);

class node {
public:
    node(const node_config& config, std::uint64_t seed, time_point now);

    torrent_handle add_torrent(time_point now, add_torrent_params params);
    void add_peers(time_point now, torrent_handle t, const std::vector<endpoint>& peers, peer_source source);
    torrent& get(torrent_handle t) { return *torrents_.at(t).core; }
    const torrent& get(torrent_handle t) const { return *torrents_.at(t).core; }
    void set_listen_port(std::uint16_t port);

    // Sockets
    std::optional<socket_id> on_incoming(time_point now, const endpoint& remote);
    void on_connected(time_point now, socket_id s);
    void on_stream_bytes(time_point now, socket_id s, byte_view bytes);
    void on_send_done(time_point now, socket_id s, std::size_t bytes);
    void on_closed(time_point now, socket_id s, const std::string& reason);
    // Disk and time
    void on_disk_done(time_point now, torrent_handle t, std::uint64_t job, const disk_result& result);
    void on_timer(time_point now);

    std::optional<node_transmit> poll_transmit();
    std::optional<node_disk_job> poll_disk_job();
    std::optional<node_event> poll_event();
    std::optional<time_point> next_timer() const;

private:
    struct torrent_slot {
        std::unique_ptr<torrent> core;
        std::unordered_map<connection_id, socket_id> sockets;
    };
    struct pending_socket {
        endpoint remote;
        time_point since;
        std::string received;
    };
    struct route {
        torrent_handle torrent;
        connection_id conn;
    };

    void drain(time_point now, torrent_handle t);
    void close_socket(socket_id s, std::string reason);

    node_config config_;
    rng rng_;
    std::vector<torrent_slot> torrents_;
    std::map<socket_id, pending_socket> pending_;
    std::unordered_map<socket_id, route> routes_;
    socket_id next_socket_ = 1;
    std::deque<node_transmit> transmits_;
    std::deque<node_disk_job> disk_jobs_;
    std::deque<node_event> events_;
};

}  // namespace hyphae
