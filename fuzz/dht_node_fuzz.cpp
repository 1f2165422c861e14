// Fuzz target: the DHT node core as a whole. The input is a script: two config bytes (bounds,
// bootstrap nodes, BEP 42 and 43 switches), maybe an id byte, a seed byte, then up to 400 steps:
// datagrams from a few endpoints (IPv4 and IPv6, loopback, private, public and mapped) with raw
// bytes, well-formed queries built with the KRPC encoder, answers and error replies to the
// queries the node actually sent (their transaction ids read back from poll_transmit), and such
// messages with a few bytes changed; clock steps, small and large, that fire on_timer whenever
// it is due (and, rarely, steps that leave it overdue); and the commands, with one fixed signing
// key. Outputs are drained after every step.
//
// Beyond not crashing, the node keeps its contract:
// - every datagram it sends decodes; its queries carry its id and a 2-byte transaction id, and
//   its answers and error replies go only to the sender of the datagram being handled, with
//   that datagram's transaction id; stats().datagrams_in/out count what went in and out;
// - on_timer at next_timer() makes progress: a few calls at one time leave next_timer() ahead;
// - lookups_running() <= lookups_max, and a command returns 0 exactly when lookups_max run;
// - a drain never yields more than transmits_queued_max datagrams or events_queued_max events;
// - events belong to lookups: every lookup_done carries an id a command returned, with that
//   command's kind (or is a bootstrap the node started itself), once, and no event follows a
//   lookup's lookup_done or cancel; peers, items and samples go to lookups of their kind, and an
//   item found matches what was asked for; an external address is one that answers named;
// - lookups end: a lookup the owner waits for is still running, and while timers fire on time it
//   reports lookup_done within a bound (lookup_deadline) that its query budget implies
//   (HYPHAE_FUZZ_DHT_DEADLINES=0 turns this half off).

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fuzz_script.hpp"
#include "fuzz_target.hpp"

#include "hyphae/core/ed25519.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/proto/dht/dht_node.hpp"
#include "hyphae/proto/dht/item.hpp"
#include "hyphae/proto/dht/krpc.hpp"
#include "hyphae/proto/dht/node_id_policy.hpp"

