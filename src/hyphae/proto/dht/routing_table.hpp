#pragma once
// The BEP 5 routing table of one node: the contacts it knows, by XOR distance from its own id
// (`self`). A pure data structure, sans-I/O: the dht core reports what it heard, the table says
// where the contact went, and the core drains maintenance work (next_ping, next_refresh_target)
// and turns it into KRPC queries. Every call takes `now`, which never goes backwards.
//
// Shape: a vector of buckets indexed by the bits an id shares with self; bucket i < last holds
// the ids that share exactly i bits, the last bucket all deeper ones. Only the last bucket splits
// (BEP 5), up to buckets_max (160). A bucket holds at most bucket_size (k = 8) live entries and
// a replacement cache of at most replacements_max newcomers, most recently heard last.
//
// States (BEP 5, computed from the entry and `now`, never stored):
//   good          answered a query of ours, no failure since, and active within questionable_after
//                 (active = it answered us, or, once it has answered, it queried us);
//   bad           fail_limit failed queries in a row, or one failure of a node that never answered;
//   questionable  anything else: idle, failing, or unconfirmed (never answered us).
//
// Inputs:
//   heard_response  it answered our query: confirmed, fails reset, RTT recorded;
//   heard_query     it queried us: refreshes a confirmed node; an unknown one goes in unconfirmed;
//   heard_of        a contact from someone's answer (hearsay): goes in unconfirmed;
//   heard_failure   our query to it timed out: fails + 1; a bad node is swapped for the best
//                   replacement at once, or stays (excluded from answers) until a newcomer takes
//                   its place.
// Self, port 0 and unspecified addresses are refused. RTT is smoothed (3/4 old + 1/4 new).
// Unconfirmed contacts fill free live slots (so that the core pings them and they confirm or
// fail fast) and otherwise wait in the replacement cache. A newcomer in a full bucket takes the
// place of, in order: a bad node; (if it answered us) a node that never did; (if prefer_verified
// and it answered us with a BEP 42 verified id) an unverified questionable node. Otherwise it
// waits in the replacement cache and the bucket's questionable nodes come first in next_ping.
// Good nodes are never evicted for newcomers: Kademlia keeps the long-lived ones (unless
// prefer_long_lived is false: then a responder takes the least recently active live slot).
// require_verified: ids that do not fit their address (BEP 42) are refused, local ones exempt.
// Best replacement to promote: one that has answered us, then (prefer_verified) a verified one,
// then the most recently heard. A full cache drops its oldest unconfirmed entry first.
// restrict_ips: one live-or-cached entry per public /24 (IPv4) or /64 (IPv6) per bucket; a bad
// entry of the prefix yields to the newcomer.
//
// Anti-hijack: only a response (an answer from the endpoint we queried) may move a known id to
// another endpoint, or give a known endpoint another id, and only over an entry that is not good.
// Queries and hearsay never change what the table believes; bad entries yield to anyone.
//
// Outputs, drained by the core:
//   next_ping             a questionable live node, marked pending until heard_response or
//                         heard_failure reports on it: the core must report every ping it sends;
//   next_refresh_target   a random id in a bucket with no confirmed activity (a responder
//                         added, a live node answering) for refresh_interval.
// Queries: closest (by XOR distance, bad nodes never), find, size, for_each, save.
//
// One table per address family (BEP 32): the table itself does not check families.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/error.hpp"
#include "hyphae/core/fixed_id.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/core/time.hpp"
#include "hyphae/proto/dht/node_contact.hpp"

