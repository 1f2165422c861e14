#pragma once
// The announcing side of a peer as one service of the host (core/service.hpp): a tracker_client
// per torrent, keyed by a 64-bit key its owner chooses (the session uses the torrent handle),
// whose requests it carries out in the I/O vocabulary of core/io.hpp, on the host's one UDP port
// and through connections the host dials. Sans-I/O.
//
// Inputs (every one takes `now`, which never goes backwards):
//   add(now, key, tiers, info_hash, peer_id, listen_port) / remove(now, key)
//   start / completed / stop(now, key, stats), set_stats(key, stats), scrape(now, key),
//   set_listen_port(port)                          commands; an unknown key is ignored
//   on_datagram(now, from, bytes)                  a BEP 15 answer it claimed
//   on_connected / on_stream_bytes / on_closed     its HTTP connections
//   on_resolved(now, query, result)                a tracker's host name looked up
//   on_timer(now)                                  next_timer() has come
// Outputs, drained by the host after every input and command, in this order, until empty:
//   poll_transmit()   io::datagram (UDP requests), io::connect and io::send (HTTP requests),
//                     io::close (a response read, an exchange released or abandoned)
//   poll_resolve()    tracker host names to look up
//   next_timer()      the earliest deadline of any torrent's client (one timer_heap: O(log n)),
//                     or of the oldest look-up
// and its events, for its owner: poll_event() -> {key, tracker_event} (has_events()).
//
// Claims: a datagram of at least 8 bytes whose first 4 bytes are a BEP 15 action (0..3) and
// whose transaction id (bytes 4..8) is one an exchange of ours waits for (bytes 12..16 of every
// request it sends); nothing else, so the DHT and the tracker server get theirs. No incoming
// connections.
//
// Behaviour:
// - Exchanges: each request id of a torrent's client is one exchange (an HTTP request; a BEP 15
//   connect and announce or scrape with their retransmissions), ended by the client's release or
//   by the answer or failure this service hands it. Ending one closes its connection and forgets
//   its transaction id and look-up.
// - HTTP: the host name is looked up (IP literals need none), then io::connect to each address
//   in turn until one accepts, the request sent (User-Agent, Host, Connection: close), the
//   response read with http_response_parser and handed to the client. Failures reach the client
//   as on_request_failed: "cannot resolve HOST: ...", "cannot connect: ...", "connection closed
//   before a response", "bad HTTP response: ...".
// - UDP (BEP 15): datagrams go to the name's first IPv4 address (else its first), from the
//   host's port; an answer is taken only from that address (its port included).
// - Names: answers are cached for dns_ttl, failures for dns_failure_ttl; while a name is being
//   looked up, other exchanges for it wait for that one look-up. A look-up not answered within
//   lookup_timeout fails its exchanges ("cannot resolve HOST: no answer within N s"), and a late
//   answer is ignored.
// - idle(): no exchange under way, so the 'stopped' announces stop() started are done (answered,
//   failed or timed out) and a process may exit.
// - Bounds: torrents_max torrents (add refuses more); exchanges_max exchanges under way (more wait
//   their turn, up to exchanges_waiting_max, then fail at once); lookups_max look-ups under way
//   (more fail at once); dns_cache_max names (the one expiring first goes); addresses_per_name_max
//   addresses a name; transmits_queued_max undrained transmits (more datagrams are dropped, as UDP
//   may, and more connects fail their exchange); events_queued_max undrained events (the oldest
//   are dropped). Each is counted in counters(). The clients' requests_queued_max is raised to
//   hold whatever one input makes, so that no release is lost.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/fifo.hpp"
#include "hyphae/core/http/http_message.hpp"
#include "hyphae/core/http/http_response_parser.hpp"
#include "hyphae/core/io.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/core/service.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/core/time.hpp"
#include "hyphae/core/timer_heap.hpp"
#include "hyphae/proto/tracker/tracker_client.hpp"

