#include "hyphae/proto/dht/answer_check.hpp"

#include "hyphae/proto/dht/node_id_policy.hpp"
#include "hyphae/proto/dht/routing_table.hpp"

namespace hyphae::dht {

namespace {

constexpr std::size_t same_prefix_max = 2;

bool sane(const node_id& target, const node_contact& from, const std::vector<node_contact>& kept,
          const node_contact& c) {
    if (c.id == from.id || c.ep == from.ep || !closer_to(target, c.id, from.id)) {
        return false;
    }
    std::size_t same_prefix = 0;
    for (const auto& k : kept) {
        if (k.id == c.id || k.ep == c.ep) {
            return false;
        }
        if (same_ip_prefix(k.ep.address, c.ep.address)) {
            ++same_prefix;
        }
    }
    return same_prefix < same_prefix_max || is_local_address(c.ep.address);
}

}  // namespace

checked_answer check_answer(const node_id& target, const node_id& self, const node_contact& from,
                            std::vector<node_contact> nodes, const answer_check_config& config) {
    checked_answer out;
    out.nodes.reserve(nodes.size());
    for (auto& c : nodes) {
        if (c.id == self) {
            out.dropped += config.sanity ? 1 : 0;
        } else if (config.sanity && !sane(target, from, out.nodes, c)) {
            ++out.dropped;
        } else if (config.require_verified && !verify_node_id(c.id, c.ep.address)) {
            ++out.unverified;
        } else {
            out.nodes.push_back(c);
        }
    }
    return out;
}

}  // namespace hyphae::dht
