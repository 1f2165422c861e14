#pragma once
// Checks on the contacts one answer names, before a lookup takes them as candidates. A pure
// function: dht_node applies it to every answer of a lookup when traversal_config::check_answers
// (sanity) or dht_config::bep42_checks (ids must fit addresses) is on.
//
// Sanity (S/Kademlia-style; an honest node answers with nodes nearer the target than itself):
// a contact is dropped when it is
// - not strictly closer (XOR) to the target than the node that answered: a node near the target
//   that names farther ones wastes our queries, and an attacker naming itself stalls a lookup;
// - our own id, or the answering node itself (by id or endpoint);
// - a duplicate (id or endpoint) of an earlier contact in the same answer;
// - the third or later contact of one public /24 (IPv4) or /64 (IPv6): one host that fills an
//   answer with its Sybils keeps two slots. Local addresses are exempt, as in routing_table.
// Our own id is always dropped (a lookup never queries its own node); it counts as a sanity drop
// only when sanity is on.
// BEP 42: a contact whose id does not fit its address (node_id_policy.hpp) is dropped.

#include <cstddef>
#include <vector>

#include "hyphae/proto/dht/node_contact.hpp"

namespace hyphae::dht {

struct answer_check_config {
    bool sanity = false;
    bool require_verified = false;
};

struct checked_answer {
    std::vector<node_contact> nodes;  // kept, in the order given
    std::size_t dropped = 0;          // by the sanity rules
    std::size_t unverified = 0;       // by the BEP 42 rule
};

checked_answer check_answer(const node_id& target, const node_id& self, const node_contact& from,
                            std::vector<node_contact> nodes, const answer_check_config& config);

}  // namespace hyphae::dht
