#pragma once
// A Mainline DHT node (BEP 5, 32, 42, 43, 44, 51), sans-I/O: it answers queries, keeps its routing
// table, stores peers and items for others, and runs lookups for its owner. It is a service of
// the host (core/service.hpp) that claims bencoded datagrams; the runtime drives it on the host's
// UDP port, the simulator a million of them over a simulated network.
//
// Inputs (every one takes `now`, which never goes backwards):
//   on_datagram(now, from, bytes)   a UDP datagram that arrived on the DHT socket
//   on_timer(now)                   the time next_timer() asked for has come
//   commands: bootstrap, find_node, get_peers, announce, get_item, put_immutable, put_mutable,
//   sample_infohashes; each returns a lookup id that its events carry
// Outputs, drained after every input:
//   poll_transmit()   datagrams to send, in order (poll_datagram(): the same, typed)
//   poll_event()      peers and items found, lookups done, our external address learnt
//   next_timer()      the earliest query deadline or maintenance tick
//
// Behaviour:
// - Queries are answered from the routing table, the peer store and the item store, with a `ip`
//   key naming the requester's address (BEP 42). Malformed queries get error 203, unknown methods
//   204, bad tokens 203, BEP 44 violations their own codes; senders over the per-address rate are
//   dropped. Every refusal is counted in stats().
// - Responses are matched by transaction id and source endpoint; anything else is dropped and
//   counted. A node that answers with another id than the one we queried is not believed.
// - A query's soft timeout follows the measured RTT (rtt_estimator.hpp): after it a lookup moves
//   on; after hard_timeout the node is failed in the routing table.
// - Lookups (traversal.hpp) start from the routing table, and from the bootstrap nodes when the
//   table holds fewer than k nodes. announce and put run a lookup, then store at the closest
//   nodes that answered with a token.
// - Maintenance every maintenance_interval: ping questionable nodes, refresh idle buckets,
//   bootstrap again while the table is near empty, expire stored peers and items.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "hyphae/core/address_rate_limiter.hpp"
#include "hyphae/core/ed25519.hpp"
#include "hyphae/core/io.hpp"
#include "hyphae/core/keyed_hash.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/core/service.hpp"
#include "hyphae/core/time.hpp"
#include "hyphae/proto/dht/item_store.hpp"
#include "hyphae/proto/dht/krpc.hpp"
#include "hyphae/proto/dht/peer_store.hpp"
#include "hyphae/proto/dht/routing_table.hpp"
#include "hyphae/proto/dht/rtt_estimator.hpp"
#include "hyphae/proto/dht/traversal.hpp"
#include "hyphae/proto/dht/write_tokens.hpp"

