#include "hyphae/proto/dht/node_contact.hpp"

namespace hyphae::dht {

node_id random_node_id(rng& random) {
    node_id id;
    for (auto& b : id.bytes) {
        b = static_cast<std::uint8_t>(random());
    }
    return id;
}

void append_compact_node(std::string& out, const node_contact& contact) {
    out.append(contact.id.chars());
    append_compact(out, contact.ep);
}

std::optional<std::vector<node_contact>> parse_compact_nodes(byte_view data, bool v6) {
    const std::size_t record = v6 ? compact_node_v6_size : compact_node_v4_size;
    if (data.size() % record != 0) {
        return std::nullopt;
    }
    std::vector<node_contact> out;
    out.reserve(data.size() / record);
    for (std::size_t at = 0; at < data.size(); at += record) {
        auto id = node_id::from_bytes(data.subspan(at, node_id::size));
        auto ep = parse_compact(data.subspan(at + node_id::size, record - node_id::size));
        if (id && ep && ep->port != 0) {
            // A v4-mapped v6 address is the v4 host: datagrams from it arrive unmapped.
            ep->address = ep->address.unmapped();
            out.push_back({*id, *ep});
        }
    }
    return out;
}

}  // namespace hyphae::dht
