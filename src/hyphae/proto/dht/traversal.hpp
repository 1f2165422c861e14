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
};

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

private:
    candidate* find(const node_id& id);
    candidate* find_serial(std::uint16_t serial);
    bool in_window_fresh(std::size_t& index) const;

    node_id target_;
    traversal_config config_;
    std::vector<candidate> candidates_;  // nearest first
    std::uint16_t next_serial_ = 1;
    std::size_t queries_sent_ = 0;
    std::size_t responses_ = 0;
    std::size_t failures_ = 0;
};

}  // namespace hyphae::dht