namespace hyphae::dht {

using lookup_id = std::uint32_t;

struct dht_config {
    std::optional<node_id> id;  // none: a random one
    // BEP 42: verified nodes may displace unverified ones (local addresses count as verified).
    routing_table_config table = [] {
        routing_table_config c;
        c.prefer_verified = true;
        return c;
    }();
    traversal_config lookup{};
    rtt_config rtt{};
    peer_store_config peers{};
    item_store_config items{};
    std::vector<endpoint> bootstrap;
    duration hard_timeout = std::chrono::seconds(4);
    duration maintenance_interval = std::chrono::seconds(5);
    // While the table holds fewer than k nodes, bootstrap again after 1 s, doubling up to this:
    // nodes that join at once through one node learn little from it the first time.
    duration bootstrap_retry = std::chrono::seconds(30);
    std::size_t pings_per_tick_max = 4;
    std::size_t requests_in_flight_max = 256;  // ours, across lookups and maintenance
    std::size_t lookups_max = 64;
    std::size_t transmits_queued_max = 1024;
    std::size_t events_queued_max = 1024;
    std::size_t bootstrap_names_max = 16;
    std::size_t peers_per_answer_max = 50;    // get_peers values: keeps the answer under ~1000 bytes
    std::size_t samples_per_answer_max = 20;  // BEP 51
    double query_rate = 50;                   // per source address a second (0: no limit)
    double query_burst = 100;
    std::size_t rate_limited_addresses_max = 4096;
    bool enforce_node_id = false;  // BEP 42: non-compliant nodes' answers carry no token
    // BEP 42, all of it: sets table.require_verified (ids that do not fit their address get no
    // slot), makes lookups ignore such contacts in answers, and implies enforce_node_id. Local
    // addresses are exempt. Off by default: many real nodes still have non-compliant ids.
    bool bep42_checks = false;
    bool derive_node_id = true;  // BEP 42: take an id that fits the external address others report
    bool read_only = false;      // BEP 43: ask others not to add us
    std::string version = std::string("HY\x00\x01", 4);
};

enum class lookup_kind : std::uint8_t {
    bootstrap,
    refresh,
    find_node,
    get_peers,
    announce,
    get_item,
    put_item,
    sample,
};

std::string_view to_string(lookup_kind kind);

struct lookup_stats {
    std::size_t queries = 0;  // messages we sent for this lookup
    std::size_t responses = 0;
    std::size_t timeouts = 0;  // queries that never answered (soft or hard)
    int hops = 0;              // to the closest node that answered
    duration elapsed{};
};

struct peers_found {
    lookup_id id = 0;
    std::vector<endpoint> peers;  // new ones only, over the whole lookup
};

struct item_found {
    lookup_id id = 0;
    node_id target;
    std::string value;                       // bencoded v, checked against the target (and signature)
    std::optional<std::int64_t> seq;         // mutable items
    std::optional<ed25519::public_key> key;  // mutable items
};

struct samples_found {
    lookup_id id = 0;
    std::vector<id160> info_hashes;
    std::int64_t num = 0;
};

struct lookup_done {
    lookup_id id = 0;
    lookup_kind kind = lookup_kind::find_node;
    lookup_stats stats;
    std::size_t peers = 0;              // get_peers / announce: distinct peers found
    std::size_t stored = 0;             // announce / put: nodes that accepted it
    bool found_item = false;            // get_item
    std::optional<std::int64_t> seq;    // put_item of a mutable: the seq it was put with
    std::vector<node_contact> closest;  // nodes that answered, nearest first
};

struct external_address {
    endpoint address;               // as most nodes that answered us saw it (BEP 42 `ip`)
    std::optional<node_id> new_id;  // the id we took for it, when ours did not fit it (BEP 42)
};

using dht_event = std::variant<peers_found, item_found, samples_found, lookup_done, external_address>;

// What the node sends: datagrams only.
using dht_transmit = io::datagram;

struct dht_stats {
    std::uint64_t datagrams_in = 0;
    std::uint64_t datagrams_out = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::uint64_t queries_in[8] = {};  // by krpc_method
    std::uint64_t responses_in = 0;
    std::uint64_t errors_in = 0;
    std::uint64_t malformed = 0;     // datagrams that did not decode
    std::uint64_t rate_limited = 0;  // queries dropped by the per-address limit
    std::uint64_t unexpected = 0;    // answers to nothing we asked, or from elsewhere
    std::uint64_t id_mismatch = 0;   // answers from another id than the one we asked
    std::uint64_t bad_tokens = 0;
    std::uint64_t bad_items = 0;  // BEP 44 puts refused, items that failed their check
    std::uint64_t errors_sent = 0;
    std::uint64_t timeouts = 0;             // queries that reached hard_timeout
    std::uint64_t dropped_transmits = 0;    // over transmits_queued_max
    std::uint64_t dropped_requests = 0;     // over requests_in_flight_max
    std::uint64_t dropped_events = 0;       // over events_queued_max: drain poll_event()
    std::uint64_t answers_filtered = 0;     // contacts in answers dropped by lookup.check_answers
    std::uint64_t unverified_contacts = 0;  // contacts in answers dropped by bep42_checks
};

class dht_node final : public service {
public:
    dht_node(const dht_config& config, std::uint64_t seed, time_point now);