namespace {

using namespace hyphae;
using namespace hyphae::dht;

// Where datagrams come from and where the contacts in our answers point: address index (low 3
// bits of a byte) and port index (the next 2). 0-3 are IPv4, 4-7 IPv6; 7 is IPv4-mapped.
const ip_address addresses[] = {
    *ip_address::parse("127.0.0.1"),     *ip_address::parse("10.0.0.2"),
    *ip_address::parse("203.0.113.7"),   *ip_address::parse("198.51.100.9"),
    *ip_address::parse("::1"),           *ip_address::parse("2001:db8::7"),
    *ip_address::parse("2001:db8:1::9"), *ip_address::parse("::ffff:203.0.113.8"),
};
const std::uint16_t ports[] = {6881, 6882, 51413, 1};

// What an answer says we look like from outside (BEP 42 `ip`): more candidates than the node
// keeps votes for.
endpoint seen_as(std::uint8_t b) {
    if (b % 13 == 12) {
        return *endpoint::parse("[2001:db8:ff::1]:6881");
    }
    return {ip_address::v4(0xc0000201u + b % 13 % 6), static_cast<std::uint16_t>(b % 13 < 6 ? 6881 : 7000)};
}

const char* const values[] = {"12:Hello World!", "i42e", "le", "d1:ai1ee", "5:hello"};
const char* const salts[] = {"", "salt", "s2"};

// Bounds small enough to reach. Lookups converge on 4 nodes with at most 16 queries each.
dht_config make_config(std::uint8_t a, std::uint8_t b) {
    dht_config config;
    config.table.bucket_size = 4;
    config.table.replacements_max = 2;
    config.table.buckets_max = (b & 1) != 0 ? 4 : 160;
    config.table.fail_limit = 2;
    config.table.questionable_after = minutes(2);
    config.table.refresh_interval = minutes(4);
    config.table.restrict_ips = (a & 0x10) != 0;
    config.table.prefer_verified = (a & 0x20) != 0;
    config.lookup.result_size = 4;
    config.lookup.parallelism = 2;
    config.lookup.candidates_max = 6;
    config.lookup.queries_max = 16;
    config.lookup.bad_referrals_min = 2;
    config.peers.peer_lifetime = minutes(3);
    config.peers.torrents_max = 2;
    config.peers.peers_per_torrent_max = 3;
    config.items.items_max = 4;
    config.items.bytes_max = (b & 16) != 0 ? 800 : 1500;
    config.items.item_lifetime = minutes(4);
    // Bootstrap nodes: a public IPv4 one, a public IPv6 one, a loopback one.
    const endpoint bootstrap[] = {{addresses[2], 6881}, {addresses[5], 6881}, {addresses[0], 6881}};
    for (std::size_t i = 0; i < 3; ++i) {
        if ((a >> i & 1) != 0) {
            config.bootstrap.push_back(bootstrap[i]);
        }
    }
    config.hard_timeout = std::chrono::seconds(4);
    config.maintenance_interval = std::chrono::seconds(5);
    config.bootstrap_retry = std::chrono::seconds(30);
    config.pings_per_tick_max = 2;
    config.requests_in_flight_max = (b & 2) != 0 ? 3 : 12;
    config.lookups_max = 4;
    config.transmits_queued_max = (b & 32) != 0 ? 4 : 24;
    config.events_queued_max = (b & 4) != 0 ? 2 : 8;
    config.peers_per_answer_max = 4;
    config.samples_per_answer_max = 3;
    config.query_rate = (a & 0x08) != 0 ? 0 : 5;
    config.query_burst = 10;
    config.rate_limited_addresses_max = 4;
    config.enforce_node_id = (a & 0x40) != 0;
    config.read_only = (a & 0x80) != 0;
    return config;
}

// The deadline half of the "lookups end" check; HYPHAE_FUZZ_DHT_DEADLINES=0 turns it off. It
// found three hangs, now fixed, each of which left a lookup running for ever: a bootstrap-node
// query past its soft timeout never taken off the lookup's count of seed queries; a bootstrap
// node answering with our own id; a lookup with no free request slot and none of its own in flight.
bool deadlines_checked() {
    static const bool on = [] {
        const char* v = std::getenv("HYPHAE_FUZZ_DHT_DEADLINES");
        return v == nullptr || std::string(v) != "0";
    }();
    return on;
}

struct sent_query {
    std::string tid;
    endpoint to;
    krpc_query query;
};

struct command {
    lookup_kind kind = lookup_kind::find_node;
    node_id target;
    bool immutable = false;  // get_item: by hash, not by key
    time_point started;
    bool done = false;
    bool cancelled = false;
};

class harness {
public:
    harness(fuzz_script& in, const dht_config& config, std::uint64_t seed, time_point now)
        : in_(in), config_(config), now_(now), node_(config, seed, now) {
        ed25519::secret_key secret;
        secret.seed.fill(0x42);
        keys_ = ed25519::make_keypair(secret);
        drain(nullptr);
    }

    void step();
    void finish_checks() { check_lookups(); }

private:
    // ---- inputs built from the script ----
    endpoint endpoint_from(std::uint8_t b) const { return {addresses[b & 7], ports[(b >> 3) & 3]}; }
    endpoint endpoint_v4(std::uint8_t b) const { return {addresses[b & 3], ports[(b >> 2) & 3]}; }
    endpoint endpoint_v6(std::uint8_t b) const { return {addresses[4 + (b & 3)], ports[(b >> 2) & 3]}; }