namespace hyphae::dht {

struct routing_table_config {
    std::size_t bucket_size = 8;       // k, 1..255
    std::size_t replacements_max = 8;  // per bucket, 0..255
    std::size_t buckets_max = 160;     // 1..160
    std::size_t fail_limit = 3;        // 1..255
    duration questionable_after = minutes(15);
    duration refresh_interval = minutes(15);
    bool restrict_ips = false;     // one node per /24 (IPv4) or /64 (IPv6) per bucket
    bool prefer_verified = false;  // BEP 42 verified responders displace unverified questionable nodes
    // BEP 42 enforced: an id that does not fit its address (the caller's `verified`) is refused,
    // unless the address is local (is_local_address). Off: such nodes are kept, as BEP 42 allows.
    bool require_verified = false;
    // Kademlia's rule: a full bucket keeps its live nodes and newcomers wait. false: a newcomer
    // that answered us takes the place of the least recently active live entry ("prefer fresh",
    // what incorrect-routing-update attacks exploit); a switch for the simulator to measure it.
    bool prefer_long_lived = true;
};

enum class node_state : std::uint8_t { good, questionable, bad };

// Where an input left the contact.
enum class placement : std::uint8_t { live, replacement, refused };

enum class closest_filter : std::uint8_t {
    live,       // good and questionable nodes
    confirmed,  // nodes that have answered us and are not failing (answers to others' queries)
};

struct node_info {
    node_contact contact;
    node_state state = node_state::questionable;
    bool confirmed = false;  // has answered a query of ours
    bool verified = false;   // BEP 42: id matches address, as the caller said
    bool ping_pending = false;
    bool replacement = false;  // waiting in a replacement cache, not live
    std::uint8_t fails = 0;
    std::optional<milliseconds> rtt;  // smoothed, of confirmed nodes
    time_point last_active;           // last response or (confirmed) query; unconfirmed: last heard
    std::size_t bucket = 0;
};

// What the table did, for the simulator's measurements of its defences.
struct routing_table_counters {
    std::uint32_t added = 0;                 // into a live slot, free or taken over
    std::uint32_t replaced_bad = 0;          // a bad node gave its slot to a newcomer
    std::uint32_t replaced_unconfirmed = 0;  // a never-answered node gave its slot to a responder
    std::uint32_t replaced_unverified = 0;   // prefer_verified took a slot
    std::uint32_t promoted = 0;              // from a replacement cache into a live slot
    std::uint32_t cached = 0;                // newcomers put in a replacement cache
    std::uint32_t refused_ip = 0;            // restrict_ips
    std::uint32_t refused_hijack = 0;        // an id or endpoint held by an entry that is not bad
    std::uint32_t refused_unverified = 0;    // require_verified
    std::uint32_t replaced_live = 0;         // prefer_long_lived = false evicted a live node
    std::uint32_t splits = 0;
};

// A saved table as parse_saved read it: the id it was saved under (the caller decides whether to
// keep it) and its contacts, which the core re-adds as unconfirmed and pings.
struct saved_table {
    node_id id;
    std::vector<node_contact> nodes;
};

// Loopback, private and link-local addresses, which restrict_ips leaves alone.
bool is_local_address(const ip_address& address);
// Same /24 (IPv4) or /64 (IPv6).
bool same_ip_prefix(const ip_address& a, const ip_address& b);

class routing_table {
public:
    // `now` starts the table's clock: times are kept as 32-bit seconds after it.
    routing_table(const node_id& self, const routing_table_config& config, time_point now);

    placement heard_response(time_point now, const node_contact& contact, duration rtt,
                             bool verified = false);
    placement heard_query(time_point now, const node_contact& contact, bool verified = false);
    placement heard_of(time_point now, const node_contact& contact, bool verified = false);
    // Ignored unless the id is known at that endpoint.
    void heard_failure(time_point now, const node_contact& contact);

    // A questionable live node not already pinged: those of buckets with newcomers waiting first,
    // then those that never answered, then the longest idle. Marks it pending.
    std::optional<node_contact> next_ping(time_point now);
    // A random id in the range of the bucket idle longest, if it has been idle refresh_interval;
    // marks the bucket refreshed.
    std::optional<node_id> next_refresh_target(time_point now, rng& random);

    // Up to `count` contacts sorted by XOR distance to target, nearest first; never bad ones.
    std::vector<node_contact> closest(const node_id& target, std::size_t count,
                                      closest_filter filter = closest_filter::live) const;
    std::optional<node_info> find(const node_id& id, time_point now) const;
    // Live entries that are not bad.
    std::size_t size() const;
    // size() >= n, counting only as far as n: asked after every input, so it must stay cheap.
    bool has_at_least(std::size_t n) const;
    std::size_t replacement_count() const;
    std::size_t bucket_count() const { return buckets_.size(); }
    // visit(const node_info&) for every live entry and every replacement, bucket by bucket.
    template <class Visit>
    void for_each(time_point now, Visit&& visit) const;

