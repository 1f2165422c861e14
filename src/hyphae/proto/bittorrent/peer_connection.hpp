#pragma once
// One BitTorrent peer connection, wire level: handshake, message framing and validation, the four
// choke/interest flags, the peer's pieces, the requests in flight both ways, rates and idle
// timers. It decides nothing about the swarm: the torrent machine feeds it bytes, drains the
// events it raises, and gives it commands, whose bytes it queues for sending.
//
// Contract: on_bytes(now, ...) and every command take `now`, which never goes backwards; after
// each input the torrent drains poll_event() until empty, then take_send(). A protocol violation
// raises one `closed` event with the reason; after it the connection accepts nothing more.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "hyphae/core/bitfield.hpp"
#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/fifo.hpp"
#include "hyphae/core/io.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/core/time.hpp"
#include "hyphae/proto/bittorrent/extension_handshake.hpp"
#include "hyphae/proto/bittorrent/file_layout.hpp"
#include "hyphae/proto/bittorrent/handshake.hpp"
#include "hyphae/proto/bittorrent/message.hpp"

namespace hyphae::bittorrent {

using connection_id = std::uint32_t;

// Our local ids for the extensions we speak (the peer tells us its own in its handshake).
inline constexpr std::uint8_t local_ut_pex_id = 1;
inline constexpr std::uint8_t local_ut_metadata_id = 2;

struct block_request {
    piece_index piece;
    std::uint32_t begin;
    std::uint32_t length;
    friend bool operator==(const block_request&, const block_request&) = default;
};

// What the pieces look like; unknown (piece_count 0) for a magnet link until the metadata comes.
struct torrent_shape {
    piece_index piece_count = 0;
    std::int64_t piece_length = 0;
    std::int64_t total_size = 0;
    std::int64_t piece_size(piece_index piece) const;
    bool known() const { return piece_count != 0; }
};

struct peer_connection_config {
    std::size_t incoming_requests_max = 500;  // their requests we queue (advertised as reqq)
    std::size_t outgoing_requests_max = 500;  // ours in flight, whatever their reqq says
    // Blocks we cancelled (or a choke dropped) that may still arrive: a whole pipeline's worth,
    // or endgame cancels would make honest late blocks look unrequested.
    std::size_t cancelled_remembered_max = 2048;
    duration handshake_timeout = std::chrono::seconds(20);
    duration keepalive_interval = std::chrono::seconds(90);
    duration idle_timeout = std::chrono::seconds(180);
};

// Rate of payload bytes over a sliding window of whole seconds.
class rate_meter {
public:
    void add(time_point now, std::int64_t bytes);
    double bytes_per_second(time_point now) const;
    std::int64_t total() const { return total_; }

private:
    static constexpr int window_seconds = 5;
    std::int64_t buckets_[window_seconds] = {};
    std::int64_t bucket_second_ = -1;
    std::int64_t total_ = 0;
    void roll(std::int64_t second);
};

namespace peer_events {
struct handshake_received {
    id160 peer_id;
};
struct extension_handshake_received {};
struct pieces_known {};  // bitfield, have-all or have-none: peer_has() is valid
struct have {
    piece_index piece;
};
struct choked {
    std::vector<block_request> dropped;  // our requests a choke implicitly rejected (no fast extension)
};
struct unchoked {};
struct interest_changed {};
struct request_received {};  // a request was queued: see incoming_requests()
struct block_received {
    block_request block;
    byte_view data;      // views the bytes given to on_bytes(): valid while they are, until the next call
    shared_bytes whole;  // the buffer that is the block and nothing else, when on_bytes was given it
};
struct rejected {
    block_request block;
};
struct allowed_fast {
    piece_index piece;
};
struct suggested {
    piece_index piece;
};
struct dht_port {
    std::uint16_t port;
};
struct extension_message {
    std::uint8_t local_id;  // local_ut_pex_id, local_ut_metadata_id
    byte_view payload;      // as block_received::data
};
struct closed {
    std::string reason;
};
}  // namespace peer_events

using peer_event =
    std::variant<peer_events::handshake_received, peer_events::extension_handshake_received,
                 peer_events::pieces_known, peer_events::have, peer_events::choked, peer_events::unchoked,
                 peer_events::interest_changed, peer_events::request_received, peer_events::block_received,
                 peer_events::rejected, peer_events::allowed_fast, peer_events::suggested,
                 peer_events::dht_port, peer_events::extension_message, peer_events::closed>;

enum class direction { outgoing, incoming };

class peer_connection {
public:
    peer_connection(connection_id id, endpoint remote, direction dir, const wire::handshake& ours,
                    const torrent_shape& shape, const peer_connection_config& config, time_point now);

