// dht_node: answering other nodes' queries (BEP 5, 32, 42, 44, 51).

#include "hyphae/proto/dht/dht_node.hpp"
#include "hyphae/proto/dht/item.hpp"
#include "hyphae/proto/dht/node_id_policy.hpp"

namespace hyphae::dht {

std::vector<node_contact> dht_node::nodes_for(const node_id& target, bool v6) const {
    std::vector<node_contact> out;
    for (auto& c : table_.closest(target, config_.lookup.result_size * 2, closest_filter::confirmed)) {
        if (c.ep.address.is_v6() == v6) {
            out.push_back(c);
            if (out.size() == config_.lookup.result_size) {
                break;
            }
        }
    }
    return out;
}

void dht_node::on_query(time_point now, const endpoint& from, krpc_message& message) {
    krpc_query& q = message.query;
    const auto method_index = static_cast<std::size_t>(q.method);
    ++stats_.queries_in[method_index < 8 ? method_index : 7];
    if (!limiter_.allow(now, from.address)) {
        ++stats_.rate_limited;
        return;
    }
    if (q.id == id_) {
        return;  // our own id: a reflection, or someone pretending to be us
    }
    if (!q.read_only && table_.heard_query(now, node_contact{q.id, from},
                                           verify_node_id(q.id, from.address)) == placement::live) {
        // A newcomer in a live slot is answered from the table only once it has answered us:
        // ask it now rather than at the next maintenance tick.
        send_pings(now);
    }
    krpc_message reply;
    reply.type = krpc_message::kind::response;
    reply.transaction_id = message.transaction_id;
    reply.version = config_.version;
    reply.requester = from;
    krpc_response& r = reply.response;
    r.id = id_;
    // BEP 32: answer in the asker's family unless it asks for others.
    const bool want_v4 = q.want_v4 || (!q.want_v6 && from.address.is_v4());
    const bool want_v6 = q.want_v6 || (!q.want_v4 && from.address.is_v6());
    const auto add_nodes = [&](const node_id& target) {
        if (want_v4) {
            r.nodes = nodes_for(target, false);
        }
        if (want_v6) {
            r.nodes6 = nodes_for(target, true);
        }
    };
    switch (q.method) {
        case krpc_method::ping:
            break;
        case krpc_method::find_node:
            add_nodes(*q.target);
            break;
        case krpc_method::get_peers:
            add_nodes(*q.info_hash);
            answer_get_peers(now, from, q, r);
            break;
        case krpc_method::announce_peer: {
            if (!tokens_.check(now, from.address, q.token)) {
                ++stats_.bad_tokens;
                send_error(from, message.transaction_id, krpc_errc::protocol, "bad token");
                return;
            }
            const std::uint16_t port = q.implied_port || !q.port ? from.port : *q.port;
            peer_store_.announce(now, *q.info_hash, endpoint{from.address, port}, q.seed);
            break;
        }
        case krpc_method::get:
            add_nodes(*q.target);
            r.token = tokens_.issue(now, from.address);
            answer_get(now, q, r);
            break;
        case krpc_method::put:
            if (!answer_put(now, from, message)) {
                return;
            }
            break;
        case krpc_method::sample_infohashes: {
            add_nodes(*q.target);
            r.samples = peer_store_.sample(config_.samples_per_answer_max, rng_);
            r.num = static_cast<std::int64_t>(peer_store_.torrent_count());
            r.interval = 21600;
            break;
        }
        case krpc_method::unknown:
            send_error(from, message.transaction_id, krpc_errc::method_unknown, "Method Unknown");
            return;
    }
    send(from, reply);
}

void dht_node::answer_get_peers(time_point now, const endpoint& from, const krpc_query& q, krpc_response& r) {
    r.token = tokens_.issue(now, from.address);
    r.values = peer_store_.get(now, *q.info_hash, from.address.is_v6(), config_.peers_per_answer_max, rng_);
}

void dht_node::answer_get(time_point now, const krpc_query& q, krpc_response& r) {
    auto item = item_store_.get(now, *q.target, q.seq);
    if (!item) {
        return;
    }
    if (!item->is_mutable) {
        r.value = std::string(as_chars(item->value));
        return;
    }
    r.seq = item->seq;
    // BEP 44: an asker that already has this seq or a newer one gets the seq alone.
    if (!item->seq_only) {
        r.key = std::string(item->key.chars());
        r.value = std::string(as_chars(item->value));
        r.signature = std::string(item->sig.chars());
    }
}

bool dht_node::answer_put(time_point now, const endpoint& from, const krpc_message& message) {
    const krpc_query& q = message.query;
    if (!tokens_.check(now, from.address, q.token)) {
        ++stats_.bad_tokens;
        send_error(from, message.transaction_id, krpc_errc::protocol, "bad token");
        return false;
    }
    item_result<put_outcome> result = item_fail(item_errc::protocol_error);
    if (q.key) {
        mutable_put put;
        put.key = *ed25519::public_key::from_bytes(*q.key);  // the decoder checked the sizes
        put.sig = *ed25519::signature::from_bytes(*q.signature);
        put.salt = as_bytes(q.salt);
        put.seq = *q.seq;
        put.value = as_bytes(*q.value);
        put.cas = q.cas;
        result = item_store_.put_mutable(now, put);
    } else {
        const byte_view value = as_bytes(*q.value);
        result = item_store_.put_immutable(now, immutable_target(value), value);
    }
    if (!result) {
        ++stats_.bad_items;
        send_error(from, message.transaction_id, result.error().krpc_code(),
                   std::string(result.error().message()));
        return false;
    }
    return true;
}

}  // namespace hyphae::dht