namespace hyphae::tracker {

struct tracker_client_service_config {
    tracker_client_config client{};
    std::string user_agent = "Hyphae";
    http::http_limits http{};  // of the responses read
    std::size_t torrents_max = 100'000;
    std::size_t exchanges_max = 512;
    std::size_t exchanges_waiting_max = 16'384;
    std::size_t lookups_max = 64;
    std::size_t dns_cache_max = 1024;
    duration dns_ttl = std::chrono::minutes(5);
    duration dns_failure_ttl = std::chrono::seconds(30);
    duration lookup_timeout = std::chrono::seconds(30);  // a look-up the host never answers
    std::size_t addresses_per_name_max = 8;
    std::size_t transmits_queued_max = 4096;
    std::size_t events_queued_max = 4096;
};

struct tracker_client_event {
    std::uint64_t key = 0;  // the torrent's, as given to add()
    tracker_event event;
};

struct tracker_client_service_counters {
    std::uint64_t exchanges = 0;          // begun
    std::uint64_t exchanges_waited = 0;   // began later, over exchanges_max
    std::uint64_t exchanges_refused = 0;  // failed at once, over exchanges_waiting_max
    std::uint64_t lookups = 0;            // names asked of the host
    std::uint64_t lookups_failed = 0;
    std::uint64_t lookups_refused = 0;  // over lookups_max
    std::uint64_t names_cached = 0;     // exchanges that found their name in the cache
    std::uint64_t connects = 0;
    std::uint64_t connects_failed = 0;
    std::uint64_t http_responses = 0;
    std::uint64_t datagrams_sent = 0;
    std::uint64_t datagrams_received = 0;
    std::uint64_t datagrams_unexpected = 0;  // a transaction id of ours from another address
    std::uint64_t transmits_dropped = 0;     // over transmits_queued_max
    std::uint64_t events_dropped = 0;        // over events_queued_max: drain poll_event()
};

class tracker_client_service final : public service {
public:
    tracker_client_service(const tracker_client_service_config& config, std::uint64_t seed);

    std::string_view name() const override { return "tracker client"; }
    bool claims_datagram(byte_view bytes) const override;

    // Commands. add() is false when the key is taken or torrents_max torrents are there.
    bool add(time_point now, std::uint64_t key, std::vector<std::vector<std::string>> tiers,
             sha1_hash info_hash, id160 peer_id, std::uint16_t listen_port);
    // Drops the torrent at once: its exchanges end (connections closed), no 'stopped' is sent,
    // and its undrained events go.
    void remove(time_point now, std::uint64_t key);
    void start(time_point now, std::uint64_t key, tracker_stats stats);
    void completed(time_point now, std::uint64_t key, tracker_stats stats);
    void stop(time_point now, std::uint64_t key, tracker_stats stats);
    void set_stats(std::uint64_t key, tracker_stats stats);
    void scrape(time_point now, std::uint64_t key);
    // Every torrent announces this port from now on.
    void set_listen_port(std::uint16_t port);

    // Inputs
    void on_datagram(time_point now, const endpoint& from, byte_view bytes) override;
    void on_connected(time_point now, conn_id conn) override;
    void on_stream_bytes(time_point now, conn_id conn, byte_view bytes) override;
    void on_closed(time_point now, conn_id conn, std::string_view reason) override;
    void on_resolved(time_point now, std::uint64_t query, const resolve_result& result) override;
    void on_timer(time_point now) override;

    // Outputs
    std::optional<transmit> poll_transmit() override { return transmits_.pop(); }
    std::optional<resolve_query> poll_resolve() override { return resolves_.pop(); }
    std::optional<time_point> next_timer() const override;
    std::optional<tracker_client_event> poll_event() { return events_.pop(); }
    bool has_events() const override { return !events_.empty(); }

