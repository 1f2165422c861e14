#pragma once
// The DHT's vocabulary: a contact is a node id and the UDP endpoint it answers on. Compact node
// info is the 20-byte id followed by compact peer info: 26 bytes for IPv4 (BEP 5), 38 for IPv6
// (BEP 32).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/fixed_id.hpp"
#include "hyphae/core/rng.hpp"

namespace hyphae::dht {

using node_id = id160;

struct node_contact {
    node_id id;
    endpoint ep;

    friend bool operator==(const node_contact&, const node_contact&) = default;
};

// 20 random bytes: ids for tests, simulated nodes, and nodes without a configured one.
node_id random_node_id(rng& random);

inline constexpr std::size_t compact_node_v4_size = 26;
inline constexpr std::size_t compact_node_v6_size = 38;

// Appends one contact in compact form (26 or 38 bytes, by the endpoint's family).
void append_compact_node(std::string& out, const node_contact& contact);

// Splits a "nodes" (v6 = false) or "nodes6" (v6 = true) string into contacts. Empty optional when
// the length is not a multiple of the record size. Records with port 0 are skipped: nobody can
// be reached there.
std::optional<std::vector<node_contact>> parse_compact_nodes(byte_view data, bool v6);

}  // namespace hyphae::dht