    // An id in bucket b1 of the node's table, a BEP 42 id for `address`, a plain pattern, or ours.
    node_id id_from(const ip_address& address) {
        const std::uint8_t b1 = in_.byte();
        const std::uint8_t b2 = in_.byte();
        node_id id = node_.id();
        if (b1 < 160) {
            id.bytes[b1 / 8] ^= static_cast<std::uint8_t>(0x80 >> (b1 % 8));
            for (std::size_t bit = b1 + 1u; bit < 160; ++bit) {
                if (((b2 * 0x9d + bit * 0x3b) >> 3 & 1) != 0) {
                    id.bytes[bit / 8] ^= static_cast<std::uint8_t>(0x80 >> (bit % 8));
                }
            }
        } else if (b1 < 200) {
            rng random(b2);
            id = make_node_id(address.unmapped(), b2, random);
        } else if (b1 < 255) {
            id.bytes.fill(b2);
        }
        return id;
    }
    id160 info_hash_from(std::uint8_t b) {
        if (b % 6 == 5) {
            return id_from(addresses[2]);
        }
        id160 ih;
        ih.bytes.fill(static_cast<std::uint8_t>(0xa0 + b % 6));
        return ih;
    }
    // Seven values: small ones, one that fills most of a store, one over BEP 44's 1000 bytes.
    std::string value_from(std::uint8_t b) const {
        switch (b % 7) {
            case 5:
                return "897:" + std::string(897, 'y');
            case 6:
                return "1001:" + std::string(1001, 'x');
            default:
                return values[b % 7];
        }
    }
    std::string salt_from(std::uint8_t b) const { return salts[b % 3]; }
    // The token the node gave that address (`real`), or else bytes from the script. The script's
    // bytes are read either way, so that the layout of a step does not depend on the node's state.
    std::string token_for(const endpoint& ep, bool real) {
        const byte_view raw = in_.bytes(in_.byte() % 10);
        if (real) {
            auto it = tokens_.find(ep.address.unmapped());
            if (it != tokens_.end()) {
                return it->second;
            }
        }
        return std::string(as_chars(raw));
    }
    std::vector<node_contact> contacts(bool v6) {
        std::vector<node_contact> out(in_.byte() % 9);
        for (auto& c : out) {
            c.ep = v6 ? endpoint_v6(in_.byte()) : endpoint_v4(in_.byte());
            c.id = id_from(c.ep.address);
            known_ids_[c.ep] = c.id;
        }
        return out;
    }
    // One of the node's latest queries, counting back from the last one.
    const sent_query* pick_sent() {
        const std::uint8_t back = in_.byte();
        if (sent_.empty()) {
            return nullptr;
        }
        return &sent_[sent_.size() - 1 - back % sent_.size()];
    }

    std::string query_datagram(const endpoint& from);
    std::optional<std::string> answer_datagram(endpoint& from, bool error);
    void item_answer(const sent_query& s, krpc_response& r);

    // ---- driving ----
    void deliver(const endpoint& from, const std::string& bytes);
    void run_command(std::uint8_t op);
    void fire_due();
    void advance_to(time_point target);
    void drain(const std::optional<std::string>* reply_tid, const endpoint* asker = nullptr);
    void on_event(const dht_event& e);
    void check_lookups();

