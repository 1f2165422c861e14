#pragma once
// The announce machine of one torrent: which tracker to ask, when, and what the answers mean
// (BEP 3 and 12 over HTTP, BEP 15 over UDP). Sans-I/O: the runtime resolves names, opens
// connections and sockets, and hands back what comes out of them.
//
// Inputs (every one takes `now`, which never goes backwards):
//   start / completed / stop / set_stats / set_listen_port / scrape    commands from the torrent
//   on_http_response(now, id, status, body)           the HTTP response to request `id`
//   on_udp_datagram(now, id, datagram)                a datagram from request `id`'s tracker
//   on_request_failed(now, id, reason)                DNS failure, connection refused, ...
//   on_timer(now)                                     the time next_timer() asked for has come
// Outputs, drained after every input until empty (the two queues are independent):
//   poll_request()   what to send: an http_get, a udp_datagram, or a release
//   poll_event()     peers_found, announce_succeeded, announce_failed, scrape_result, scrape_failed
//   next_timer()     when to call on_timer next; empty when nothing is scheduled
//
// Request ids: one id names one exchange with one tracker. Over UDP every datagram of an exchange
// (connect, announce or scrape, retransmissions) carries the same id; the runtime sends them from
// one socket and hands back what arrives on it with that id. Every id is ended by exactly one
// `release` output, after which the runtime closes what it holds for the id (the HTTP connection
// of a request that timed out, say) and input for it is ignored.
//
// Behaviour:
// - Tiers (BEP 12): each tier is shuffled once, at construction. An announce tries the trackers
//   of the first tier in order, then those of the next tier when all of a tier have failed; the
//   tracker that answers moves to the front of its tier. Every announce starts from the first tier.
// - Schedule: after a success, the next announce comes after the tracker's interval (config
//   default when it gives none), raised to its 'min interval', clamped to [interval_min,
//   interval_max]. When every tracker failed, the next round comes after retry_delay_min,
//   doubled after each failed round up to retry_delay_max.
// - Events: 'started' to each tracker until it has accepted one; 'completed' once, after
//   completed() (at once, or after the announce in flight); 'stopped' on stop() to every tracker
//   that accepted 'started', one attempt each, after which the client is idle.
// - HTTP requests time out after http_timeout. UDP (BEP 15): a connection id is used for
//   udp_connection_id_lifetime after it arrived, then a new one is asked for; every message has a
//   fresh random transaction id; datagrams with another transaction id, an unexpected action or
//   that do not decode are dropped; an error action fails the exchange with its message; a
//   message is retransmitted after udp_retransmit_base * 2^n, n = 0..udp_retransmits_max, and
//   then the tracker counts as failed.
// - https:// and malformed URLs fail once (announce_failed), then are skipped.
// - Bounds: trackers_max trackers (more are ignored), requests_queued_max undrained requests
//   (more are dropped: the exchange then times out), events_queued_max undrained events (the
//   oldest are dropped).

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/core/time.hpp"
#include "hyphae/proto/tracker/announce.hpp"
#include "hyphae/proto/tracker/scrape.hpp"
#include "hyphae/proto/tracker/tracker_url.hpp"
#include "hyphae/proto/tracker/udp_tracker_codec.hpp"

namespace hyphae::tracker {

struct tracker_stats {
    std::int64_t uploaded = 0;
    std::int64_t downloaded = 0;
    std::int64_t left = 0;
};

struct tracker_client_config {
    std::int32_t numwant = 50;
    duration interval_default = std::chrono::minutes(30);
    duration interval_min = std::chrono::minutes(1);
    duration interval_max = std::chrono::hours(3);
    duration retry_delay_min = std::chrono::minutes(1);
    duration retry_delay_max = std::chrono::hours(1);
    duration http_timeout = std::chrono::seconds(30);
    duration udp_retransmit_base = std::chrono::seconds(15);
    int udp_retransmits_max = 8;
    duration udp_connection_id_lifetime = std::chrono::minutes(1);
    std::size_t trackers_max = 64;
    std::size_t requests_queued_max = 64;
    std::size_t events_queued_max = 256;
    announce_limits announce{};
    scrape_limits scrape{};
    std::size_t udp_peers_max = 2000;
};

// Outputs: what the runtime sends.
struct http_get {
    std::string host;  // DNS name or address literal (IPv6 without brackets)
    std::uint16_t port = 0;
    std::string target;  // "/announce?info_hash=..."
    std::string host_header;
};

struct udp_datagram {
    std::string host;
    std::uint16_t port = 0;
    byte_buffer payload;
};

// The core is done with this request id.
struct request_release {};

struct tracker_request {
    std::uint64_t request_id = 0;
    std::variant<http_get, udp_datagram, request_release> action;
};

// Outputs: what the torrent learns.
struct peers_found {
    std::string url;
    std::vector<endpoint> peers;
};

struct announce_succeeded {
    std::string url;
    announce_event event = announce_event::none;
    duration interval{};  // until the next regular announce
    std::optional<std::int64_t> complete;
    std::optional<std::int64_t> incomplete;
    std::string warning;
};

struct announce_failed {
    std::string url;
    announce_event event = announce_event::none;
    std::string reason;
};

struct scrape_result {
    std::string url;
    std::int64_t complete = 0;
    std::int64_t downloaded = 0;
    std::int64_t incomplete = 0;
};

struct scrape_failed {
    std::string url;
    std::string reason;
};

using tracker_event =
    std::variant<peers_found, announce_succeeded, announce_failed, scrape_result, scrape_failed>;

class tracker_client {
public:
    tracker_client(std::vector<std::vector<std::string>> tiers, sha1_hash info_hash, id160 peer_id,
                   std::uint16_t listen_port, tracker_client_config config, std::uint64_t rng_seed);

