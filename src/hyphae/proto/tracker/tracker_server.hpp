#pragma once
// The tracker: HTTP announce and scrape (BEP 3, 7, 23, 48) and UDP announce and scrape (BEP 15)
// over one swarm_table, with /stats (JSON) and /metrics (Prometheus) on the HTTP side. Sans-I/O,
// and a service of the host (core/service.hpp): it shares the host's UDP and TCP ports with the
// DHT and BitTorrent, and speaks the I/O vocabulary of core/io.hpp.
//
// Claims (what the host hands it):
//   claims_datagram   a BEP 15 connect (protocol id 0x41727101980, then action 0), or a request
//                     of at least 16 bytes whose connection id has our mark, the top bit
//                     (connection_ids.hpp); whether the id is valid is for on_datagram, which
//                     answers a bad one with an error as BEP 15 trackers do
//   claims_stream     an HTTP request line "GET /announce", "GET /scrape", "GET /stats" or
//                     "GET /metrics" (need_more while the bytes are a prefix of one of them)
//
// Inputs (every one takes `now`, which never goes backwards):
//   on_datagram(now, from, bytes)              a UDP datagram
//   on_accepted(now, conn, from)               an incoming HTTP connection, named by the host
//   on_stream_bytes(now, conn, bytes)          bytes read from it
//   on_closed(now, conn, reason)               the peer closed it or it failed
//   on_timer(now)                              the time next_timer() asked for has come
//   set_allow_list(now, list)                  a new allow-list (or none: track everything)
//   set_resident_bytes(bytes)                  the process's memory, for /stats
//   export_state / import_state                the state file's bytes (tracker_state.hpp)
// Outputs, drained after every input:
//   poll_transmit()   io::datagram replies, io::send answers, io::close (flush: once the answer
//                     before it is written; else at once), in the order they were made
//   poll_event()      notices for the log: requests refused, with their reason (when
//                     config.report_refusals), and connections closed by the tracker
//   next_timer()      the next one-second tick (expiry sweeps, idle connections, rate limits)
// A connection the tracker closes is not reported back to it (on_closed is for the peer's close).
//
// Behaviour:
// - A peer's address is the datagram's or the connection's source, never the query's, unless
//   trust_ip_param (then 'ip' in the query, the UDP 'ip' field) or ip_header (the last address of
//   that header, for a tracker behind a reverse proxy) say otherwise. IPv4-mapped IPv6 sources
//   count as IPv4.
// - Peers expire expire_intervals * interval after their last announce. numwant defaults to
//   numwant_default and is capped at numwant_max.
// - With an allow-list, other info-hashes get the failure reason "unregistered torrent" (HTTP)
//   or an error response (UDP), and their swarms are dropped when the list changes.
// - UDP: a connect needs BEP 15's protocol id; other actions need a connection id from
//   connection_ids. A datagram too short to carry a transaction id is dropped; other bad
//   datagrams get an error response, but only when it is no larger than the datagram, so that a
//   forged source address cannot turn the tracker into an amplifier.
// - Rate limits: requests from one address beyond the configured rate are dropped (UDP) or
//   answered 429 and closed (HTTP). UDP connects count too.
// - HTTP: keep-alive, pipelining (answers in order), at most http_connections_max connections (more
//   are closed at once), idle ones closed after http_idle_timeout; a request that does not parse
//   is answered 400 and its connection closed. Only GET; paths /announce, /scrape, /stats,
//   /metrics. A scrape without info_hash (a full scrape) is refused.
// - Bounds: transmits_queued_max undrained outputs (more: UDP replies dropped, HTTP connections
//   closed), events_queued_max undrained events (the oldest dropped), and swarm_table's bounds.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "hyphae/core/address_rate_limiter.hpp"
#include "hyphae/core/bytes.hpp"
#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/error.hpp"
#include "hyphae/core/fifo.hpp"
#include "hyphae/core/http/http_message.hpp"
#include "hyphae/core/http/http_request_parser.hpp"
#include "hyphae/core/io.hpp"
#include "hyphae/core/keyed_hash.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/core/service.hpp"
#include "hyphae/core/time.hpp"
#include "hyphae/proto/tracker/announce_query.hpp"
#include "hyphae/proto/tracker/connection_ids.hpp"
#include "hyphae/proto/tracker/swarm_table.hpp"
#include "hyphae/proto/tracker/tracker_metrics.hpp"
#include "hyphae/proto/tracker/tracker_state.hpp"
#include "hyphae/proto/tracker/udp_tracker_codec.hpp"