    fuzz_script& in_;
    dht_config config_;
    time_point now_;
    dht_node node_;
    ed25519::keypair keys_;
    std::vector<sent_query> sent_;              // the node's latest queries, oldest first
    std::map<endpoint, node_id> known_ids_;     // the id we last gave each endpoint
    std::map<ip_address, std::string> tokens_;  // write tokens the node gave our addresses
    std::map<lookup_id, command> commands_;
    std::vector<lookup_id> command_ids_;
    std::set<lookup_id> own_bootstraps_;  // lookup_done of bootstraps nobody commanded
    std::set<endpoint> said_;             // `ip` values our answers carried
    std::uint64_t datagrams_in_ = 0;
    std::uint64_t datagrams_out_ = 0;
    bool punctual_ = true;      // on_timer ran whenever it was due
    bool events_full_ = false;  // an event queue filled up: events may have been dropped
};

// ---- building datagrams ----

std::string harness::query_datagram(const endpoint& from) {
    krpc_message m;
    m.type = krpc_message::kind::query;
    const byte_view tid = in_.bytes(1 + in_.byte() % 4);
    m.transaction_id = tid.empty() ? std::string("aa") : std::string(as_chars(tid));
    const std::uint8_t flags = in_.byte();
    krpc_query& q = m.query;
    q.id = id_from(from.address);
    known_ids_[endpoint{from.address.unmapped(), from.port}] = q.id;
    q.want_v4 = (flags & 1) != 0;
    q.want_v6 = (flags & 2) != 0;
    q.read_only = (flags & 4) != 0;
    switch (in_.byte() % 9) {
        case 0:
            q.method = krpc_method::ping;
            break;
        case 1:
            q.method = krpc_method::find_node;
            q.target = id_from(from.address);
            break;
        case 2:
            q.method = krpc_method::get_peers;
            q.info_hash = info_hash_from(in_.byte());
            break;
        case 3: {
            q.method = krpc_method::announce_peer;
            q.info_hash = info_hash_from(in_.byte());
            q.implied_port = (flags & 8) != 0;
            const std::uint8_t port = in_.byte();
            if (port != 0 || !q.implied_port) {
                q.port = static_cast<std::uint16_t>(port == 0 ? 1 : 6800 + port);
            }
            q.seed = (flags & 16) != 0;
            q.token = token_for(from, (flags & 32) == 0);
            break;
        }
        case 4: {
            q.method = krpc_method::get;
            const std::uint8_t which = in_.byte();
            q.target = which % 3 == 0   ? immutable_target(as_bytes(value_from(which / 3)))
                       : which % 3 == 1 ? mutable_target(keys_.key, as_bytes(salt_from(which / 3)))
                                        : id_from(from.address);
            if ((flags & 8) != 0) {
                q.seq = in_.byte() % 4;
            }
            break;
        }
        case 5:
            q.method = krpc_method::put;
            q.token = token_for(from, (flags & 32) == 0);
            q.value = value_from(in_.byte());
            break;
        case 6: {
            q.method = krpc_method::put;
            q.token = token_for(from, (flags & 32) == 0);
            const std::string salt = salt_from(in_.byte());
            const std::string value = value_from(in_.byte());
            const std::int64_t seq = in_.byte() % 5;
            std::string sig(64, '\0');
            if (auto item = make_mutable_item(keys_, salt, seq, value)) {
                sig = std::string(item->sig.chars());
            }
            if ((flags & 64) != 0) {
                sig[in_.byte() % 64] ^= 1;
            }
            q.key = std::string(keys_.key.chars());
            q.signature = sig;
            q.salt = salt;
            q.seq = seq;
            q.value = value;
            if ((flags & 128) != 0) {
                q.cas = in_.byte() % 4;
            }
            break;
        }
        case 7:
            q.method = krpc_method::sample_infohashes;
            q.target = id_from(from.address);
            break;
        default:
            q.method = krpc_method::unknown;
            q.method_name = (flags & 8) != 0 ? "vote" : "x";
            break;
    }
    return encode_krpc(m);
}

void harness::item_answer(const sent_query& s, krpc_response& r) {
    const node_id target = s.query.target.value_or(node_id{});
    const std::uint8_t mode = in_.byte();
    switch (mode % 4) {
        case 0: {  // an immutable value: the one hashing to the target if we know it
            std::string value = value_from(mode / 4);
            for (std::uint8_t i = 0; i < 7; ++i) {
                if (immutable_target(as_bytes(value_from(i))) == target) {
                    value = value_from(i);
                }
            }
            r.value = value;
            break;
        }
        case 1:
        case 2: {  // a mutable item under our key, with the salt that gives the target if any
            std::string salt = salt_from(mode / 4);
            for (std::uint8_t i = 0; i < 3; ++i) {
                if (mutable_target(keys_.key, as_bytes(salt_from(i))) == target) {
                    salt = salt_from(i);
                }
            }
            const std::int64_t seq = in_.byte() % 4;
            auto item = make_mutable_item(keys_, salt, seq, value_from(in_.byte()));
            if (!item) {
                break;
            }
            r.key = std::string(item->key.chars());
            r.seq = item->seq;
            r.signature = std::string(item->sig.chars());
            r.value = item->value;
            if (mode % 4 == 2) {
                (*r.signature)[in_.byte() % 64] ^= 1;
            }
            break;
        }
        default:  // the seq alone: the holder has it already
            r.seq = in_.byte() % 4;
            break;
    }
}

// An answer (or an error reply) to one of the queries the node sent, from where it went (or,
// rarely, from elsewhere); empty when the node has sent none.
std::optional<std::string> harness::answer_datagram(endpoint& from, bool error) {
    const sent_query* s = pick_sent();
    if (s == nullptr) {
        return std::nullopt;
    }
    const sent_query query = *s;
    const std::uint8_t flags = in_.byte();
    from = query.to;
    if ((flags & 0x80) != 0) {
        from = endpoint_from(in_.byte());
    }
    krpc_message m;
    m.transaction_id = query.tid;
    if ((flags & 0x20) != 0) {
        m.transaction_id += 'x';  // not one of ours
    }
    m.version = "LT\x01\x02";
    if ((flags & 1) != 0) {
        m.requester = seen_as(in_.byte());
        said_.insert(*m.requester);
    }
    if (error) {
        m.type = krpc_message::kind::error;
        m.error.code = 201 + in_.byte() % 4;
        m.error.message = "refused";
        return encode_krpc(m);
    }
    m.type = krpc_message::kind::response;
    krpc_response& r = m.response;
    const auto known = known_ids_.find(query.to);
    const node_id fresh = id_from(from.address);
    r.id = (flags & 0x40) != 0 || known == known_ids_.end() ? fresh : known->second;
    known_ids_[query.to] = r.id;
    if ((flags & 2) != 0) {
        r.nodes = contacts(false);
    }
    if ((flags & 4) != 0) {
        r.nodes6 = contacts(true);
    }
    if ((flags & 8) != 0) {
        r.token = token_for(from, false);
    }
    if ((flags & 16) != 0) {
        switch (query.query.method) {
            case krpc_method::get_peers:
                r.values.resize(in_.byte() % 5);
                for (auto& peer : r.values) {
                    peer = endpoint_from(in_.byte());
                }
                break;
            case krpc_method::get:
                item_answer(query, r);
                break;
            case krpc_method::sample_infohashes: {
                std::vector<id160> samples(in_.byte() % 4);
                for (auto& h : samples) {
                    h = info_hash_from(in_.byte());
                }
                r.samples = std::move(samples);
                r.num = in_.byte();
                r.interval = in_.byte();
                break;
            }
            default:
                break;
        }
    }
    return encode_krpc(m);
}

// ---- driving ----

void harness::deliver(const endpoint& from, const std::string& bytes) {
    // The transaction id an answer of the node's must carry: the query's, or that of a malformed
    // query that had a readable one. Nothing else may be answered.
    std::optional<std::string> reply_tid;
    if (auto m = decode_krpc(as_bytes(bytes))) {
        if (m->type == krpc_message::kind::query) {
            reply_tid = m->transaction_id;
        }
    } else if (m.error().is_query && !m.error().transaction_id.empty()) {
        reply_tid = m.error().transaction_id;
    }
    node_.on_datagram(now_, from, as_bytes(bytes));
    ++datagrams_in_;
    const endpoint asker{from.address.unmapped(), from.port};
    drain(&reply_tid, &asker);
}

void harness::drain(const std::optional<std::string>* reply_tid, const endpoint* asker) {
    std::size_t transmits = 0;
    while (auto t = node_.poll_datagram()) {
        if (++transmits > config_.transmits_queued_max) {
            std::abort();
        }
        ++datagrams_out_;
        auto m = decode_krpc(as_bytes(t->bytes));
        if (!m) {
            std::abort();
        }
        if (m->type == krpc_message::kind::query) {
            if (m->transaction_id.size() != 2 || m->query.id != node_.id() ||
                m->query.read_only != config_.read_only) {
                std::abort();
            }
            if (sent_.size() == 32) {
                sent_.erase(sent_.begin());
            }
            sent_.push_back({m->transaction_id, t->to, m->query});
            continue;
        }
        // An answer or an error reply: only to whoever sent the datagram, with its id.
        if (reply_tid == nullptr || !*reply_tid || asker == nullptr || t->to != *asker ||
            m->transaction_id != **reply_tid) {
            std::abort();
        }
        if (m->type == krpc_message::kind::response) {
            if (m->response.id != node_.id()) {
                std::abort();
            }
            if (m->response.token) {
                tokens_[t->to.address] = *m->response.token;
            }
        }
    }
    if (node_.stats().datagrams_out != datagrams_out_ || node_.stats().datagrams_in != datagrams_in_) {
        std::abort();
    }
    std::size_t events = 0;
    while (auto e = node_.poll_event()) {
        if (++events > config_.events_queued_max) {
            std::abort();
        }
        on_event(*e);
    }
    if (events == config_.events_queued_max) {
        events_full_ = true;
    }
    if (node_.lookups_running() > config_.lookups_max) {
        std::abort();
    }
}

void harness::on_event(const dht_event& e) {
    // The command a lookup event belongs to; it must still be running.
    const auto running = [&](lookup_id id) -> command& {
        auto it = commands_.find(id);
        if (it == commands_.end() || it->second.done || it->second.cancelled) {
            std::abort();
        }
        return it->second;
    };
    if (const auto* p = std::get_if<peers_found>(&e)) {
        const command& c = running(p->id);
        if ((c.kind != lookup_kind::get_peers && c.kind != lookup_kind::announce) || p->peers.empty()) {
            std::abort();
        }
    } else if (const auto* item = std::get_if<item_found>(&e)) {
        const command& c = running(item->id);
        if (c.kind != lookup_kind::get_item || item->target != c.target) {
            std::abort();
        }
        const bool good = c.immutable ? !item->key && immutable_target(as_bytes(item->value)) == c.target
                                      : item->key == keys_.key && item->seq.has_value();
        if (!good) {
            std::abort();
        }
    } else if (const auto* s = std::get_if<samples_found>(&e)) {
        if (running(s->id).kind != lookup_kind::sample) {
            std::abort();
        }
    } else if (const auto* d = std::get_if<lookup_done>(&e)) {
        if (d->closest.size() > config_.lookup.result_size) {
            std::abort();
        }
        if (!commands_.contains(d->id) && d->kind == lookup_kind::bootstrap) {
            // The node bootstraps again by itself while its table is near empty.
            if (!own_bootstraps_.insert(d->id).second) {
                std::abort();
            }
            return;
        }
        command& c = running(d->id);
        if (d->kind != c.kind) {
            std::abort();
        }
        c.done = true;
    } else {
        // Learnt only from what answers said (`ip`).
        if (!said_.contains(std::get<external_address>(e).address)) {
            std::abort();
        }
    }
}

void harness::check_lookups() {
    // Every lookup the owner waits for is still running (unless an event queue overflowed and
    // its lookup_done may be lost), and ends within its deadline while timers fire on time.
    // The deadline: at most queries_max queries in the search, one per bootstrap node and one
    // store per closest node, each over within hard_timeout; with a wide margin.
    const duration per_query = std::max(config_.hard_timeout, config_.rtt.timeout_max);
    const duration lookup_deadline =
        2 *
        static_cast<std::int64_t>(config_.lookup.queries_max + config_.bootstrap.size() +
                                  config_.lookup.result_size + 2) *
        per_query;
    std::size_t waiting = 0;
    for (const auto& [id, c] : commands_) {
        if (c.done || c.cancelled) {
            continue;
        }
        ++waiting;
        if (deadlines_checked() && punctual_ && !events_full_ && now_ - c.started > lookup_deadline) {
            std::abort();
        }
    }
    if (!events_full_ && waiting > node_.lookups_running()) {
        std::abort();
    }
}

void harness::fire_due() {
    for (int calls = 0;; ++calls) {
        const auto t = node_.next_timer();
        if (!t || *t > now_) {
            return;
        }
        if (calls == 3) {
            std::abort();  // on_timer at next_timer() makes no progress
        }
        node_.on_timer(now_);
        drain(nullptr);
    }
}

// Moves the clock to `target`, running on_timer at every time it asks for on the way.
void harness::advance_to(time_point target) {
    for (;;) {
        const auto t = node_.next_timer();
        if (!t || *t > target) {
            break;
        }
        now_ = std::max(now_, *t);
        fire_due();
        check_lookups();
    }
    now_ = std::max(now_, target);
    fire_due();
    check_lookups();
}

void harness::run_command(std::uint8_t op) {
    const std::size_t running_before = node_.lookups_running();
    command c;
    c.started = now_;
    lookup_id id = 0;
    switch (op) {
        case 0:
            c.kind = lookup_kind::bootstrap;
            id = node_.bootstrap(now_);
            break;
        case 1:
            c.kind = lookup_kind::find_node;
            c.target = id_from(addresses[2]);
            id = node_.find_node(now_, c.target);
            break;
        case 2:
            c.kind = lookup_kind::get_peers;
            c.target = info_hash_from(in_.byte());
            id = node_.get_peers(now_, c.target);
            break;
        case 3: {
            c.kind = lookup_kind::announce;
            c.target = info_hash_from(in_.byte());
            const std::uint8_t port = in_.byte();
            id = node_.announce(now_, c.target, port % 2 == 0 ? 0 : static_cast<std::uint16_t>(6800 + port),
                                port % 4 == 1);
            break;
        }
        case 4: {
            c.kind = lookup_kind::get_item;
            c.immutable = true;
            const std::uint8_t which = in_.byte();
            c.target =
                which % 8 < 7 ? immutable_target(as_bytes(value_from(which % 8))) : id_from(addresses[2]);
            id = node_.get_immutable(now_, c.target);
            break;
        }
        case 5: {
            c.kind = lookup_kind::get_item;
            const std::string salt = salt_from(in_.byte());
            c.target = mutable_target(keys_.key, as_bytes(salt));
            id = node_.get_mutable(now_, keys_.key, salt);
            break;
        }
        case 6: {
            c.kind = lookup_kind::put_item;
            id = node_.put_immutable(now_, value_from(in_.byte()));
            break;
        }
        case 7: {
            c.kind = lookup_kind::put_item;
            const std::string salt = salt_from(in_.byte());
            const std::uint8_t b = in_.byte();
            std::optional<std::int64_t> seq;
            if (b % 3 == 0) {
                seq = b / 3 % 4;
            }
            id = node_.put_mutable(now_, keys_.secret, salt, value_from(b / 12), seq);
            break;
        }
        case 8:
            c.kind = lookup_kind::sample;
            c.target = id_from(addresses[2]);
            id = node_.sample_infohashes(now_, c.target);
            break;
        case 9: {
            if (command_ids_.empty()) {
                return;
            }
            const lookup_id victim = command_ids_[in_.byte() % command_ids_.size()];
            node_.cancel(victim);
            command& v = commands_.at(victim);
            if (!v.done) {
                v.cancelled = true;
            }
            drain(nullptr);
            return;
        }
        default: {
            // The table as a file reads back: the node's id and every live node that is not bad.
            const std::string file = node_.save_table();
            auto table = routing_table::parse_saved(as_bytes(file), 1 << 16);
            if (!table || table->id != node_.id() || table->nodes.size() != node_.table().size()) {
                std::abort();
            }
            // Contacts, as from a saved table.
            std::vector<node_contact> saved(1 + in_.byte() % 4);
            for (auto& contact : saved) {
                contact.ep = endpoint_from(in_.byte());
                contact.id = id_from(contact.ep.address);
                known_ids_[contact.ep] = contact.id;
            }
            node_.add_contacts(now_, saved);
            drain(nullptr);
            return;
        }
    }
    // A command is refused exactly when lookups_max are running.
    if ((id == 0) != (running_before >= config_.lookups_max)) {
        std::abort();
    }
    if (id != 0) {
        if (commands_.contains(id)) {
            std::abort();
        }
        commands_[id] = c;
        command_ids_.push_back(id);
    }
    drain(nullptr);
}

void harness::step() {
    const std::uint8_t op = in_.byte() % 24;
    switch (op) {
        case 0: {  // raw bytes
            const endpoint from = endpoint_from(in_.byte());
            const byte_view raw = in_.bytes(in_.byte());
            deliver(from, std::string(as_chars(raw)));
            break;
        }
        case 1:
        case 2:
        case 3:
        case 4: {  // an answer or an error reply to one of the node's queries
            endpoint from;
            if (auto bytes = answer_datagram(from, op == 4)) {
                deliver(from, *bytes);
            }
            break;
        }
        case 5:
        case 6: {  // a query
            const endpoint from = endpoint_from(in_.byte());
            deliver(from, query_datagram(from));
            break;
        }
        case 7: {  // a query or an answer with a few bytes changed
            endpoint from = endpoint_from(in_.byte());
            std::optional<std::string> bytes;
            if (in_.byte() % 2 == 0) {
                bytes = answer_datagram(from, false);
            }
            if (!bytes) {
                bytes = query_datagram(from);
            }
            for (int edits = in_.byte() % 4; edits >= 0 && !bytes->empty(); --edits) {
                const std::uint8_t at = in_.byte();
                const std::uint8_t to = in_.byte();
                if (to == 0) {
                    bytes->resize(at % bytes->size());  // truncate
                } else {
                    (*bytes)[(at * 7u) % bytes->size()] = static_cast<char>(to);
                }
            }
            deliver(from, *bytes);
            break;
        }
        case 8:
        case 9:  // the clock: a small step
            advance_to(now_ + std::chrono::milliseconds(in_.byte() * 10));
            break;
        case 10:  // a large step
            advance_to(now_ + std::chrono::seconds(in_.byte() * 5));
            break;
        case 11:  // to the next timer
            advance_to(std::max(now_, node_.next_timer().value_or(now_)));
            break;
        case 12: {  // a late runtime: time passes without on_timer, which then runs once
            punctual_ = false;
            now_ += std::chrono::milliseconds(in_.byte() * 100);
            if (in_.byte() % 2 == 0) {
                fire_due();
            }
            break;
        }
        default:
            run_command(static_cast<std::uint8_t>(op - 13));
            break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz_script in{data, size};
    const std::uint8_t a = in.byte();
    const std::uint8_t b = in.byte();
    dht_config config = make_config(a, b);
    if ((b & 8) != 0) {
        config.id.emplace();
        config.id->bytes.fill(in.byte());
    }
    harness h(in, config, in.byte(), time_point(std::chrono::hours(1000)));
    for (int steps = 0; !in.done() && steps < 400; ++steps) {
        h.step();
    }
    h.finish_checks();
    return 0;
}