    // Bencoded {"id", "nodes" (compact IPv4), "nodes6" (compact IPv6)} of the live entries that
    // are not bad.
    std::string save() const;
    // Reads what save() wrote; more than contacts_max contacts is an error.
    static result<saved_table> parse_saved(byte_view data, std::size_t contacts_max);

    const node_id& self() const { return self_; }
    const routing_table_counters& counters() const { return counters_; }
    // Heap and object bytes, by the table's own accounting (vector capacities, no malloc overhead).
    std::size_t memory_bytes() const;

private:
    enum class source : std::uint8_t { response, query, hearsay };

    // 48 bytes: a simulator holds 10^6 tables of ~150 entries.
    struct entry {
        node_id id;
        endpoint ep;
        std::uint32_t last_active = 0;  // seconds after epoch_
        std::uint16_t rtt_ms = rtt_unknown;
        std::uint8_t fails = 0;
        std::uint8_t flags = 0;
    };
    static_assert(sizeof(entry) == 48);
    static constexpr std::uint16_t rtt_unknown = 0xffff;
    static constexpr std::uint8_t flag_confirmed = 1;
    static constexpr std::uint8_t flag_verified = 2;
    static constexpr std::uint8_t flag_ping_pending = 4;

    struct bucket {
        std::vector<entry> live;
        std::vector<entry> replacements;  // oldest first
        std::uint32_t last_active = 0;    // last confirmed activity or refresh, seconds after epoch_
    };

    // The config, narrowed: it is copied into each of 10^6 tables.
    struct limits {
        std::uint8_t bucket_size;
        std::uint8_t replacements_max;
        std::uint8_t buckets_max;
        std::uint8_t fail_limit;
        std::uint32_t questionable_after_s;
        std::uint32_t refresh_interval_s;
        bool restrict_ips;
        bool prefer_verified;
        bool require_verified;
        bool prefer_long_lived;
    };

    struct location {
        std::size_t bucket;
        std::size_t index;
        bool live;
    };

public:
    static constexpr std::size_t entry_size = sizeof(entry);

private:
    static bool has(const entry& e, std::uint8_t flag) { return (e.flags & flag) != 0; }
    std::uint32_t seconds_of(time_point now) const;
    bool is_bad(const entry& e) const;
    bool is_good(const entry& e, std::uint32_t now_s) const;
    node_state state_of(const entry& e, std::uint32_t now_s) const;
    node_info info_of(const entry& e, std::size_t bi, bool replacement, std::uint32_t now_s) const;
    std::size_t bucket_of(const node_id& id) const;
    entry& at(const location& loc);
    const entry& at(const location& loc) const;
    std::optional<location> locate(const node_id& id) const;
    std::optional<location> locate_endpoint(const endpoint& ep) const;
    void erase(const location& loc);

    placement observe(time_point now, const node_contact& contact, bool verified, source from, duration rtt);
    void touch(entry& e, std::uint32_t now_s, bool verified, source from, duration rtt) const;
    // `responded`: it is being placed because it answered us now.
    placement insert(std::uint32_t now_s, entry e, bool responded);
    bool make_room_for_ip(bucket& b, const entry& e) const;
    node_id random_id_in(std::size_t bi, rng& random) const;
    void cache(bucket& b, const entry& e);
    void fill_from_cache(bucket& b);
    void split();

    node_id self_;
    limits limits_;
    time_point epoch_;
    std::vector<bucket> buckets_;
    routing_table_counters counters_;
};

template <class Visit>
void routing_table::for_each(time_point now, Visit&& visit) const {
    const std::uint32_t now_s = seconds_of(now);
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
        for (const entry& e : buckets_[i].live) {
            visit(info_of(e, i, false, now_s));
        }
        for (const entry& e : buckets_[i].replacements) {
            visit(info_of(e, i, true, now_s));
        }
    }
}

}  // namespace hyphae::dht
