#pragma once
// Adversaries for the simulator: sans-I/O KRPC speakers that sit among honest dht_node cores and
// attack lookups by what they answer. The driver hands each one the datagrams addressed to its
// endpoint and sends what it appends to `out` from that endpoint; they speak valid KRPC (BEP 5,
// 32, 42, 44, 51), so the honest core believes them as it would any node.
//
// Attacks, after:
// - Sit & Morris, "Security Considerations for Peer-to-Peer Distributed Hash Tables" (IPTPS 2002):
//   dropping queries, incorrect lookup routing, incorrect routing updates, partition through a
//   bad bootstrap node;
// - Baumgart & Mies, "S/Kademlia: A Practicable Approach Towards Secure Key-Based Routing"
//   (ICPADS 2007): colluders that answer every lookup with the colluders closest to its target;
// - Wang & Kangasharju, "Real-World Sybil Attacks in BitTorrent Mainline DHT" (GLOBECOM 2012):
//   Sybil ids clustered around a target (sybil_id), answering as colluders.
//
// Inputs (`now` never goes backwards for one node):
//   on_datagram(now, from, bytes, directory, out)   a datagram for this adversary
//   on_timer(now, directory, out)                   its wake-up; returns the next one
// Outputs: the datagrams appended to `out`, in order. Nothing throws; what does not decode as a
// KRPC query is ignored (counted in stats().ignored). Answers carry at most 8 contacts, all of
// the querier's address family, and never `values` or BEP 44 items; announce_peer and put get a
// success answer and nothing is stored.
//
// An adversary_node holds no contacts of its own: every one reads the shared adversary_directory
// (all colluders, and a sample of honest contacts), so 10^4 of them cost little memory.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/core/time.hpp"
#include "hyphae/proto/dht/dht_node.hpp"
#include "hyphae/proto/dht/krpc.hpp"
#include "hyphae/proto/dht/node_contact.hpp"

namespace hyphae::sim {

enum class adversary_kind : std::uint8_t {
    none,           // inert: ignores everything (the driver runs honest nodes for "none")
    drop,           // never answers queries (present in tables, silent): the "drop queries" attack
    wrong_routing,  // answers find_node/get_peers with real honest nodes FAR from the target
    collude,        // answers with the colluders closest to the target, never values
    fake_updates,   // answers as collude, and queries honest nodes so that they add it to their tables
    bad_bootstrap,  // a bootstrap node leading newcomers into a partition: answers with colluders only
};

std::optional<adversary_kind> parse_adversary_kind(std::string_view name);
std::string_view to_string(adversary_kind kind);

// Which contacts a directory query may return: answers must be in the querier's family.
enum class ip_family : std::uint8_t { any, v4, v6 };

ip_family family_of(const endpoint& ep);

// What the adversaries know: every colluder, and a sample of honest contacts (for wrong_routing
// and for fake_updates' victims). Both are kept sorted by id, so that the contacts sharing a
// prefix with a target are one contiguous range.
class adversary_directory {
public:
    void add_colluder(const dht::node_contact& c);
    void add_honest(const dht::node_contact& c);  // the driver adds a bounded sample
    void finish();                                // sorts and drops duplicates; call once before use

    // Exactly the `count` colluders nearest to target by XOR distance, nearest first: a walk of
    // the implicit binary trie over the sorted ids, O(count * log n).
    std::vector<dht::node_contact> closest_colluders(const dht::node_id& target, std::size_t count) const;
    std::vector<dht::node_contact> closest_colluders(const dht::node_id& target, std::size_t count,
                                                     ip_family family) const;
    // Up to `count` distinct random honest contacts whose id differs from target in the top bit,
    // i.e. at XOR distance >= 2^159: no closer than half the id space.
    std::vector<dht::node_contact> far_honest(const dht::node_id& target, std::size_t count,
                                              rng& random) const;
    std::vector<dht::node_contact> far_honest(const dht::node_id& target, std::size_t count, rng& random,
                                              ip_family family) const;
    // nullptr when there is none (of that family).
    const dht::node_contact* random_honest(rng& random) const;
    const dht::node_contact* random_honest(rng& random, ip_family family) const;

    std::size_t colluders() const { return colluders_.size(); }
    std::size_t honest() const { return honest_.size(); }
    bool is_colluder(const dht::node_id& id) const;
    bool is_honest(const dht::node_id& id) const;

private:
    std::vector<dht::node_contact> colluders_;  // sorted by id after finish()
    std::vector<dht::node_contact> honest_;
};

// An id for a Sybil clustered around target: its first `shared_bits` (clamped to 0..160) bits are
// target's, the rest random.
dht::node_id sybil_id(const dht::node_id& target, int shared_bits, rng& random);

struct adversary_stats {
    std::uint64_t queries_in = 0;   // queries that decoded
    std::uint64_t answers_out = 0;  // answers (and 204 errors) sent
    std::uint64_t dropped = 0;      // queries left unanswered on purpose
    std::uint64_t pushes_out = 0;   // fake_updates' own queries
    std::uint64_t ignored = 0;      // malformed datagrams, answers and errors sent to us
};

struct adversary_config {
    duration push_interval = seconds(10);  // fake_updates: one query to an honest node per interval
    std::uint8_t answer_nodes_max = 8;     // contacts per answer, 1..8
};

class adversary_node {
public:
    adversary_node(adversary_kind kind, const dht::node_contact& self, std::uint64_t seed);
    adversary_node(adversary_kind kind, const dht::node_contact& self, std::uint64_t seed,
                   const adversary_config& config);

    adversary_kind kind() const { return kind_; }
    const dht::node_contact& self() const { return self_; }
    const adversary_stats& stats() const { return stats_; }

    // A datagram for this adversary: appends what it sends in reply to `out` (nothing for drop).
    void on_datagram(time_point now, const endpoint& from, byte_view bytes,
                     const adversary_directory& directory, std::vector<dht::dht_transmit>& out);

    // Active attacks. fake_updates: the first call schedules the first push at a random point of
    // the first push_interval (so that 10^4 adversaries started together do not push in step);
    // each later call at or after that time sends one query (ping or find_node, alternately) to a
    // random honest contact of the directory. Returns the next wake-up; nullopt for other kinds.
    std::optional<time_point> on_timer(time_point now, const adversary_directory& directory,
                                       std::vector<dht::dht_transmit>& out);

private:
    std::vector<dht::node_contact> nodes_for(const dht::node_id& target, const endpoint& from,
                                             const adversary_directory& directory);
    void answer(const endpoint& from, dht::krpc_message& query, const adversary_directory& directory,
                std::vector<dht::dht_transmit>& out);

    adversary_kind kind_;
    std::uint8_t answer_nodes_max_;
    std::uint16_t next_tid_ = 0;
    dht::node_contact self_;
    duration push_interval_;
    std::optional<time_point> next_push_;
    rng rng_;
    adversary_stats stats_;
};

}  // namespace hyphae::sim
