#include "hyphae/proto/dht/dht_node.hpp"

#include <algorithm>

#include "hyphae/proto/dht/node_id_policy.hpp"

namespace hyphae::dht {

namespace {

// The config with its umbrella switches applied.
dht_config resolved(dht_config config) {
    if (config.bep42_checks) {
        config.table.require_verified = true;
        config.enforce_node_id = true;
    }
    return config;
}

std::string tid_bytes(std::uint16_t tid) {
    return {static_cast<char>(tid >> 8), static_cast<char>(tid & 0xff)};
}

}  // namespace

std::string_view to_string(lookup_kind kind) {
    switch (kind) {
        case lookup_kind::bootstrap:
            return "bootstrap";
        case lookup_kind::refresh:
            return "refresh";
        case lookup_kind::find_node:
            return "find_node";
        case lookup_kind::get_peers:
            return "get_peers";
        case lookup_kind::announce:
            return "announce";
        case lookup_kind::get_item:
            return "get";
        case lookup_kind::put_item:
            return "put";
        case lookup_kind::sample:
            return "sample_infohashes";
    }
    return "unknown";
}

dht_node::dht_node(const dht_config& config, std::uint64_t seed, time_point now)
    : config_(resolved(config)),
      rng_(seed),
      id_(config.id ? *config.id : random_node_id(rng_)),
      table_(id_, config_.table, now),
      tokens_(rng_),
      peer_store_(config.peers, keyed_hash(rng_)),
      item_store_(config.items, keyed_hash(rng_)),
      rtt_(config.rtt),
      limiter_(config.query_rate, config.query_burst, config.rate_limited_addresses_max, keyed_hash(rng_)),
      next_tid_(static_cast<std::uint16_t>(rng_())),
      next_maintenance_(now) {}

void dht_node::add_bootstrap(const endpoint& ep) {
    if (std::find(config_.bootstrap.begin(), config_.bootstrap.end(), ep) == config_.bootstrap.end()) {
        config_.bootstrap.push_back(ep);
    }
}

void dht_node::add_bootstrap_name(time_point now, std::string host, std::uint16_t port) {
    (void)now;
    if (resolving_.size() >= config_.bootstrap_names_max) {
        return;
    }
    const std::uint64_t id = next_resolve_++;
    resolving_.push_back(id);
    resolves_.push_back(resolve_query{id, std::move(host), port});
}

std::optional<resolve_query> dht_node::poll_resolve() {
    if (resolves_.empty()) {
        return std::nullopt;
    }
    resolve_query q = std::move(resolves_.front());
    resolves_.erase(resolves_.begin());
    return q;
}

void dht_node::on_resolved(time_point now, std::uint64_t query, const resolve_result& result) {
    if (std::erase(resolving_, query) == 0 || !result) {
        return;  // unknown, or the name did not resolve: the other bootstrap nodes may do
    }
    bool added = false;
    for (const endpoint& ep : *result) {
        if (ep.address.is_v4()) {
            add_bootstrap(ep);
            added = true;
        }
    }
    if (added && table_.size() < config_.lookup.result_size) {
        bootstrap(now);
    }
}

void dht_node::add_contacts(time_point now, const std::vector<node_contact>& contacts) {
    for (const auto& c : contacts) {
        if (c.id != id_) {
            table_.heard_of(now, c, verify_node_id(c.id, c.ep.address));
        }
    }
}

void dht_node::add_answered_contact(time_point now, const node_contact& contact, duration rtt) {
    if (contact.id != id_) {
        table_.heard_response(now, contact, rtt, verify_node_id(contact.id, contact.ep.address));
    }
}

// ---- sending ----

void dht_node::send(const endpoint& to, const krpc_message& message) {
    if (transmits_.size() - transmit_head_ >= config_.transmits_queued_max) {
        ++stats_.dropped_transmits;
        return;
    }
    // One encode buffer per thread, not per node: a simulation holds a million nodes.
    thread_local std::string scratch;
    scratch.clear();
    encode_krpc(scratch, message);
    dht_transmit out{to, byte_buffer(scratch.begin(), scratch.end())};
    ++stats_.datagrams_out;
    stats_.bytes_out += out.bytes.size();
    transmits_.push_back(std::move(out));
}

void dht_node::send_error(const endpoint& to, const std::string& tid, int code, std::string text) {
    krpc_message m;
    m.type = krpc_message::kind::error;
    m.transaction_id = tid;
    m.version = config_.version;
    m.error = {code, std::move(text)};
    ++stats_.errors_sent;
    send(to, m);
}

bool dht_node::send_query(time_point now, const node_contact& to, bool id_known, krpc_query query,
                          lookup_id owner, bool store_phase) {
    if (requests_.size() >= config_.requests_in_flight_max) {
        ++stats_.dropped_requests;
        return false;
    }
    std::uint16_t tid = next_tid_++;
    while (requests_.count(tid) != 0) {
        tid = next_tid_++;
    }
    query.id = id_;
    query.read_only = config_.read_only;
    request req;
    req.to = to;
    req.id_known = id_known;
    req.method = query.method;
    req.lookup = owner;
    req.store_phase = store_phase;
    req.sent = now;
    req.soft_deadline = now + rtt_.timeout();
    req.hard_deadline = now + std::max(config_.hard_timeout, rtt_.timeout());
    requests_.emplace(tid, req);
    krpc_message m;
    m.type = krpc_message::kind::query;
    m.transaction_id = tid_bytes(tid);
    m.version = config_.version;
    m.query = std::move(query);
    send(to.ep, m);
    return true;
}

// ---- inputs ----

void dht_node::on_datagram(time_point now, const endpoint& from_raw, byte_view bytes) {
    const endpoint from{from_raw.address.unmapped(), from_raw.port};
    ++stats_.datagrams_in;
    stats_.bytes_in += bytes.size();
    auto message = decode_krpc(bytes);
    if (!message) {
        ++stats_.malformed;
        const auto& e = message.error();
        if (e.is_query && !e.transaction_id.empty() && limiter_.allow(now, from.address)) {
            send_error(from, e.transaction_id, krpc_errc::protocol, e.message);
        }
        return;
    }
    switch (message->type) {
        case krpc_message::kind::query:
            on_query(now, from, *message);
            break;
        case krpc_message::kind::response:
            on_response(now, from, *message);
            break;
        case krpc_message::kind::error:
            on_error_reply(now, from, *message);
            break;
    }
    sweep_lookups();
}

std::optional<dht_node::request> dht_node::take_request(const endpoint& from, const std::string& tid_bytes) {
    if (tid_bytes.size() != 2) {
        ++stats_.unexpected;
        return std::nullopt;
    }
    const auto tid = static_cast<std::uint16_t>(static_cast<std::uint8_t>(tid_bytes[0]) << 8 |
                                                static_cast<std::uint8_t>(tid_bytes[1]));
    auto it = requests_.find(tid);
    if (it == requests_.end() || it->second.to.ep != from) {
        ++stats_.unexpected;
        return std::nullopt;
    }
    request req = it->second;
    requests_.erase(it);
    return req;
}

void dht_node::fail_request(time_point now, const request& req) {
    if (lookup* l = find_lookup(req.lookup)) {
        lookup_failed(now, *l, req, true);
    }
}

void dht_node::on_response(time_point now, const endpoint& from, krpc_message& message) {
    ++stats_.responses_in;
    auto taken = take_request(from, message.transaction_id);
    if (!taken) {
        return;
    }
    request req = *taken;
    const krpc_response& r = message.response;
    if (req.id_known && r.id != req.to.id) {
        // Another id at a known node's address: not believed, and the query counts as failed.
        ++stats_.id_mismatch;
        table_.heard_failure(now, req.to);
        fail_request(now, req);
        return;
    }
    req.to.id = r.id;
    if (r.id == id_) {
        ++stats_.unexpected;  // a node using our own id
        fail_request(now, req);
        return;
    }
    const duration rtt = now - req.sent;
    rtt_.sample(rtt);
    if (message.requester) {
        note_external_address(now, *message.requester);
    }
    table_.heard_response(now, req.to, rtt, verify_node_id(r.id, from.address));
    if (lookup* l = find_lookup(req.lookup)) {
        lookup_answered(now, *l, req, r);
    }
}

void dht_node::on_error_reply(time_point now, const endpoint& from, const krpc_message& message) {
    ++stats_.errors_in;
    // It is alive but refused: the lookup moves on without it; the table is not told.
    if (auto req = take_request(from, message.transaction_id)) {
        fail_request(now, *req);
    }
}

void dht_node::note_external_address(time_point now, const endpoint& seen) {
    // Votes from answers; the address most nodes name wins. Bounded: a few candidates at most.
    auto vote = std::find_if(address_votes_.begin(), address_votes_.end(),
                             [&](const auto& v) { return v.first == seen; });
    if (vote == address_votes_.end()) {
        if (address_votes_.size() >= 8) {
            auto weakest = std::min_element(address_votes_.begin(), address_votes_.end(),
                                            [](const auto& a, const auto& b) { return a.second < b.second; });
            *weakest = {seen, 0};
            vote = weakest;
        } else {
            address_votes_.emplace_back(seen, 0);
            vote = address_votes_.end() - 1;
        }
    }
    vote->second = std::min(vote->second + 1, 1 << 20);
    const auto best = std::max_element(address_votes_.begin(), address_votes_.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
    if (best->second >= 3 && external_ != best->first) {
        external_ = best->first;
        external_address notice{best->first, std::nullopt};
        if (config_.derive_node_id && !verify_node_id(id_, external_->address)) {
            notice.new_id = make_node_id(external_->address, rng_);
        }
        emit(notice);
        if (notice.new_id) {
            adopt_id(now, *notice.new_id);
        }
    }
}

void dht_node::adopt_id(time_point now, const node_id& id) {
    // The table is built around our id: build it again, keep what we knew as unconfirmed
    // contacts, and look up the new neighbourhood.
    const auto known = table_.closest(id, table_.size() + table_.replacement_count());
    id_ = id;
    table_ = routing_table(id_, config_.table, now);
    for (const auto& c : known) {
        table_.heard_of(now, c, verify_node_id(c.id, c.ep.address));
    }
    launch(now, lookup_kind::bootstrap, id_, nullptr);
}

void dht_node::expire_requests(time_point now) {
    // Most wake-ups expire nothing: look before allocating.
    if (std::none_of(requests_.begin(), requests_.end(), [&](const auto& r) {
            return r.second.hard_deadline <= now || (!r.second.slow && r.second.soft_deadline <= now);
        })) {
        return;
    }
    std::vector<std::uint16_t> hard;
    std::vector<std::uint16_t> soft;
    for (auto& [tid, req] : requests_) {
        if (req.hard_deadline <= now) {
            hard.push_back(tid);
        } else if (!req.slow && req.soft_deadline <= now) {
            soft.push_back(tid);
        }
    }
    // Sorted so that the order of outputs does not depend on the hash table's.
    std::sort(hard.begin(), hard.end());
    std::sort(soft.begin(), soft.end());
    for (auto tid : soft) {
        request& req = requests_.at(tid);
        const request copy = req;  // not yet slow: lookup_failed counts this timeout once
        req.slow = true;
        if (lookup* l = find_lookup(copy.lookup)) {
            lookup_failed(now, *l, copy, false);
        }
    }
    for (auto tid : hard) {
        auto it = requests_.find(tid);
        if (it == requests_.end()) {
            continue;
        }
        const request req = it->second;
        requests_.erase(it);
        ++stats_.timeouts;
        if (req.id_known) {
            table_.heard_failure(now, req.to);
        }
        if (lookup* l = find_lookup(req.lookup)) {
            lookup_failed(now, *l, req, true);
        }
    }
}

bool dht_node::wants_bootstrap() const {
    return !config_.bootstrap.empty() && !table_.has_at_least(config_.lookup.result_size) &&
           std::none_of(lookups_.begin(), lookups_.end(),
                        [](const lookup& l) { return l.kind == lookup_kind::bootstrap && !l.finished; });
}

void dht_node::on_timer(time_point now) {
    expire_requests(now);
    // Lookups that found no free request slot when they last advanced.
    for (std::size_t i = 0; i < lookups_.size(); ++i) {
        advance(now, lookups_[i]);
    }
    if (wants_bootstrap() && now >= next_bootstrap_) {
        bootstrap(now);
    }
    if (now >= next_maintenance_) {
        maintain(now);
        next_maintenance_ = now + config_.maintenance_interval;
    }
    sweep_lookups();
}

void dht_node::send_pings(time_point now) {
    for (std::size_t i = 0;
         i < config_.pings_per_tick_max && requests_.size() < config_.requests_in_flight_max; ++i) {
        auto contact = table_.next_ping(now);
        if (!contact) {
            break;
        }
        krpc_query ping;
        ping.method = krpc_method::ping;
        send_query(now, *contact, true, ping, 0, false);
    }
}

void dht_node::maintain(time_point now) {
    send_pings(now);
    const bool running_maintenance = std::any_of(lookups_.begin(), lookups_.end(), [](const lookup& l) {
        return l.kind == lookup_kind::bootstrap || l.kind == lookup_kind::refresh;
    });
    if (!running_maintenance && table_.has_at_least(config_.lookup.result_size)) {
        bootstrap_backoff_ = std::chrono::seconds(1);
        if (auto target = table_.next_refresh_target(now, rng_)) {
            launch(now, lookup_kind::refresh, *target, nullptr);
        }
    }
    peer_store_.expire(now);
    item_store_.expire(now);
    limiter_.prune(now);
}

// ---- outputs ----

void dht_node::emit(dht_event event) {
    if (events_.size() - event_head_ >= config_.events_queued_max) {
        ++stats_.dropped_events;
        return;
    }
    events_.push_back(std::move(event));
}

std::optional<transmit> dht_node::poll_transmit() {
    auto d = poll_datagram();
    if (!d) {
        return std::nullopt;
    }
    return transmit{std::move(*d)};
}

std::optional<dht_transmit> dht_node::poll_datagram() {
    if (transmit_head_ == transmits_.size()) {
        if (!transmits_.empty()) {
            transmits_.clear();
            transmit_head_ = 0;
        }
        return std::nullopt;
    }
    dht_transmit out = std::move(transmits_[transmit_head_++]);
    if (transmit_head_ == transmits_.size()) {
        transmits_.clear();
        transmit_head_ = 0;
    }
    return out;
}

std::optional<dht_event> dht_node::poll_event() {
    if (event_head_ == events_.size()) {
        return std::nullopt;
    }
    dht_event out = std::move(events_[event_head_++]);
    if (event_head_ == events_.size()) {
        events_.clear();
        event_head_ = 0;
    }
    return out;
}

std::optional<time_point> dht_node::next_timer() const {
    time_point next = next_maintenance_;
    if (wants_bootstrap()) {
        next = std::min(next, next_bootstrap_);
    }
    for (const auto& [tid, req] : requests_) {
        next = std::min(next, req.slow ? req.hard_deadline : req.soft_deadline);
    }
    return next;
}

std::string dht_node::save_table() const {
    return table_.save();
}

}  // namespace hyphae::dht