    // Inputs
    // `owner`, when given, holds `bytes`; a block that is all of it is passed on by reference.
    void on_bytes(time_point now, byte_view bytes, const shared_bytes& owner = {});
    void on_timer(time_point now);
    // The metadata arrived (magnet links): check what the peer sent before it against the shape.
    void set_shape(time_point now, const torrent_shape& shape);

    // Outputs
    std::optional<peer_event> poll_event();
    std::string take_send();  // bytes to send, in order; empty when nothing is queued
    // The same, in a buffer of their own; the connection keeps its storage for the next ones.
    shared_bytes take_send_buffer();
    bool has_send() const { return !send_.empty(); }

    // Commands
    void send_extension_handshake(const wire::extension_handshake& h);
    void send_pieces(time_point now, const bitfield& have);  // bitfield, or have-all/have-none
    void send_have(time_point now, piece_index piece);
    void set_choking(time_point now, bool choke);
    void set_interested(time_point now, bool interested);
    void request(time_point now, const block_request& block);
    void cancel(time_point now, const block_request& block);
    void send_block_header(time_point now, const block_request& block);  // the block's bytes follow
    void reject(time_point now, const block_request& block);
    void send_allowed_fast(time_point now, piece_index piece);
    void send_extension(time_point now, std::string_view name, std::string_view payload);
    void close(std::string reason);
    // Their queued requests, oldest first; the torrent pops what it serves.
    fifo<block_request>& incoming_requests() { return incoming_; }
    void count_upload(time_point now, std::int64_t bytes) { upload_.add(now, bytes); }

    // State
    connection_id id() const { return id_; }
    const endpoint& remote() const { return remote_; }
    direction dir() const { return dir_; }
    bool handshake_done() const { return theirs_.has_value(); }
    const std::optional<wire::handshake>& their_handshake() const { return theirs_; }
    const wire::extension_handshake& their_extensions() const { return their_ext_; }
    bool fast_extension() const;
    bool extension_protocol() const;
    bool is_open() const { return !closed_; }
    bool am_choking() const { return am_choking_; }
    bool am_interested() const { return am_interested_; }
    bool peer_choking() const { return peer_choking_; }
    bool peer_interested() const { return peer_interested_; }
    bool pieces_known() const { return pieces_known_; }
    const bitfield& peer_has() const { return peer_has_; }
    bool is_seed() const { return pieces_known_ && peer_has_.size() > 0 && peer_has_.all(); }
    const std::vector<block_request>& outstanding() const { return outstanding_; }
    const std::vector<piece_index>& allowed_fast_for_us() const { return allowed_fast_in_; }
    double download_rate(time_point now) const { return download_.bytes_per_second(now); }
    double upload_rate(time_point now) const { return upload_.bytes_per_second(now); }
    std::int64_t downloaded() const { return download_.total(); }
    std::int64_t uploaded() const { return upload_.total(); }
    time_point connected_at() const { return connected_at_; }
    time_point last_block_at() const { return last_block_at_; }
    std::optional<time_point> next_timer() const;

private:
    // Parses one frame (the handshake, or a message) from the front; 0 when incomplete or closed.
    std::size_t consume_frame(time_point now, byte_view pending);
    std::size_t message_length_max() const;
    // Dispatches through a table of message kinds, one handler each (peer_connection.cpp).
    void handle(time_point now, const wire::message& msg);
    friend struct message_handlers;
    bool valid_block(const block_request& b) const;
    void fail(std::string reason);
    void queue(const wire::message& msg);

    connection_id id_;
    endpoint remote_;
    direction dir_;
    wire::handshake ours_;
    torrent_shape shape_;
    peer_connection_config config_;

    std::optional<wire::handshake> theirs_;
    wire::extension_handshake their_ext_;
    bool closed_ = false;
    bool any_message_ = false;  // bitfield, have-all, have-none must come first
    bool pieces_known_ = false;
    bitfield peer_has_;
    std::string early_bitfield_;  // a bitfield that came before we knew the shape
    bool am_choking_ = true;
    bool am_interested_ = false;
    bool peer_choking_ = true;
    bool peer_interested_ = false;

    std::vector<block_request> outstanding_;
    fifo<block_request> cancelled_;  // blocks that may still arrive after our cancel
    fifo<block_request> incoming_;
    std::vector<piece_index> allowed_fast_in_;
    std::vector<piece_index> allowed_fast_out_;

    const shared_bytes* input_owner_ = nullptr;  // on_bytes' owner, during the call
    std::vector<std::uint8_t> partial_;          // the start of a frame the next call completes
    std::vector<std::uint8_t> assembled_;        // that frame, completed (views into it live one call)
    std::string send_;
    fifo<peer_event> events_;

    rate_meter download_;
    rate_meter upload_;
    time_point connected_at_;
    time_point last_received_;
    time_point last_sent_;
    time_point last_block_at_;
};

}  // namespace hyphae::bittorrent
