// dht_node: lookups for our owner (find_node, get_peers, announce, BEP 44 get and put, BEP 51).

#include <algorithm>

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/proto/dht/answer_check.hpp"
#include "hyphae/proto/dht/dht_node.hpp"
#include "hyphae/proto/dht/item.hpp"
#include "hyphae/proto/dht/node_id_policy.hpp"

namespace hyphae::dht {

dht_node::lookup* dht_node::find_lookup(lookup_id id) {
    if (id == 0) {
        return nullptr;
    }
    for (auto& l : lookups_) {
        if (l.id == id && !l.finished) {
            return &l;
        }
    }
    return nullptr;
}

lookup_id dht_node::start_lookup(time_point now, lookup_kind kind, const node_id& target) {
    if (lookups_.size() >= config_.lookups_max) {
        return 0;
    }
    const lookup_id id = next_lookup_++;
    if (next_lookup_ == 0) {
        next_lookup_ = 1;
    }
    lookups_.emplace_back(id, kind, target, config_.lookup, now);
    lookup& l = lookups_.back();
    const auto seeds = table_.closest(target, seed_count(config_.lookup));
    for (const auto& c : seeds) {
        l.search.add(c, nullptr);
    }
    // A table that cannot fill the window yet: ask the bootstrap nodes too, all at once; their
    // answers merge into the one candidate list (a silent or lying one does not stop the others).
    if (seeds.size() < config_.lookup.result_size) {
        const krpc_query query = query_for(l);
        for (const auto& ep : config_.bootstrap) {
            const bool known =
                std::any_of(seeds.begin(), seeds.end(), [&](const node_contact& c) { return c.ep == ep; });
            if (!known && send_query(now, node_contact{node_id{}, ep}, false, query, id, false)) {
                ++l.seed_queries;
                ++l.messages;
            }
        }
    }
    return id;
}

lookup_id dht_node::launch(time_point now, lookup_kind kind, const node_id& target,
                           const std::function<void(lookup&)>& setup) {
    const lookup_id id = start_lookup(now, kind, target);
    if (lookup* l = find_lookup(id)) {
        if (setup) {
            setup(*l);
        }
        advance(now, *l);
    }
    sweep_lookups();
    return id;
}

lookup_id dht_node::bootstrap(time_point now) {
    next_bootstrap_ = now + bootstrap_backoff_;
    bootstrap_backoff_ = std::min(bootstrap_backoff_ * 2, config_.bootstrap_retry);
    return launch(now, lookup_kind::bootstrap, id_, nullptr);
}

lookup_id dht_node::find_node(time_point now, const node_id& target) {
    return launch(now, lookup_kind::find_node, target, nullptr);
}

lookup_id dht_node::get_peers(time_point now, const id160& info_hash) {
    return launch(now, lookup_kind::get_peers, info_hash, nullptr);
}

lookup_id dht_node::announce(time_point now, const id160& info_hash, std::uint16_t port, bool seed) {
    return launch(now, lookup_kind::announce, info_hash, [&](lookup& l) {
        l.port = port;
        l.seed = seed;
    });
}

lookup_id dht_node::get_immutable(time_point now, const node_id& target) {
    return launch(now, lookup_kind::get_item, target, nullptr);
}

lookup_id dht_node::get_mutable(time_point now, const ed25519::public_key& key, std::string salt) {
    const node_id target = mutable_target(key, as_bytes(salt));
    return launch(now, lookup_kind::get_item, target, [&](lookup& l) {
        l.item_key = key;
        l.salt = std::move(salt);
    });
}

lookup_id dht_node::put_immutable(time_point now, std::string bencoded_value) {
    if (!bdecode(as_bytes(bencoded_value))) {
        return 0;  // it goes into messages as it is: it must be one bencoded value
    }
    const node_id target = immutable_target(as_bytes(bencoded_value));
    return launch(now, lookup_kind::put_item, target,
                  [&](lookup& l) { l.item_value = std::move(bencoded_value); });
}

lookup_id dht_node::put_mutable(time_point now, const ed25519::secret_key& secret, std::string salt,
                                std::string bencoded_value, std::optional<std::int64_t> seq) {
    if (!bdecode(as_bytes(bencoded_value))) {
        return 0;
    }
    const ed25519::keypair keys = ed25519::make_keypair(secret);
    const node_id target = mutable_target(keys.key, as_bytes(salt));
    return launch(now, lookup_kind::put_item, target, [&](lookup& l) {
        l.item_value = std::move(bencoded_value);
        l.keys = keys;
        l.item_key = keys.key;
        l.salt = std::move(salt);
        l.put_seq = seq;
    });
}

lookup_id dht_node::sample_infohashes(time_point now, const node_id& target) {
    return launch(now, lookup_kind::sample, target, nullptr);
}

void dht_node::cancel(lookup_id id) {
    if (lookup* l = find_lookup(id)) {
        l->finished = true;
    }
    sweep_lookups();
}

krpc_query dht_node::query_for(const lookup& l) const {
    krpc_query q;
    switch (l.kind) {
        case lookup_kind::bootstrap:
        case lookup_kind::refresh:
        case lookup_kind::find_node:
            q.method = krpc_method::find_node;
            q.target = l.search.target();
            break;
        case lookup_kind::get_peers:
        case lookup_kind::announce:
            q.method = krpc_method::get_peers;
            q.info_hash = l.search.target();
            break;
        case lookup_kind::get_item:
        case lookup_kind::put_item:
            q.method = krpc_method::get;
            q.target = l.search.target();
            break;
        case lookup_kind::sample:
            q.method = krpc_method::sample_infohashes;
            q.target = l.search.target();
            break;
    }
    return q;
}

void dht_node::advance(time_point now, lookup& l) {
    if (l.finished || l.storing) {
        return;
    }
    const krpc_query query = query_for(l);
    // Out of request slots: leave the candidates fresh; on_timer advances the lookup again.
    while (requests_.size() < config_.requests_in_flight_max) {
        auto next = l.search.next_query();
        if (!next) {
            break;
        }
        send_query(now, *next, true, query, l.id, false);
        ++l.messages;
    }
    if (!l.search.done() || l.seed_queries > 0) {
        return;
    }
    if (l.kind == lookup_kind::announce || l.kind == lookup_kind::put_item) {
        start_store_phase(now, l);
    } else {
        finish(now, l);
    }
}

bool dht_node::check_item(const lookup& l, const krpc_response& r) const {
    if (!r.value || r.value->size() > item_value_size_max) {
        return false;
    }
    if (!l.item_key) {
        return valid_immutable_reply(l.search.target(), as_bytes(*r.value));
    }
    const auto key = r.key ? ed25519::public_key::from_bytes(*r.key) : std::nullopt;
    const auto sig = r.signature ? ed25519::signature::from_bytes(*r.signature) : std::nullopt;
    if (!key || *key != *l.item_key || !r.seq || !sig) {
        return false;
    }
    return valid_mutable_reply(l.search.target(), as_bytes(l.salt), *key, *r.seq, *sig, as_bytes(*r.value));
}

void dht_node::lookup_answered(time_point now, lookup& l, const request& req, const krpc_response& r) {
    ++l.answers;
    if (req.store_phase) {
        l.store_pending -= l.store_pending > 0 ? 1 : 0;
        ++l.stored;
        if (l.store_pending == 0) {
            finish(now, l);
        }
        return;
    }
    // BEP 42: with enforcement on, a node whose id does not fit its address gets no say in where
    // we store.
    std::string token = r.token.value_or("");
    if (config_.enforce_node_id && !verify_node_id(r.id, req.to.ep.address)) {  // bep42_checks sets it
        token.clear();
    }
    // Others list us among the closest: we are no candidate of our own lookup (check_answer
    // always drops our id).
    auto checked =
        check_answer(l.search.target(), id_, req.to, req.to.ep.address.is_v6() ? r.nodes6 : r.nodes,
                     {config_.lookup.check_answers, config_.bep42_checks});
    stats_.answers_filtered += checked.dropped;
    stats_.unverified_contacts += checked.unverified;
    std::vector<node_contact> nodes = std::move(checked.nodes);
    if (!req.id_known) {
        if (!req.slow) {
            l.seed_queries -= l.seed_queries > 0 ? 1 : 0;
        }
        l.search.seed_responded(req.to, nodes, std::move(token));
    } else {
        l.search.on_response(req.to.id, nodes, std::move(token));
    }
    if ((l.kind == lookup_kind::get_peers || l.kind == lookup_kind::announce) && !r.values.empty()) {
        peers_found found{l.id, {}};
        for (const auto& peer : r.values) {
            if (std::find(l.peers.begin(), l.peers.end(), peer) == l.peers.end() &&
                l.peers.size() < config_.peers_per_answer_max * 20) {
                l.peers.push_back(peer);
                found.peers.push_back(peer);
            }
        }
        if (!found.peers.empty()) {
            emit(std::move(found));
        }
    }
    if ((l.kind == lookup_kind::get_item || l.kind == lookup_kind::put_item) && r.value) {
        if (!check_item(l, r)) {
            ++stats_.bad_items;
        } else if (!l.found_item || (r.seq && (!l.best_seq || *r.seq > *l.best_seq))) {
            l.found_item = true;
            l.best_seq = r.seq;
            if (l.kind == lookup_kind::get_item) {
                emit(item_found{l.id, l.search.target(), *r.value, r.seq, l.item_key});
                if (!l.item_key) {
                    finish(now, l);  // an immutable item is the same wherever it is found
                    return;
                }
            }
        }
    } else if (l.kind == lookup_kind::put_item && r.seq && l.item_key &&
               (!l.best_seq || *r.seq > *l.best_seq)) {
        l.best_seq = r.seq;  // a holder that already has this seq sends no value
    }
    if (l.kind == lookup_kind::sample && r.samples) {
        emit(samples_found{l.id, *r.samples, r.num.value_or(0)});
    }
    advance(now, l);
}

void dht_node::lookup_failed(time_point now, lookup& l, const request& req, bool hard) {
    if (req.store_phase) {
        if (hard) {
            l.store_pending -= l.store_pending > 0 ? 1 : 0;
            if (l.store_pending == 0) {
                finish(now, l);
            }
        }
        return;
    }
    if (!req.slow) {
        ++l.timeouts;
    }
    if (!req.id_known) {
        if (!req.slow) {
            l.seed_queries -= l.seed_queries > 0 ? 1 : 0;
        }
    } else if (hard) {
        l.search.on_failure(req.to.id);
    } else {
        l.search.on_slow(req.to.id);
    }
    advance(now, l);
}

void dht_node::start_store_phase(time_point now, lookup& l) {
    l.storing = true;
    krpc_query store;
    if (l.kind == lookup_kind::announce) {
        store.method = krpc_method::announce_peer;
        store.info_hash = l.search.target();
        store.implied_port = l.port == 0;
        store.port = l.port == 0 ? std::optional<std::uint16_t>(1) : l.port;
        store.seed = l.seed;
    } else {
        store.method = krpc_method::put;
        store.value = l.item_value;
        if (l.keys) {
            const std::int64_t seq = l.put_seq ? *l.put_seq : (l.best_seq ? *l.best_seq + 1 : 1);
            auto item = make_mutable_item(*l.keys, l.salt, seq, l.item_value);
            if (!item) {
                finish(now, l);  // the caller's value or salt breaks BEP 44's rules: nothing to put
                return;
            }
            l.best_seq = seq;
            store.key = std::string(item->key.chars());
            store.salt = l.salt;
            store.seq = seq;
            store.signature = std::string(item->sig.chars());
        }
    }
    for (const auto* c : l.search.closest_responded()) {
        if (c->token.empty()) {
            continue;
        }
        store.token = c->token;
        if (send_query(now, c->contact, true, store, l.id, true)) {
            ++l.store_pending;
            ++l.messages;
        }
    }
    if (l.store_pending == 0) {
        finish(now, l);
    }
}

void dht_node::finish(time_point now, lookup& l) {
    if (l.finished) {
        return;
    }
    l.finished = true;
    for (const auto& liar : l.search.bad_referrers()) {
        table_.heard_failure(now, liar);
    }
    lookup_done done;
    done.id = l.id;
    done.kind = l.kind;
    done.stats.queries = l.messages;
    done.stats.responses = l.answers;
    done.stats.timeouts = l.timeouts;
    done.stats.hops = l.search.hops();
    done.stats.elapsed = now - l.started;
    done.peers = l.peers.size();
    done.stored = l.stored;
    done.found_item = l.found_item;
    if (l.kind == lookup_kind::put_item && l.keys) {
        done.seq = l.best_seq;
    }
    for (const auto* c : l.search.closest_responded()) {
        done.closest.push_back(c->contact);
    }
    // Maintenance lookups are the node's own business: nobody waits for their events.
    if (l.kind != lookup_kind::refresh) {
        emit(std::move(done));
    }
}

void dht_node::sweep_lookups() {
    lookups_.erase(
        std::remove_if(lookups_.begin(), lookups_.end(), [](const lookup& l) { return l.finished; }),
        lookups_.end());
}

}  // namespace hyphae::dht
