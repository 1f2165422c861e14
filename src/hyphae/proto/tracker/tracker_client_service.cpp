#include "hyphae/proto/tracker/tracker_client_service.hpp"

#include <algorithm>

#include "hyphae/core/http/http_format.hpp"

namespace hyphae::tracker {
namespace {

std::uint32_t read_be32(byte_view bytes, std::size_t at) {
    return std::uint32_t{bytes[at]} << 24 | std::uint32_t{bytes[at + 1]} << 16 |
           std::uint32_t{bytes[at + 2]} << 8 | std::uint32_t{bytes[at + 3]};
}

// DNS names ignore case: one cache entry for "Tracker.Example" and "tracker.example".
std::string name_key(std::string_view host) {
    std::string out(host);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    return out;
}

bool same_endpoint(const endpoint& a, const endpoint& b) {
    return a.port == b.port && a.address.unmapped() == b.address.unmapped();
}

tracker_client_config raised(tracker_client_config config) {
    // One input to a client makes at most a release and a request per tracker (stop() with every
    // tracker started) plus a few: all of it must reach us, or an exchange would never end.
    config.requests_queued_max = std::max(config.requests_queued_max, 2 * config.trackers_max + 8);
    return config;
}

}  // namespace

tracker_client_service::tracker_client_service(const tracker_client_service_config& config,
                                               std::uint64_t seed)
    : config_(config), rng_(seed) {
    config_.client = raised(config_.client);
    config_.addresses_per_name_max = std::max<std::size_t>(config_.addresses_per_name_max, 1);
}

// ---- claims

bool tracker_client_service::claims_datagram(byte_view bytes) const {
    if (bytes.size() < 8 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0 || bytes[3] > 3) {
        return false;
    }
    return transactions_.contains(read_be32(bytes, 4));
}

// ---- commands

tracker_client_service::torrent* tracker_client_service::find(std::uint64_t key) {
    auto it = torrents_.find(key);
    return it == torrents_.end() ? nullptr : &it->second;
}

const tracker_client* tracker_client_service::client(std::uint64_t key) const {
    auto it = torrents_.find(key);
    return it == torrents_.end() ? nullptr : &it->second.client;
}

bool tracker_client_service::add(time_point now, std::uint64_t key,
                                 std::vector<std::vector<std::string>> tiers, sha1_hash info_hash,
                                 id160 peer_id, std::uint16_t listen_port) {
    if (torrents_.contains(key) || torrents_.size() >= config_.torrents_max) {
        return false;
    }
    timer_heap::key slot = 0;
    if (free_slots_.empty()) {
        slot = static_cast<timer_heap::key>(slot_keys_.size());
        slot_keys_.push_back(key);
    } else {
        slot = free_slots_.back();
        free_slots_.pop_back();
        slot_keys_[slot] = key;
    }
    torrents_.try_emplace(key, torrent{tracker_client(std::move(tiers), info_hash, peer_id, listen_port,
                                                      config_.client, rng_()),
                                       slot,
                                       {},
                                       false});
    touch(key);
    settle(now);
    return true;
}

void tracker_client_service::remove(time_point now, std::uint64_t key) {
    torrent* t = find(key);
    if (t == nullptr) {
        return;
    }
    std::vector<std::uint64_t> ids;
    ids.reserve(t->exchanges.size());
    for (const auto& [request, id] : t->exchanges) {
        ids.push_back(id);
    }
    for (const std::uint64_t id : ids) {
        end(id);
    }
    timers_.erase(t->slot);
    free_slots_.push_back(t->slot);
    torrents_.erase(key);
    // A torrent added later under the same key must not inherit these.
    events_.remove_if([key](const tracker_client_event& e) { return e.key == key; });
    settle(now);
}

void tracker_client_service::start(time_point now, std::uint64_t key, tracker_stats stats) {
    if (torrent* t = find(key)) {
        t->client.start(now, stats);
        touch(key);
        settle(now);
    }
}

void tracker_client_service::completed(time_point now, std::uint64_t key, tracker_stats stats) {
    if (torrent* t = find(key)) {
        t->client.completed(now, stats);
        touch(key);
        settle(now);
    }
}

void tracker_client_service::stop(time_point now, std::uint64_t key, tracker_stats stats) {
    if (torrent* t = find(key)) {
        t->client.stop(now, stats);
        touch(key);
        settle(now);
    }
}

void tracker_client_service::set_stats(std::uint64_t key, tracker_stats stats) {
    if (torrent* t = find(key)) {
        t->client.set_stats(stats);
    }
}

void tracker_client_service::scrape(time_point now, std::uint64_t key) {
    if (torrent* t = find(key)) {
        t->client.scrape(now);
        touch(key);
        settle(now);
    }
}

void tracker_client_service::set_listen_port(std::uint16_t port) {
    for (auto& [key, t] : torrents_) {
        t.client.set_listen_port(port);
    }
}

// ---- draining the clients

void tracker_client_service::touch(std::uint64_t key) {
    torrent* t = find(key);
    if (t != nullptr && !t->dirty) {
        t->dirty = true;
        dirty_.push_back(key);
    }
}

void tracker_client_service::settle(time_point now) {
    for (;;) {
        if (under_way_ < config_.exchanges_max && !waiting_.empty()) {
            const std::uint64_t id = *waiting_.begin();
            waiting_.erase(waiting_.begin());
            begin(now, id);
        } else if (!dirty_.empty()) {
            const std::uint64_t key = dirty_.back();
            dirty_.pop_back();
            drain(now, key);
        } else {
            return;
        }
    }
}

void tracker_client_service::drain(time_point now, std::uint64_t key) {
    torrent* t = find(key);
    if (t == nullptr) {
        return;
    }
    t->dirty = false;
    while (auto request = t->client.poll_request()) {
        handle(now, key, *t, std::move(*request));
    }
    while (auto e = t->client.poll_event()) {
        if (events_.size() >= config_.events_queued_max) {
            events_.pop();
            ++counters_.events_dropped;
        }
        events_.push(tracker_client_event{key, std::move(*e)});
    }
    timers_.set(t->slot, t->client.next_timer());
}

void tracker_client_service::handle(time_point now, std::uint64_t key, torrent& t, tracker_request request) {
    const auto known = t.exchanges.find(request.request_id);
    if (std::holds_alternative<request_release>(request.action)) {
        if (known != t.exchanges.end()) {
            end(known->second);
        }
        return;
    }
    if (auto* datagram = std::get_if<udp_datagram>(&request.action); datagram && known != t.exchanges.end()) {
        // The next message of an exchange under way (a retransmission, or the announce after
        // the connect): same address, maybe a new transaction id.
        const std::uint64_t id = known->second;
        exchange& ex = exchanges_.at(id);
        note_transaction(id, ex, datagram->payload);
        if (ex.at == stage::ready) {
            send_datagram(ex, std::move(datagram->payload));
        } else {
            ex.unsent = std::move(datagram->payload);
        }
        return;
    }
    if (known != t.exchanges.end()) {
        return;  // a client asks once per HTTP exchange
    }
    const std::uint64_t id = next_exchange_++;
    exchange ex;
    ex.key = key;
    ex.request = request.request_id;
    if (auto* get = std::get_if<http_get>(&request.action)) {
        auto text = http::format_request(
            "GET", get->host_header, get->target,
            {{"User-Agent", config_.user_agent}, {"Connection", "close"}, {"Accept-Encoding", "identity"}});
        if (!text) {
            t.client.on_request_failed(now, request.request_id, text.error().message());
            touch(key);
            return;
        }
        ex.http = true;
        ex.host = get->host;
        ex.port = get->port;
        ex.request_text = std::move(*text);
    } else {
        auto& datagram = std::get<udp_datagram>(request.action);
        ex.host = datagram.host;
        ex.port = datagram.port;
        ex.unsent = std::move(datagram.payload);
    }
    const std::size_t queued = under_way_ + waiting_.size();
    if (queued >= config_.exchanges_max + config_.exchanges_waiting_max) {
        ++counters_.exchanges_refused;
        t.client.on_request_failed(
            now, request.request_id,
            "too many tracker exchanges under way (" + std::to_string(under_way_) + ")");
        touch(key);
        return;
    }
    ++counters_.exchanges;
    exchange& placed = exchanges_.emplace(id, std::move(ex)).first->second;
    t.exchanges.emplace(request.request_id, id);
    if (placed.unsent) {
        note_transaction(id, placed, *placed.unsent);
    }
    if (queued >= config_.exchanges_max) {
        ++counters_.exchanges_waited;
    }
    waiting_.insert(id);  // settle() begins it, in turn
}

// ---- an exchange's way: name, address, connection

void tracker_client_service::begin(time_point now, std::uint64_t id) {
    exchange& ex = exchanges_.at(id);
    ex.at = stage::resolving;
    ++under_way_;
    resolve(now, id);
}

void tracker_client_service::resolve(time_point now, std::uint64_t id) {
    exchange& ex = exchanges_.at(id);
    if (auto literal = ip_address::parse(ex.host)) {
        resolved(now, id, cached_name{{endpoint{*literal, ex.port}}, {}, now});
        return;
    }
    const std::string name = name_key(ex.host);
    if (auto it = names_.find(name); it != names_.end()) {
        if (now < it->second.expires) {
            ++counters_.names_cached;
            const cached_name entry = it->second;
            resolved(now, id, entry);
            return;
        }
        names_.erase(it);
    }
    if (auto it = lookup_of_name_.find(name); it != lookup_of_name_.end()) {
        lookups_.at(it->second).waiting.push_back(id);
        return;
    }
    if (lookups_.size() >= config_.lookups_max) {
        ++counters_.lookups_refused;
        fail(now, id, "cannot resolve " + ex.host + ": too many look-ups under way");
        return;
    }
    const std::uint64_t query = next_query_++;
    ++counters_.lookups;
    lookups_.emplace(query, lookup{name, now, {id}});
    lookup_of_name_.emplace(name, query);
    resolves_.push(resolve_query{query, ex.host, ex.port});
}

void tracker_client_service::on_resolved(time_point now, std::uint64_t query, const resolve_result& result) {
    auto it = lookups_.find(query);
    if (it == lookups_.end()) {
        return;
    }
    lookup done = std::move(it->second);
    lookups_.erase(it);
    lookup_of_name_.erase(done.name);
    cached_name entry;
    if (result && !result->empty()) {
        const std::size_t n = std::min(result->size(), config_.addresses_per_name_max);
        entry.addresses.assign(result->begin(), result->begin() + static_cast<std::ptrdiff_t>(n));
        entry.expires = now + config_.dns_ttl;
    } else {
        ++counters_.lookups_failed;
        entry.error = result ? "no address" : result.error().message();
        entry.expires = now + config_.dns_failure_ttl;
    }
    cache(done.name, entry);
    for (const std::uint64_t id : done.waiting) {
        auto ex = exchanges_.find(id);
        if (ex != exchanges_.end() && ex->second.at == stage::resolving) {
            resolved(now, id, entry);
        }
    }
    settle(now);
}

void tracker_client_service::cache(const std::string& name, cached_name entry) {
    if (config_.dns_cache_max == 0) {
        return;
    }
    if (!names_.contains(name) && names_.size() >= config_.dns_cache_max) {
        // Full: the entry that would expire first goes (an expired one, if any).
        auto oldest = std::min_element(names_.begin(), names_.end(), [](const auto& a, const auto& b) {
            return a.second.expires < b.second.expires;
        });
        names_.erase(oldest);
    }
    names_.insert_or_assign(name, std::move(entry));
}

void tracker_client_service::resolved(time_point now, std::uint64_t id, const cached_name& name) {
    exchange& ex = exchanges_.at(id);
    if (name.addresses.empty()) {
        fail(now, id, "cannot resolve " + ex.host + ": " + name.error);
        return;
    }
    if (ex.http) {
        ex.addresses.clear();
        for (const endpoint& address : name.addresses) {
            ex.addresses.push_back(endpoint{address.address, ex.port});
        }
        ex.next_address = 0;
        dial(now, id);
        return;
    }
    // The client reads an answer's peers as IPv4 unless the tracker's host is an IPv6 literal:
    // take an IPv4 address when the name has one.
    const auto v4 = std::find_if(name.addresses.begin(), name.addresses.end(),
                                 [](const endpoint& e) { return e.address.unmapped().is_v4(); });
    ex.remote = endpoint{(v4 != name.addresses.end() ? *v4 : name.addresses.front()).address, ex.port};
    ex.at = stage::ready;
    if (ex.unsent) {
        byte_buffer bytes = std::move(*ex.unsent);
        ex.unsent.reset();
        send_datagram(ex, std::move(bytes));
    }
}

void tracker_client_service::dial(time_point now, std::uint64_t id) {
    exchange& ex = exchanges_.at(id);
    if (ex.next_address >= ex.addresses.size()) {
        fail(now, id, "cannot connect: " + (ex.connect_error.empty() ? "no address" : ex.connect_error));
        return;
    }
    if (transmits_.size() >= config_.transmits_queued_max) {
        ++counters_.transmits_dropped;
        fail(now, id, "cannot connect: too many transmits waiting");
        return;
    }
    const endpoint to = ex.addresses[ex.next_address++];
    ex.conn = new_conn_id();
    ex.at = stage::connecting;
    conns_.emplace(ex.conn, id);
    ++counters_.connects;
    transmits_.push(io::connect{ex.conn, to});
}

void tracker_client_service::on_connected(time_point now, conn_id conn) {
    auto it = conns_.find(conn);
    if (it == conns_.end()) {
        return;
    }
    exchange& ex = exchanges_.at(it->second);
    if (ex.at != stage::connecting) {
        return;
    }
    ex.at = stage::reading;
    ex.parser.emplace(config_.http);
    std::vector<out_buffer> data;
    data.push_back(make_out_buffer(ex.request_text));
    transmits_.push(io::send{conn, std::move(data)});
    ex.request_text = std::string();
    settle(now);
}

void tracker_client_service::on_stream_bytes(time_point now, conn_id conn, byte_view bytes) {
    auto it = conns_.find(conn);
    if (it == conns_.end()) {
        return;
    }
    const std::uint64_t id = it->second;
    exchange& ex = exchanges_.at(id);
    if (ex.at != stage::reading) {
        return;
    }
    const result<void> fed = ex.parser->feed(bytes);
    if (auto response = ex.parser->poll_response()) {
        answered(now, id, *response);
    } else if (!fed) {
        fail(now, id, "bad HTTP response: " + fed.error().message());
    }
    settle(now);
}

void tracker_client_service::on_closed(time_point now, conn_id conn, std::string_view reason) {
    auto it = conns_.find(conn);
    if (it == conns_.end()) {
        return;
    }
    const std::uint64_t id = it->second;
    conns_.erase(it);
    exchange& ex = exchanges_.at(id);
    ex.conn = 0;  // the host has forgotten it: nothing to close
    if (ex.at == stage::connecting) {
        ++counters_.connects_failed;
        ex.connect_error = std::string(reason);
        dial(now, id);  // the next address, if any
    } else if (ex.at == stage::reading) {
        // A body may run until the connection closes (RFC 9112 6.3).
        const result<void> finished = ex.parser->finish();
        if (auto response = ex.parser->poll_response()) {
            answered(now, id, *response);
        } else {
            fail(now, id,
                 "connection closed before a response" +
                     (finished ? std::string() : ": " + finished.error().what));
        }
    }
    settle(now);
}

void tracker_client_service::answered(time_point now, std::uint64_t id, const http::http_response& response) {
    const exchange& ex = exchanges_.at(id);
    ++counters_.http_responses;
    if (torrent* t = find(ex.key)) {
        t->client.on_http_response(now, ex.request, response.status, as_bytes(response.body));
        touch(ex.key);
    }
    end(id);
}

// ---- UDP

void tracker_client_service::note_transaction(std::uint64_t id, exchange& ex, byte_view bytes) {
    // Every BEP 15 request carries its transaction id at bytes 12..16.
    if (bytes.size() < 16) {
        return;
    }
    const std::uint32_t transaction = read_be32(bytes, 12);
    if (ex.transaction == transaction) {
        return;
    }
    if (ex.transaction) {
        auto [first, last] = transactions_.equal_range(*ex.transaction);
        for (auto it = first; it != last; ++it) {
            if (it->second == id) {
                transactions_.erase(it);
                break;
            }
        }
    }
    ex.transaction = transaction;
    transactions_.emplace(transaction, id);
}

void tracker_client_service::send_datagram(exchange& ex, byte_buffer bytes) {
    if (transmits_.size() >= config_.transmits_queued_max) {
        ++counters_.transmits_dropped;  // as if lost: the client retransmits
        return;
    }
    ++counters_.datagrams_sent;
    transmits_.push(io::datagram{*ex.remote, std::move(bytes)});
}

void tracker_client_service::on_datagram(time_point now, const endpoint& from, byte_view bytes) {
    if (bytes.size() < 8) {
        return;
    }
    // Two exchanges may have drawn the same transaction id: the source tells them apart.
    auto [first, last] = transactions_.equal_range(read_be32(bytes, 4));
    for (auto it = first; it != last; ++it) {
        const exchange& ex = exchanges_.at(it->second);
        if (ex.remote && same_endpoint(*ex.remote, from)) {
            ++counters_.datagrams_received;
            if (torrent* t = find(ex.key)) {
                t->client.on_udp_datagram(now, ex.request, bytes);
                touch(ex.key);
            }
            settle(now);
            return;
        }
    }
    ++counters_.datagrams_unexpected;
}

// ---- ends

void tracker_client_service::fail(time_point now, std::uint64_t id, std::string reason) {
    const exchange& ex = exchanges_.at(id);
    if (torrent* t = find(ex.key)) {
        t->client.on_request_failed(now, ex.request, std::move(reason));
        touch(ex.key);
    }
    end(id);
}

void tracker_client_service::end(std::uint64_t id) {
    auto it = exchanges_.find(id);
    if (it == exchanges_.end()) {
        return;
    }
    exchange& ex = it->second;
    if (ex.conn != 0) {
        conns_.erase(ex.conn);
        transmits_.push(io::close{ex.conn, "tracker exchange over", false});
    }
    if (ex.transaction) {
        auto [first, last] = transactions_.equal_range(*ex.transaction);
        for (auto t = first; t != last; ++t) {
            if (t->second == id) {
                transactions_.erase(t);
                break;
            }
        }
    }
    if (ex.at == stage::waiting) {
        waiting_.erase(id);
    } else {
        --under_way_;
    }
    if (ex.at == stage::resolving) {
        for (auto& [query, l] : lookups_) {
            std::erase(l.waiting, id);
        }
    }
    if (torrent* t = find(ex.key)) {
        t->exchanges.erase(ex.request);
    }
    exchanges_.erase(it);
}

// ---- timers

std::optional<time_point> tracker_client_service::next_timer() const {
    std::optional<time_point> next = timers_.next();
    if (!lookups_.empty()) {
        const time_point expiry = lookups_.begin()->second.since + config_.lookup_timeout;
        if (!next || expiry < *next) {
            next = expiry;
        }
    }
    return next;
}

void tracker_client_service::expire_lookups(time_point now) {
    while (!lookups_.empty() && now >= lookups_.begin()->second.since + config_.lookup_timeout) {
        lookup late = std::move(lookups_.begin()->second);
        lookups_.erase(lookups_.begin());
        lookup_of_name_.erase(late.name);
        for (const std::uint64_t id : late.waiting) {
            auto ex = exchanges_.find(id);
            if (ex != exchanges_.end() && ex->second.at == stage::resolving) {
                fail(now, id,
                     "cannot resolve " + ex->second.host + ": no answer within " +
                         std::to_string(
                             std::chrono::duration_cast<std::chrono::seconds>(config_.lookup_timeout)
                                 .count()) +
                         " s");
            }
        }
    }
}

void tracker_client_service::on_timer(time_point now) {
    expire_lookups(now);
    std::vector<std::uint64_t> due;
    while (auto slot = timers_.pop_due(now)) {
        due.push_back(slot_keys_[*slot]);
    }
    for (const std::uint64_t key : due) {
        if (torrent* t = find(key)) {
            t->client.on_timer(now);
            touch(key);
        }
    }
    settle(now);
}

}  // namespace hyphae::tracker