    // The host's service contract: KRPC messages are bencoded dictionaries, "d1:...".
    std::string_view name() const override { return "dht"; }
    bool claims_datagram(byte_view bytes) const override { return !bytes.empty() && bytes[0] == 'd'; }
    std::optional<transmit> poll_transmit() override;
    bool has_events() const override { return event_head_ != events_.size(); }

    const node_id& id() const { return id_; }
    const routing_table& table() const { return table_; }
    const dht_stats& stats() const { return stats_; }
    const peer_store& peers() const { return peer_store_; }
    const item_store& items() const { return item_store_; }
    std::size_t lookups_running() const { return lookups_.size(); }

    void on_datagram(time_point now, const endpoint& from, byte_view bytes) override;
    void on_timer(time_point now) override;

    // Contacts from a saved table: added as unconfirmed and pinged.
    void add_contacts(time_point now, const std::vector<node_contact>& contacts);
    // A contact known to be alive without asking it, as if it had answered us in `rtt`: a
    // simulator's stabilised start fills 10^6 tables this way instead of 10^8 bootstrap queries.
    void add_answered_contact(time_point now, const node_contact& contact, duration rtt);
    void add_bootstrap(const endpoint& ep);
    // A bootstrap node known by name ("router.bittorrent.com", 6881): looked up through the host
    // (poll_resolve); once its IPv4 addresses come in, the node joins through them if its table
    // is still short of k nodes. At most bootstrap_names_max names are pending.
    void add_bootstrap_name(time_point now, std::string host, std::uint16_t port);
    std::optional<resolve_query> poll_resolve() override;
    void on_resolved(time_point now, std::uint64_t query, const resolve_result& result) override;

    // Commands. Each returns an id for its events, or 0 when lookups_max are running (or, for
    // puts, when the value is not exactly one bencoded value).
    lookup_id bootstrap(time_point now);
    lookup_id find_node(time_point now, const node_id& target);
    lookup_id get_peers(time_point now, const id160& info_hash);
    // get_peers, then announce_peer at the closest nodes; port 0 means implied_port (the UDP port).
    lookup_id announce(time_point now, const id160& info_hash, std::uint16_t port, bool seed = false);
    // BEP 44: an immutable item by its target; a mutable one by its public key (32 bytes) and salt,
    // which its signature covers and its target derives from.
    lookup_id get_immutable(time_point now, const node_id& target);
    lookup_id get_mutable(time_point now, const ed25519::public_key& key, std::string salt);
    lookup_id put_immutable(time_point now, std::string bencoded_value);
    // Looks up the item's current seq, then puts seq + 1 (or `seq` when given) signed with `secret`.
    lookup_id put_mutable(time_point now, const ed25519::secret_key& secret, std::string salt,
                          std::string bencoded_value, std::optional<std::int64_t> seq = {});
    lookup_id sample_infohashes(time_point now, const node_id& target);
    void cancel(lookup_id id);

    std::optional<dht_transmit> poll_datagram();
    std::optional<dht_event> poll_event();
    std::optional<time_point> next_timer() const override;

    // The routing table as bytes for a file (routing_table::save), and the id it was made for.
    std::string save_table() const;

private:
    struct request {
        node_contact to;  // id is zero when we do not know it yet (bootstrap nodes)
        bool id_known = false;
        krpc_method method = krpc_method::ping;
        lookup_id lookup = 0;
        bool store_phase = false;  // announce_peer / put of a lookup
        bool slow = false;
        time_point sent;
        time_point soft_deadline;
        time_point hard_deadline;
    };
    struct lookup {
        lookup(lookup_id i, lookup_kind k, const node_id& target, const traversal_config& config,
               time_point now)
            : id(i), kind(k), search(target, config), started(now) {}
        lookup_id id = 0;
        lookup_kind kind = lookup_kind::find_node;
        traversal search;
        time_point started;
        bool storing = false;
        std::size_t store_pending = 0;
        std::size_t stored = 0;
        std::size_t seed_queries = 0;  // queries to bootstrap endpoints still running
        std::vector<endpoint> peers;
        // announce
        std::uint16_t port = 0;
        bool seed = false;
        // items
        bool found_item = false;
        std::optional<std::int64_t> best_seq;
        std::string item_value;
        std::optional<ed25519::public_key> item_key;  // a mutable item's
        std::optional<ed25519::keypair> keys;         // a mutable put's
        std::string salt;
        std::optional<std::int64_t> put_seq;
        std::size_t timeouts = 0;
        std::size_t messages = 0;
        std::size_t answers = 0;
        bool finished = false;
    };