namespace hyphae::tracker {

struct tracker_config {
    duration interval = std::chrono::minutes(30);
    duration min_interval = std::chrono::minutes(15);
    unsigned expire_intervals = 2;
    duration swarm_idle_max = std::chrono::hours(24);  // an empty swarm keeps its counts this long
    swarm_limits limits{};
    std::size_t numwant_default = 50;
    std::size_t numwant_max = 200;
    bool trust_ip_param = false;
    std::string ip_header;         // e.g. "X-Forwarded-For"; empty: off
    double rate_per_address = 50;  // requests a second; 0: no limit
    double burst_per_address = 200;
    std::size_t rate_limited_addresses_max = 65536;
    duration connection_id_lifetime = std::chrono::minutes(2);
    std::size_t http_connections_max = 4096;
    duration http_idle_timeout = std::chrono::seconds(30);
    http::http_limits http{.line_length_max = 8192,
                           .header_count_max = 64,
                           .header_bytes_max = 16 * 1024,
                           .body_size_max = 1024,
                           .messages_queued_max = 8};
    query_limits query{};
    duration sweep_period = std::chrono::minutes(1);  // every swarm is swept once in this time
    std::size_t transmits_queued_max = 65536;
    std::size_t events_queued_max = 1024;
    bool report_refusals = false;
    // Alone on its TCP port (`hyphae tracker`), it claims every connection, so that any other
    // request gets its 400/404/405; beside other services it claims only its own paths.
    bool claims_every_connection = false;
};

struct tracker_notice {
    endpoint from;
    bool udp = false;
    std::string text;  // "announce: missing peer_id", "connection closed: idle"
};

class tracker_server final : public service {
public:
    // Not copyable (a service): its table's filter refers to it.
    tracker_server(const tracker_config& config, std::uint64_t seed, time_point now);

    std::string_view name() const override { return "tracker"; }
    bool claims_datagram(byte_view bytes) const override;
    claim claims_stream(byte_view first_bytes) const override;

    void on_datagram(time_point now, const endpoint& from, byte_view bytes) override;
    void on_accepted(time_point now, conn_id conn, const endpoint& from) override;
    void on_stream_bytes(time_point now, conn_id conn, byte_view bytes) override;
    void on_closed(time_point now, conn_id conn, std::string_view reason) override;
    void on_timer(time_point now) override;

    // Sorted or not, repeats or not; empty optional: no allow-list. Returns the swarms dropped.
    std::size_t set_allow_list(time_point now, std::optional<std::vector<sha1_hash>> allowed);
    void set_resident_bytes(std::uint64_t bytes) { resident_bytes_ = bytes; }

    byte_buffer export_state(time_point now, std::int64_t wall_seconds) const;
    result<tracker_state_summary> import_state(time_point now, std::int64_t wall_seconds, byte_view file);

    std::optional<transmit> poll_transmit() override { return transmits_.pop(); }
    std::optional<tracker_notice> poll_event() { return events_.pop(); }
    std::optional<time_point> next_timer() const override { return next_tick_; }
    bool has_events() const override { return !events_.empty(); }

    tracker_figures figures(time_point now) const;
    const swarm_table& swarms() const { return table_; }
    const tracker_config& config() const { return config_; }

private:
    struct http_session {
        endpoint from;
        http::http_request_parser parser;
        time_point last_active;
    };

    // What an announce or scrape resolves to, whichever transport it came by.
    struct announce_answer {
        std::optional<std::string> failure;
        announce_outcome outcome;
    };

    std::uint32_t clock(time_point now) const;
    std::uint32_t peer_ttl() const;
    bool allowed(const sha1_hash& info_hash) const;
    announce_answer announce(time_point now, const peer_announce& a);
    std::size_t numwant(std::optional<std::int64_t> asked) const;

    void on_udp_request(time_point now, const endpoint& source, const endpoint& from, byte_view bytes,
                        const udp_request_header& header);
    void reply_udp_error(const endpoint& to, std::uint32_t transaction_id, std::string_view message,
                         std::size_t request_size);

    // False when the connection is closing (the caller drops its session).
    bool on_http_request(time_point now, conn_id conn, http_session& session, http::http_request& request);
    std::string http_announce(time_point now, const endpoint& from, std::string_view query);
    std::string http_scrape(const endpoint& from, std::string_view query);
    // False when the answer could not be queued and the connection is closed instead.
    bool write(conn_id conn, int status, std::string_view reason, std::string_view content_type,
               std::string_view body, bool close_after);

    void push_datagram(const endpoint& to, byte_buffer bytes);
    void close(conn_id conn, std::string reason);
    void notice(const endpoint& from, bool udp, std::string text);

    tracker_config config_;
    time_point started_;
    rng random_;
    keyed_hash hash_;
    swarm_table table_;
    connection_ids connection_ids_;
    address_rate_limiter rate_limiter_;
    std::optional<std::vector<sha1_hash>> allow_list_;  // sorted
    std::unordered_map<conn_id, http_session> sessions_;
    tracker_counters counters_;
    std::uint64_t resident_bytes_ = 0;
    std::optional<time_point> next_tick_;
    std::uint64_t ticks_ = 0;
    fifo<transmit> transmits_;
    fifo<tracker_notice> events_;
};

}  // namespace hyphae::tracker