    bool idle() const { return exchanges_.empty(); }
    bool has(std::uint64_t key) const { return torrents_.contains(key); }
    std::size_t torrents() const { return torrents_.size(); }
    std::size_t exchanges() const { return exchanges_.size(); }  // under way and waiting
    std::size_t names_cached() const { return names_.size(); }
    // A torrent's announce machine, to look at (its tiers, whether it runs); null when unknown.
    const tracker_client* client(std::uint64_t key) const;
    const tracker_client_service_counters& counters() const { return counters_; }

private:
    enum class stage : std::uint8_t {
        waiting,     // for one of exchanges_max
        resolving,   // for its host name
        connecting,  // HTTP: for on_connected
        reading,     // HTTP: request sent, response under way
        ready,       // UDP: the tracker's address known
    };

    struct exchange {
        std::uint64_t key = 0;      // the torrent
        std::uint64_t request = 0;  // the client's request id
        bool http = false;
        stage at = stage::waiting;
        std::string host;
        std::uint16_t port = 0;
        // HTTP
        std::string request_text;
        std::vector<endpoint> addresses;
        std::size_t next_address = 0;
        std::string connect_error;
        conn_id conn = 0;
        std::optional<http::http_response_parser> parser;
        // UDP
        std::optional<endpoint> remote;
        std::optional<byte_buffer> unsent;  // the latest datagram, while the name is looked up
        std::optional<std::uint32_t> transaction;
    };

    struct torrent {
        tracker_client client;
        timer_heap::key slot = 0;
        std::unordered_map<std::uint64_t, std::uint64_t> exchanges;  // client's request id -> exchange
        bool dirty = false;                                          // has outputs to drain
    };

    struct cached_name {
        std::vector<endpoint> addresses;  // empty: the look-up failed
        std::string error;
        time_point expires;
    };

    struct lookup {
        std::string name;
        time_point since;
        std::vector<std::uint64_t> waiting;  // exchanges
    };

    torrent* find(std::uint64_t key);
    void touch(std::uint64_t key);
    // Drains what the touched torrents' clients made and starts waiting exchanges, until neither
    // is left. Every input and command ends with it.
    void settle(time_point now);
    void drain(time_point now, std::uint64_t key);
    void handle(time_point now, std::uint64_t key, torrent& t, tracker_request request);
    void begin(time_point now, std::uint64_t id);
    void resolve(time_point now, std::uint64_t id);
    void resolved(time_point now, std::uint64_t id, const cached_name& name);
    void expire_lookups(time_point now);
    void dial(time_point now, std::uint64_t id);
    void send_datagram(exchange& ex, byte_buffer bytes);
    void note_transaction(std::uint64_t id, exchange& ex, byte_view bytes);
    void answered(time_point now, std::uint64_t id, const http::http_response& response);
    // Hands `reason` to the exchange's client, then ends the exchange.
    void fail(time_point now, std::uint64_t id, std::string reason);
    void end(std::uint64_t id);
    void cache(const std::string& name, cached_name entry);

    tracker_client_service_config config_;
    rng rng_;
    std::unordered_map<std::uint64_t, torrent> torrents_;
    std::vector<std::uint64_t> slot_keys_;  // timer slot -> torrent key
    std::vector<timer_heap::key> free_slots_;
    timer_heap timers_;
    std::vector<std::uint64_t> dirty_;  // torrents to drain

    std::unordered_map<std::uint64_t, exchange> exchanges_;
    std::uint64_t next_exchange_ = 1;
    std::size_t under_way_ = 0;        // exchanges past stage::waiting
    std::set<std::uint64_t> waiting_;  // exchange ids grow: the first waited longest
    std::unordered_map<conn_id, std::uint64_t> conns_;
    std::unordered_multimap<std::uint32_t, std::uint64_t> transactions_;

    std::unordered_map<std::string, cached_name> names_;
    std::map<std::uint64_t, lookup> lookups_;  // by query id: the first is the oldest
    std::unordered_map<std::string, std::uint64_t> lookup_of_name_;
    std::uint64_t next_query_ = 1;

    fifo<transmit> transmits_;
    fifo<resolve_query> resolves_;
    fifo<tracker_client_event> events_;
    tracker_client_service_counters counters_;
};

}  // namespace hyphae::tracker