    // Sending
    void send(const endpoint& to, const krpc_message& message);
    void send_error(const endpoint& to, const std::string& tid, int code, std::string text);
    bool send_query(time_point now, const node_contact& to, bool id_known, krpc_query query, lookup_id owner,
                    bool store_phase);
    krpc_query query_for(const lookup& l) const;

    // Serving (dht_node_serve.cpp)
    void on_query(time_point now, const endpoint& from, krpc_message& message);
    void answer_get_peers(time_point now, const endpoint& from, const krpc_query& q, krpc_response& r);
    bool answer_put(time_point now, const endpoint& from, const krpc_message& message);
    void answer_get(time_point now, const krpc_query& q, krpc_response& r);
    std::vector<node_contact> nodes_for(const node_id& target, bool v6) const;

    // Answers and timeouts
    void on_response(time_point now, const endpoint& from, krpc_message& message);
    void on_error_reply(time_point now, const endpoint& from, const krpc_message& message);
    // The request an answer from `from` with this transaction id is for, taken off the table;
    // empty (and counted) when there is none.
    std::optional<request> take_request(const endpoint& from, const std::string& tid_bytes);
    void fail_request(time_point now, const request& req);
    void expire_requests(time_point now);
    void note_external_address(time_point now, const endpoint& seen);
    void adopt_id(time_point now, const node_id& id);

    // Lookups (dht_node_lookup.cpp)
    lookup_id start_lookup(time_point now, lookup_kind kind, const node_id& target);
    // start_lookup, then `setup` on the new lookup, then its first queries.
    lookup_id launch(time_point now, lookup_kind kind, const node_id& target,
                     const std::function<void(lookup&)>& setup);
    lookup* find_lookup(lookup_id id);
    void lookup_answered(time_point now, lookup& l, const request& req, const krpc_response& r);
    void lookup_failed(time_point now, lookup& l, const request& req, bool hard);
    void advance(time_point now, lookup& l);
    void start_store_phase(time_point now, lookup& l);
    void finish(time_point now, lookup& l);
    bool check_item(const lookup& l, const krpc_response& r) const;
    void emit(dht_event event);
    void sweep_lookups();

    void maintain(time_point now);
    void send_pings(time_point now);
    bool wants_bootstrap() const;

    dht_config config_;
    rng rng_;
    node_id id_;
    routing_table table_;
    write_tokens tokens_;
    peer_store peer_store_;
    item_store item_store_;
    rtt_estimator rtt_;
    address_rate_limiter limiter_;
    std::unordered_map<std::uint16_t, request> requests_;  // by transaction id
    std::vector<lookup> lookups_;
    std::vector<dht_transmit> transmits_;
    std::size_t transmit_head_ = 0;
    std::vector<resolve_query> resolves_;   // bootstrap names to look up
    std::vector<std::uint64_t> resolving_;  // their ids, until answered
    std::uint64_t next_resolve_ = 1;
    std::vector<dht_event> events_;
    std::size_t event_head_ = 0;
    std::uint16_t next_tid_ = 0;
    lookup_id next_lookup_ = 1;
    time_point next_maintenance_;
    time_point next_bootstrap_{};
    duration bootstrap_backoff_ = std::chrono::seconds(1);
    std::vector<std::pair<endpoint, int>> address_votes_;  // BEP 42: what others say we are
    std::optional<endpoint> external_;
    dht_stats stats_;
};

}  // namespace hyphae::dht