    void start(time_point now, tracker_stats stats);
    void completed(time_point now, tracker_stats stats);
    void stop(time_point now, tracker_stats stats);
    void set_stats(tracker_stats stats) { stats_ = stats; }
    // The port announced from now on (the listener moved, say).
    void set_listen_port(std::uint16_t port) { listen_port_ = port; }
    // Asks the tracker that last answered (else the first usable one) about this torrent; ignored
    // while a scrape is under way.
    void scrape(time_point now);

    std::optional<tracker_request> poll_request();
    std::optional<tracker_event> poll_event();
    std::optional<time_point> next_timer() const;

    void on_timer(time_point now);
    void on_http_response(time_point now, std::uint64_t request_id, int status, byte_view body);
    void on_udp_datagram(time_point now, std::uint64_t request_id, byte_view datagram);
    void on_request_failed(time_point now, std::uint64_t request_id, std::string reason);

    // The trackers' URLs per tier, in the order they are tried now.
    std::vector<std::vector<std::string>> tiers() const;
    bool running() const { return running_; }

private:
    struct tracker_entry {
        std::string url;
        std::optional<tracker_url> parsed;
        std::string unusable_reason;  // https or malformed: why it is skipped
        bool unusable_reported = false;
        bool started_sent = false;  // the tracker has accepted 'started' from us
        std::string tracker_id;
        std::optional<std::uint64_t> connection_id;  // UDP
        time_point connection_received{};
    };

    enum class exchange_kind { announce, scrape, stop };
    enum class udp_step { connect, request };

    struct exchange {
        std::uint64_t id = 0;
        std::size_t tracker = 0;
        exchange_kind kind = exchange_kind::announce;
        announce_event event = announce_event::none;
        time_point deadline{};
        udp_step step = udp_step::request;  // UDP only
        std::uint32_t transaction_id = 0;
        int attempt = 0;  // UDP: n in 15 * 2^n
    };

    void begin_round(time_point now);
    void announce_from_cursor(time_point now);
    void open_exchange(time_point now, std::size_t tracker, exchange_kind kind, announce_event event);
    void send(time_point now, exchange& ex);
    void send_udp(time_point now, exchange& ex);
    void retransmit(time_point now, std::uint64_t id);
    void close_exchange(std::uint64_t id);
    exchange* find_exchange(std::uint64_t id);
    bool has_exchange(exchange_kind kind) const;

    void exchange_failed(time_point now, std::uint64_t id, std::string reason);
    void announce_answered(time_point now, std::uint64_t id, const announce_response& response);
    void scrape_answered(std::uint64_t id, const std::vector<scrape_entry>& files);

    announce_event event_for(const tracker_entry& tracker) const;
    announce_request request_for(const tracker_entry& tracker, announce_event event) const;
    duration retry_delay() const;
    void promote(std::size_t tracker);
    std::optional<std::size_t> scrape_target() const;

    void push_request(std::uint64_t id, std::variant<http_get, udp_datagram, request_release> action);
    void push_event(tracker_event event);

    tracker_client_config config_;
    sha1_hash info_hash_;
    id160 peer_id_;
    std::uint16_t listen_port_;
    rng rng_;
    std::uint32_t key_;
    std::vector<tracker_entry> trackers_;
    std::vector<std::vector<std::size_t>> tiers_;  // indices into trackers_, in trying order
    tracker_stats stats_;

    bool running_ = false;
    bool completed_requested_ = false;  // completed() has been called (it is honoured once)
    bool completed_pending_ = false;    // 'completed' not yet accepted by a tracker
    std::size_t cursor_tier_ = 0;       // the round's position in tiers_
    std::size_t cursor_index_ = 0;
    std::uint32_t failed_rounds_ = 0;
    std::optional<time_point> next_announce_;
    std::optional<std::size_t> last_answered_;

    std::uint64_t next_id_ = 1;
    std::vector<exchange> exchanges_;
    std::deque<tracker_request> requests_;
    std::deque<tracker_event> events_;
};

}  // namespace hyphae::tracker
