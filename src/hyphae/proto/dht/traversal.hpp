#pragma once
// One iterative Kademlia lookup towards a target: the candidate list, sorted by XOR distance,
// and the rule for whom to ask next. It sends nothing itself; dht_node asks next_query() for a
// contact to query, reports what came back, and stops when done().
//
// The rule (Kademlia's, with two changes for speed):
// - The window is the `result_size` closest candidates that have not failed and are not slow.
//   Up to `parallelism` queries are in flight to nodes in that window; done() once everyone in
//   the window has answered (or no candidate is left to ask and nothing is in flight).
// - A query that passes its soft timeout marks its node slow: it leaves the window and frees its
//   slot, so the lookup moves on without waiting (libtorrent 2.0 keeps such nodes in its window
//   until their 15 s timeout). A slow node that answers after all is taken back.
// - Nodes are deduplicated by id and by endpoint; the list holds at most candidates_max.
// - Each candidate remembers who told us about it. A node whose referrals all fail while none
//   answer is reported by bad_referrers(), so the routing table can rank it down.
//
// Disjoint paths (S/Kademlia, Baumgart & Mies 2007), with disjoint_paths = d > 1: the seeds are
// dealt round-robin among d paths, and a node named in an answer joins the path of the node that
// named it. Deduplication stays global, so a node first seen on one path is never queried by
// another: one adversary on a path cannot steer the others. Each path has its own window of the
// result_size closest of its candidates and its own parallelism; done() once every path is.
// The result (closest_responded, hops) is the merge of all paths. candidates_max and queries_max
// are per path (the bounds scale with d). With d == 1 there is one path and nothing changes.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hyphae/proto/dht/node_contact.hpp"

namespace hyphae::dht {

struct traversal_config {
    std::size_t result_size = 8;        // k: the lookup converges on this many closest nodes
    std::size_t parallelism = 3;        // alpha: queries in flight that are not yet slow
    std::size_t candidates_max = 64;    // bound on the candidate list
    std::size_t queries_max = 128;      // bound on the queries one lookup may send
    std::size_t bad_referrals_min = 3;  // failed referrals (with no good one) that mark a referrer
    // d, 1..16 (clamped): disjoint paths of one lookup, see above. 1 is plain Kademlia.
    std::size_t disjoint_paths = 1;
    // Sanity checks on the contacts of every answer (answer_check.hpp), applied by dht_node:
    // off by default, as libtorrent and the BEPs do not check.
    bool check_answers = false;
};

inline constexpr std::size_t disjoint_paths_max = 16;

// How many routing-table seeds a lookup takes: k, or two per path when d paths need more.
std::size_t seed_count(const traversal_config& config);

class traversal {
public:
    enum class state : std::uint8_t { fresh, in_flight, slow, responded, failed };

    struct candidate {
        node_contact contact;
        std::string token;  // from its get_peers / get answer, for announce_peer / put
        std::uint16_t serial = 0;
        std::uint16_t referrer = 0;  // serial of the node that named it; 0 for the seeds
        std::uint8_t depth = 0;      // hops from us: seeds are 1
        state st = state::fresh;
        std::uint8_t bad_referrals = 0;
        std::uint8_t good_referrals = 0;
        std::uint8_t path = 0;  // disjoint path, 0..d-1
    };

    traversal(const node_id& target, const traversal_config& config);

    const node_id& target() const { return target_; }

    // Seeds from our routing table (depth 1) or nodes named in an answer (referrer's depth + 1).
    void add(const node_contact& contact, const node_contact* referrer);

    // A node we asked before knowing its id (a bootstrap endpoint) answered: it joins as a seed
    // that has responded, and the nodes it named join as its referrals.
    void seed_responded(const node_contact& contact, const std::vector<node_contact>& nodes,
                        std::string token = {});

    // The next node to query, now marked in flight; empty when the window has nobody to ask or
    // the parallelism is used up.
    std::optional<node_contact> next_query();

    // Outcomes, by the id the query went to. Unknown ids are ignored.
    void on_response(const node_id& id, const std::vector<node_contact>& nodes, std::string token = {});
    void on_slow(const node_id& id);
    void on_failure(const node_id& id);

    bool done() const;
    std::size_t in_flight() const;  // counts slow ones too: their answers may still come
    std::size_t queries_sent() const { return queries_sent_; }
    std::size_t responses() const { return responses_; }
    std::size_t failures() const { return failures_; }

    // The closest nodes that answered, nearest first (at most result_size).
    std::vector<const candidate*> closest_responded() const;
    // Hops to the closest node that answered (0 when none did).
    int hops() const;
    // Nodes that named only unreachable nodes; see the header comment.
    std::vector<node_contact> bad_referrers() const;
    // The number of disjoint paths, and the path a candidate is on.
    std::size_t paths() const { return paths_; }
    std::optional<std::size_t> path_of(const node_id& id) const;

private:
    candidate* find(const node_id& id);
    candidate* find_serial(std::uint16_t serial);
    // Empty `path`: deal the next seed path.
    void add_on_path(const node_contact& contact, std::uint16_t referrer, std::uint8_t depth,
                     std::optional<std::uint8_t> path);
    std::uint8_t next_seed_path();
    // The first fresh candidate in the window of `path`, if any.
    std::optional<std::size_t> window_fresh(std::size_t path) const;
    bool path_done(std::size_t path) const;
    void responded(candidate& c, std::string token);

    node_id target_;
    traversal_config config_;
    std::size_t paths_ = 1;
    std::size_t candidates_max_ = 0;     // over all paths
    std::size_t queries_max_ = 0;        // over all paths
    std::vector<candidate> candidates_;  // nearest first
    std::uint16_t next_serial_ = 1;
    std::uint8_t next_seed_path_ = 0;
    std::uint8_t next_query_path_ = 0;
    std::size_t queries_sent_ = 0;
    std::size_t responses_ = 0;
    std::size_t failures_ = 0;
};

}  // namespace hyphae::dht
