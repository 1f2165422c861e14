#include "hyphae/sim/dht_simulation.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "hyphae/proto/dht/node_id_policy.hpp"
#include "hyphae/proto/dht/routing_table.hpp"
#include "hyphae/sim/distributions.hpp"

namespace hyphae::sim {

namespace {

constexpr time_point never = time_point::max();
constexpr std::uint32_t progress_every = 1u << 16;
constexpr std::size_t pinholes_max = 64;
constexpr std::uint8_t tag_churn = 0;
constexpr std::uint8_t tag_lookup = 1;  // per NAT-ed node: its most recent destinations

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
    std::uint64_t z = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// The lowest and highest ids that share the first `bits` bits with `id`.
std::pair<dht::node_id, dht::node_id> prefix_range(const dht::node_id& id, std::size_t bits) {
    dht::node_id lo = id;
    dht::node_id hi = id;
    for (std::size_t byte = 0; byte < dht::node_id::size; ++byte) {
        const std::size_t first_bit = byte * 8;
        if (first_bit >= bits) {
            lo.bytes[byte] = 0;
            hi.bytes[byte] = 0xff;
        } else if (first_bit + 8 > bits) {
            const auto keep = static_cast<std::uint8_t>(0xff << (8 - (bits - first_bit)));
            lo.bytes[byte] = id.bytes[byte] & keep;
            hi.bytes[byte] = static_cast<std::uint8_t>(id.bytes[byte] | static_cast<std::uint8_t>(~keep));
        }
    }
    return {lo, hi};
}

dht::node_id flip_bit(dht::node_id id, std::size_t b) {
    id.bytes[b / 8] ^= static_cast<std::uint8_t>(0x80 >> (b % 8));
    return id;
}

// Public unicast IPv4 only: private and reserved ranges would be exempt from BEP 42 and the /24 rule.
bool public_ipv4(std::uint32_t a) {
    const std::uint32_t first = a >> 24;
    if (first == 0 || first == 10 || first == 127 || first >= 224) {
        return false;
    }
    if ((a & 0xfff00000u) == 0xac100000u || (a & 0xffff0000u) == 0xc0a80000u ||
        (a & 0xffff0000u) == 0xa9fe0000u || (a & 0xffc00000u) == 0x64400000u) {
        return false;
    }
    return true;
}

double seconds_of(duration d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace

struct dht_simulation::sim_node {
    std::unique_ptr<dht::dht_node> dht;  // honest and up
    std::unique_ptr<adversary_node> adversary;
    std::string saved_table;  // honest and down: what the runtime's --state file would hold
    std::vector<std::pair<std::uint32_t, std::uint32_t>> pinholes;  // NAT: (peer, expiry in ms)
    dht::node_id id;
    node_place place;
    std::uint32_t ip = 0;
    std::uint16_t port = 0;
    time_point timer_at = never;
    time_point uplink_free{};
    time_point up_since{};
    std::uint32_t incarnation = 0;
    bool up = false;
    bool nat = false;
    bool honest = true;
    bool joiner = false;
    bool churns = false;
};

dht_simulation::dht_simulation(const scenario& s, std::uint64_t seed, progress_callback progress)
    : scenario_(s),
      seed_(seed),
      progress_(std::move(progress)),
      rng_(mix(seed, 1)),
      build_rng_(mix(seed, 2)),
      latency_(s.network.latency) {
    if (s.churn.enabled) {
        session_.emplace(s.churn.session);
        downtime_.emplace(s.churn.downtime);
    }
    auto& cfg = base_config_;
    cfg.table.bucket_size = s.dht.k;
    cfg.table.replacements_max = s.dht.replacements;
    cfg.lookup.result_size = s.dht.k;
    cfg.lookup.parallelism = s.dht.alpha;
    cfg.lookup.disjoint_paths = s.defences.disjoint_paths;
    cfg.lookup.check_answers = s.defences.check_answers;
    cfg.bep42_checks = s.defences.bep42_checks;
    cfg.table.prefer_long_lived = s.defences.prefer_long_lived;
    build_population();
}

dht_simulation::~dht_simulation() = default;

endpoint dht_simulation::endpoint_of(std::uint32_t i) const {
    return endpoint{ip_address::v4(nodes_[i].ip), nodes_[i].port};
}

std::optional<std::uint32_t> dht_simulation::index_of(const endpoint& ep) const {
    if (!ep.address.is_v4()) {
        return std::nullopt;
    }
    auto it = by_address_.find(ep.address.v4_host_order());
    if (it == by_address_.end() || nodes_[it->second].port != ep.port) {
        return std::nullopt;
    }
    return it->second;
}

bool dht_simulation::reachable_honest(std::uint32_t i) const {
    const sim_node& n = nodes_[i];
    return n.honest && n.up && !n.nat && n.dht != nullptr;
}

dht::dht_config dht_simulation::config_for(std::uint32_t i) const {
    dht::dht_config c = base_config_;
    c.id = nodes_[i].id;
    c.bootstrap = bootstrap_;
    return c;
}

void dht_simulation::build_population() {
    const auto& net = scenario_.network;
    const std::uint32_t n = net.nodes;
    nodes_.resize(n);
    rng& r = build_rng_;

    attack_target_ = scenario_.adversaries.target.empty() ? dht::random_node_id(r)
                                                          : *id160::from_hex(scenario_.adversaries.target);

    // Addresses: distinct public IPv4, one node each.
    by_address_.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        std::uint32_t a = 0;
        do {
            a = static_cast<std::uint32_t>(r());
        } while (!public_ipv4(a) || by_address_.count(a) != 0);
        by_address_.emplace(a, i);
        nodes_[i].ip = a;
        nodes_[i].port = static_cast<std::uint16_t>(1024 + r.uniform(65536 - 1024));  // as real nodes pick
        nodes_[i].place = latency_.place(r);
    }

    // Roles. Nodes [0, bootstrap_nodes) are the honest bootstrap nodes; adversaries, NAT-ed nodes
    // and joiners are drawn from the rest.
    const std::uint32_t first_free = net.bootstrap_nodes;
    std::vector<std::uint32_t> rest;
    for (std::uint32_t i = first_free; i < n; ++i) {
        rest.push_back(i);
    }
    for (std::size_t i = rest.size(); i > 1; --i) {
        std::swap(rest[i - 1], rest[r.uniform(i)]);
    }
    const auto& adv = scenario_.adversaries;
    adversary_count_ = std::min<std::uint32_t>(static_cast<std::uint32_t>(std::llround(adv.fraction * n)),
                                               static_cast<std::uint32_t>(rest.size()));
    std::size_t next = 0;
    for (std::uint32_t a = 0; a < adversary_count_; ++a) {
        sim_node& node = nodes_[rest[next++]];
        node.honest = false;
    }
    const auto nat_wanted = static_cast<std::uint32_t>(std::llround(net.nat_fraction * n));
    for (std::uint32_t a = 0; a < nat_wanted && next < rest.size(); ++a) {
        nodes_[rest[next++]].nat = true;
        ++nat_count_;
    }
    for (std::uint32_t a = 0; a < net.joiners && next < rest.size(); ++a) {
        nodes_[rest[next]].joiner = true;
        joiners_.push_back(rest[next++]);
    }
    std::sort(joiners_.begin(), joiners_.end());

    // Ids: honest nodes take BEP 42 ids for their address, as libtorrent and Hyphae do; so do
    // adversaries, unless they cluster around the target (which BEP 42 is there to stop).
    for (std::uint32_t i = 0; i < n; ++i) {
        sim_node& node = nodes_[i];
        const ip_address address = ip_address::v4(node.ip);
        if (!node.honest && adv.sybil_shared_bits > 0) {
            node.id = sybil_id(attack_target_, adv.sybil_shared_bits, r);
        } else {
            node.id = dht::make_node_id(address, r);
        }
        if (node.honest) {
            honest_.push_back(i);
        }
    }
    by_id_.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        by_id_.emplace_back(nodes_[i].id, i);
    }
    std::sort(by_id_.begin(), by_id_.end());

    // Bootstrap endpoints: the honest bootstrap nodes, behind a malicious one when that is the attack.
    std::uint32_t honest_bootstraps = net.bootstrap_nodes;
    if (adv.kind == adversary_kind::bad_bootstrap && adversary_count_ > 0) {
        for (std::uint32_t i = 0; i < n; ++i) {
            if (!nodes_[i].honest) {
                bootstrap_.push_back(endpoint_of(i));
                break;
            }
        }
        honest_bootstraps = net.bootstrap_nodes > 1 ? net.bootstrap_nodes - 1 : 0;
    }
    for (std::uint32_t i = 0; i < honest_bootstraps; ++i) {
        bootstrap_.push_back(endpoint_of(i));
    }

    // Adversaries: the directory they share, then the nodes.
    if (adversary_count_ > 0) {
        constexpr std::size_t honest_sample_max = 100000;
        for (std::uint32_t i = 0; i < n; ++i) {
            if (!nodes_[i].honest) {
                directory_.add_colluder({nodes_[i].id, endpoint_of(i)});
            }
        }
        const std::size_t stride = std::max<std::size_t>(1, honest_.size() / honest_sample_max);
        for (std::size_t h = 0; h < honest_.size(); h += stride) {
            const std::uint32_t i = honest_[h];
            if (!nodes_[i].nat && !nodes_[i].joiner) {
                directory_.add_honest({nodes_[i].id, endpoint_of(i)});
            }
        }
        directory_.finish();
        for (std::uint32_t i = 0; i < n; ++i) {
            sim_node& node = nodes_[i];
            if (!node.honest) {
                node.adversary = std::make_unique<adversary_node>(
                    adv.kind, dht::node_contact{node.id, endpoint_of(i)}, mix(seed_, i));
                node.up = true;
                // Spread their first wake-ups over a second so that pushes do not all start at once.
                node.timer_at = time_point{} + std::chrono::microseconds(r.uniform(1000000));
                queue_.push(node.timer_at, event_kind::timer, i, node.incarnation);
            }
        }
    }

    // Who is up at the start. With churn, each churning node is up with the share of time a node
    // spends up (from the medians), so the network starts near its steady state.
    const auto& ch = scenario_.churn;
    double up_share = 1.0;
    if (ch.enabled) {
        const double s = seconds_of(ch.session.median);
        const double d = seconds_of(ch.downtime.median);
        up_share = s / (s + d);
    }
    std::vector<bool> down_at_start(n, false);
    for (std::uint32_t i : honest_) {
        sim_node& node = nodes_[i];
        node.churns = ch.enabled && i >= net.bootstrap_nodes && !node.joiner;
        if (node.churns && unit_interval(r) >= up_share) {
            down_at_start[i] = true;
        }
        const bool cold_start = net.start == start_mode::bootstrap && i >= net.bootstrap_nodes;
        node.up = !node.joiner && !cold_start;
    }
    // Warm tables hold the nodes up at the start: a stabilised network has evicted the ones long gone.
    present_.assign(n, false);
    for (std::uint32_t i = 0; i < n; ++i) {
        present_[i] =
            !nodes_[i].nat && (nodes_[i].honest ? nodes_[i].up && !down_at_start[i] : adv.in_warm_tables);
    }

    // Build the honest nodes present at the start; warm ones get their tables filled.
    const time_point t0{};
    std::uint64_t built = 0;
    for (std::uint32_t i : honest_) {
        sim_node& node = nodes_[i];
        if (node.up) {
            node.dht = std::make_unique<dht::dht_node>(config_for(i), mix(seed_, mix(i, 0)), t0);
            node.up_since = t0;
            if (net.start == start_mode::warm) {
                warm_fill(i);
            } else {
                // Bootstrap start: the bootstrap nodes know each other, nobody else yet.
                for (std::uint32_t j = 0; j < net.bootstrap_nodes; ++j) {
                    if (j != i) {
                        node.dht->add_answered_contact(t0, {nodes_[j].id, endpoint_of(j)},
                                                       2 * latency_.one_way(node.place, nodes_[j].place));
                    }
                }
            }
        }
        if (progress_ && (++built % 4096 == 0 || built == honest_.size())) {
            progress_({"building", built, honest_.size(), t0, t0, 0, scenario_.workload.lookups});
        }
    }
    for (std::uint32_t i : honest_) {
        sim_node& node = nodes_[i];
        if (node.up) {
            if (down_at_start[i]) {
                // Was up before the run: it leaves at once, keeping the table a stable network gave it.
                node.saved_table = node.dht->save_table();
                node.dht.reset();
                node.up = false;
                ++node.incarnation;
                queue_.push(t0 + downtime_->sample(r), event_kind::user, i, 0, tag_churn);
            } else {
                reschedule(i, t0, node.dht->next_timer());
                if (node.churns) {
                    queue_.push(t0 + session_->sample(r), event_kind::user, i, 0, tag_churn);
                }
            }
        } else {
            // Joins cold over the join window: a joiner, or everyone in a bootstrap start.
            const auto at = t0 + duration(static_cast<std::int64_t>(
                                     unit_interval(r) * static_cast<double>(net.join_window.count())));
            queue_.push(at, event_kind::user, i, 0, tag_churn);
        }
    }
    present_.clear();
    present_.shrink_to_fit();

    // The workload: lookups evenly spread over the window.
    const auto& w = scenario_.workload;
    records_.resize(w.lookups);
    for (std::uint32_t l = 0; l < w.lookups; ++l) {
        records_[l].target = w.same_target ? attack_target_ : dht::random_node_id(r);
        const double at = seconds_of(w.warmup) + seconds_of(w.window) * (l + 0.5) / w.lookups;
        queue_.push(t0 + duration(static_cast<std::int64_t>(at * 1e9)), event_kind::user, 0, l, tag_lookup);
    }
    end_ = t0 + w.warmup + w.window + w.drain;
}

void dht_simulation::warm_fill(std::uint32_t i) {
    sim_node& self = nodes_[i];
    const std::size_t k = scenario_.dht.k;
    const time_point t0{};
    std::vector<std::uint32_t> picked;
    const auto eligible = [&](std::uint32_t j) {
        // A stabilised table holds only what it accepts: under BEP 42 checks, ids that fit.
        return j != i && present_[j] &&
               (!scenario_.defences.bep42_checks ||
                dht::verify_node_id(nodes_[j].id, ip_address::v4(nodes_[j].ip)));
    };
    for (std::size_t b = 0; b < 160; ++b) {
        // The ids that share exactly b bits with ours: bucket b of a fully split table.
        const auto [first, last] = id_range(flip_bit(self.id, b), b + 1);
        picked.clear();
        const std::size_t count = last - first;
        // Sample a big range; scan a small one, or one where sampling found too few (a range
        // crowded with nodes our table refuses, such as Sybils under BEP 42 checks).
        if (count > 4 * k) {
            for (std::size_t attempt = 0; attempt < 8 * k && picked.size() < k; ++attempt) {
                const std::uint32_t j = by_id_[first + build_rng_.uniform(count)].second;
                if (eligible(j) && std::find(picked.begin(), picked.end(), j) == picked.end()) {
                    picked.push_back(j);
                }
            }
        }
        if (picked.size() < k) {
            picked.clear();
            for (std::size_t x = first; x < last; ++x) {
                if (eligible(by_id_[x].second)) {
                    picked.push_back(by_id_[x].second);
                }
            }
            for (std::size_t x = picked.size(); x > 1; --x) {
                std::swap(picked[x - 1], picked[build_rng_.uniform(x)]);
            }
            if (picked.size() > k) {
                picked.resize(k);
            }
        }
        for (std::uint32_t j : picked) {
            self.dht->add_answered_contact(t0, {nodes_[j].id, endpoint_of(j)},
                                           2 * latency_.one_way(self.place, nodes_[j].place));
        }
        // Stop once nobody else shares b + 1 bits with us.
        const auto [own_first, own_last] = id_range(self.id, b + 1);
        if (own_last - own_first <= 1) {
            break;
        }
    }
}

void dht_simulation::start_node(std::uint32_t i, time_point now, bool cold) {
    sim_node& node = nodes_[i];
    ++node.incarnation;
    node.dht = std::make_unique<dht::dht_node>(config_for(i), mix(seed_, mix(i, node.incarnation)), now);
    node.up = true;
    node.up_since = now;
    node.timer_at = never;
    if (!cold && !node.saved_table.empty()) {
        auto saved = dht::routing_table::parse_saved(as_bytes(node.saved_table), 4096);
        if (saved) {
            node.dht->add_contacts(now, saved->nodes);
        }
    }
    node.saved_table.clear();
    node.saved_table.shrink_to_fit();
    flush(i, now);
}

void dht_simulation::stop_node(std::uint32_t i, time_point now) {
    sim_node& node = nodes_[i];
    counters_.honest_up_seconds += seconds_of(now - node.up_since);
    node.saved_table = node.dht->save_table();
    node.dht.reset();
    node.up = false;
    node.timer_at = never;
    node.pinholes.clear();
    node.pinholes.shrink_to_fit();
    ++node.incarnation;
}

void dht_simulation::run() {
    std::uint64_t since_report = 0;
    while (auto e = queue_.pop()) {
        if (e->at > end_) {
            break;
        }
        ++counters_.events;
        on_event(*e);
        if (progress_ && ++since_report == progress_every) {
            since_report = 0;
            progress_({"running", counters_.events, 0, e->at, end_, lookups_done_,
                       static_cast<std::uint32_t>(records_.size())});
        }
    }
    for (std::uint32_t i : honest_) {
        if (nodes_[i].up) {
            counters_.honest_up_seconds += seconds_of(end_ - nodes_[i].up_since);
        }
    }
    if (progress_) {
        progress_({"running", counters_.events, counters_.events, end_, end_, lookups_done_,
                   static_cast<std::uint32_t>(records_.size())});
    }
}

void dht_simulation::on_event(const event& e) {
    switch (e.kind) {
        case event_kind::deliver:
            deliver(e);
            break;
        case event_kind::timer:
            fire_timer(e);
            break;
        case event_kind::user:
            if (e.tag == tag_churn) {
                churn(e);
            } else {
                start_lookup(e);
            }
            break;
    }
}

void dht_simulation::deliver(const event& e) {
    flight f = std::move(flights_[e.payload]);
    flights_[e.payload].bytes.clear();
    free_flights_.push_back(e.payload);
    sim_node& node = nodes_[e.node];
    if (!node.up) {
        ++counters_.to_down_node;
        return;
    }
    if (node.nat) {
        const auto ms = static_cast<std::uint32_t>(
            std::chrono::duration_cast<milliseconds>(e.at.time_since_epoch()).count());
        const bool open = std::any_of(node.pinholes.begin(), node.pinholes.end(),
                                      [&](const auto& p) { return p.first == f.from && p.second >= ms; });
        if (!open) {
            ++counters_.nat_dropped;
            return;
        }
    }
    ++counters_.delivered;
    const endpoint from = endpoint_of(f.from);
    if (node.dht) {
        node.dht->on_datagram(e.at, from, as_bytes(f.bytes));
        flush(e.node, e.at);
    } else if (node.adversary) {
        adversary_out_.clear();
        node.adversary->on_datagram(e.at, from, as_bytes(f.bytes), directory_, adversary_out_);
        for (auto& t : adversary_out_) {
            send(e.node, e.at, t.to, std::move(t.bytes));
        }
    }
}

void dht_simulation::fire_timer(const event& e) {
    sim_node& node = nodes_[e.node];
    if (!node.up || e.payload != node.incarnation || e.at != node.timer_at) {
        return;  // stale: the node left, or asked for another time since
    }
    node.timer_at = never;
    if (node.dht) {
        node.dht->on_timer(e.at);
        flush(e.node, e.at);
    } else if (node.adversary) {
        adversary_out_.clear();
        auto next = node.adversary->on_timer(e.at, directory_, adversary_out_);
        for (auto& t : adversary_out_) {
            send(e.node, e.at, t.to, std::move(t.bytes));
        }
        reschedule(e.node, e.at, next);
    }
}

void dht_simulation::churn(const event& e) {
    sim_node& node = nodes_[e.node];
    rng& r = rng_;
    if (node.up) {
        stop_node(e.node, e.at);
        ++counters_.leaves;
        queue_.push(e.at + downtime_->sample(r), event_kind::user, e.node, 0, tag_churn);
        return;
    }
    const bool first_join = node.incarnation == 0;
    start_node(e.node, e.at, first_join);
    if (first_join) {
        ++counters_.joins;
    } else {
        ++counters_.returns;
    }
    if (node.churns) {
        queue_.push(e.at + session_->sample(r), event_kind::user, e.node, 0, tag_churn);
    }
}

void dht_simulation::start_lookup(const event& e) {
    lookup_record& rec = records_[e.payload];
    rec.started = e.at;
    const auto& pool = scenario_.workload.from_joiners ? joiners_ : honest_;
    std::optional<std::uint32_t> origin;
    for (int attempt = 0; attempt < 64 && !pool.empty(); ++attempt) {
        const std::uint32_t j = pool[rng_.uniform(pool.size())];
        if (nodes_[j].up && nodes_[j].dht) {
            origin = j;
            break;
        }
    }
    dht::lookup_id id = 0;
    if (origin) {
        rec.node = *origin;
        id = nodes_[*origin].dht->find_node(e.at, rec.target);
    }
    if (id == 0) {
        rec.done = true;
        ++lookups_done_;
        return;
    }
    rec.started_ok = true;
    record_of_[(static_cast<std::uint64_t>(*origin) << 32) | id] = e.payload;
    flush(*origin, e.at);
}

void dht_simulation::flush(std::uint32_t i, time_point now) {
    sim_node& node = nodes_[i];
    while (auto t = node.dht->poll_datagram()) {
        send(i, now, t->to, std::move(t->bytes));
    }
    while (auto ev = node.dht->poll_event()) {
        if (const auto* done = std::get_if<dht::lookup_done>(&*ev)) {
            note_done(i, *done);
        }
    }
    reschedule(i, now, node.dht->next_timer());
}

void dht_simulation::send(std::uint32_t from, time_point now, const endpoint& to, byte_buffer bytes) {
    sim_node& src = nodes_[from];
    ++counters_.datagrams;
    (src.honest ? counters_.bytes_honest : counters_.bytes_adversary) += bytes.size();
    const auto dst = index_of(to);
    if (!dst) {
        ++counters_.unknown_address;
        return;
    }
    if (src.nat) {
        // The NAT opens (or refreshes) a pinhole for answers from this peer.
        const auto expiry = static_cast<std::uint32_t>(
            std::chrono::duration_cast<milliseconds>((now + scenario_.network.nat_timeout).time_since_epoch())
                .count());
        auto it = std::find_if(src.pinholes.begin(), src.pinholes.end(),
                               [&](const auto& p) { return p.first == *dst; });
        if (it != src.pinholes.end()) {
            it->second = expiry;
        } else if (src.pinholes.size() < pinholes_max) {
            src.pinholes.emplace_back(*dst, expiry);
        } else {
            *std::min_element(src.pinholes.begin(), src.pinholes.end(), [](const auto& a, const auto& b) {
                return a.second < b.second;
            }) = {*dst, expiry};
        }
    }
    if (scenario_.network.loss > 0 && unit_interval(rng_) < scenario_.network.loss) {
        ++counters_.lost;
        return;
    }
    time_point depart = now;
    if (scenario_.network.upload_kbps > 0) {
        // The uplink sends one datagram after another: queueing delay is what a busy node pays.
        const double tx_s =
            static_cast<double>(bytes.size() + 28) * 8 / (scenario_.network.upload_kbps * 1000);
        depart = std::max(now, src.uplink_free) + duration(static_cast<std::int64_t>(tx_s * 1e9));
        src.uplink_free = depart;
    }
    const time_point arrive = depart + latency_.one_way(src.place, nodes_[*dst].place, rng_);
    std::uint32_t slot = 0;
    if (!free_flights_.empty()) {
        slot = free_flights_.back();
        free_flights_.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(flights_.size());
        flights_.emplace_back();
    }
    flights_[slot] = flight{from, std::move(bytes)};
    queue_.push(arrive, event_kind::deliver, *dst, slot);
}

void dht_simulation::reschedule(std::uint32_t i, time_point now, std::optional<time_point> next) {
    if (!next) {
        return;
    }
    sim_node& node = nodes_[i];
    // Work due now runs a millisecond later, so that a core that keeps a deadline due cannot spin.
    const time_point at = *next > now ? *next : now + milliseconds(1);
    if (node.timer_at <= at) {
        return;  // an earlier wake-up is pending; it will ask again
    }
    node.timer_at = at;
    queue_.push(at, event_kind::timer, i, node.incarnation);
}

void dht_simulation::note_done(std::uint32_t i, const dht::lookup_done& done) {
    const auto it = record_of_.find((static_cast<std::uint64_t>(i) << 32) | done.id);
    if (it == record_of_.end()) {
        if (done.kind == dht::lookup_kind::bootstrap || done.kind == dht::lookup_kind::refresh) {
            ++counters_.maintenance_lookups;
        }
        return;
    }
    lookup_record& rec = records_[it->second];
    record_of_.erase(it);
    rec.done = true;
    ++lookups_done_;
    rec.latency = done.stats.elapsed;
    rec.hops = static_cast<std::uint16_t>(std::clamp(done.stats.hops, 0, 65535));
    rec.queries = static_cast<std::uint16_t>(std::min<std::size_t>(done.stats.queries, 65535));
    rec.responses = static_cast<std::uint16_t>(std::min<std::size_t>(done.stats.responses, 65535));
    rec.timeouts = static_cast<std::uint16_t>(std::min<std::size_t>(done.stats.timeouts, 65535));
    const auto truth = true_closest(rec.target, scenario_.dht.k);
    std::size_t found = 0;
    for (std::uint32_t t : truth) {
        const endpoint ep = endpoint_of(t);
        const bool returned =
            std::any_of(done.closest.begin(), done.closest.end(),
                        [&](const dht::node_contact& c) { return c.ep == ep && c.id == nodes_[t].id; });
        if (returned) {
            ++found;
            if (t == truth.front()) {
                rec.found_closest = true;
            }
        }
    }
    rec.k_found = static_cast<std::uint8_t>(found);
}

std::pair<std::size_t, std::size_t> dht_simulation::id_range(const dht::node_id& id, std::size_t bits) const {
    const auto [lo, hi] = prefix_range(id, bits);
    const auto first = std::lower_bound(by_id_.begin(), by_id_.end(), std::make_pair(lo, std::uint32_t{0}));
    const auto last = std::upper_bound(first, by_id_.end(), std::make_pair(hi, UINT32_MAX));
    return {static_cast<std::size_t>(first - by_id_.begin()),
            static_cast<std::size_t>(last - by_id_.begin())};
}

std::vector<std::uint32_t> dht_simulation::true_closest(const dht::node_id& target, std::size_t k) const {
    // Nodes outside the ids sharing `bits` bits with the target are farther than all inside: find
    // a prefix whose range holds k eligible nodes, then sort just that range.
    std::size_t bits = static_cast<std::size_t>(
        std::max(0.0, std::floor(std::log2(static_cast<double>(nodes_.size()) / k))));
    bits = std::min<std::size_t>(bits + 2, 160);
    std::vector<std::uint32_t> found;
    for (;;) {
        const auto [first, last] = id_range(target, bits);
        found.clear();
        for (std::size_t x = first; x < last; ++x) {
            if (reachable_honest(by_id_[x].second)) {
                found.push_back(by_id_[x].second);
            }
        }
        if (found.size() >= k || bits == 0) {
            break;
        }
        --bits;
    }
    std::sort(found.begin(), found.end(), [&](std::uint32_t a, std::uint32_t b) {
        return (nodes_[a].id ^ target) < (nodes_[b].id ^ target);
    });
    if (found.size() > k) {
        found.resize(k);
    }
    return found;
}

table_health dht_simulation::tables() const {
    table_health h;
    std::vector<std::uint32_t> up;
    for (std::uint32_t i : honest_) {
        if (nodes_[i].up && nodes_[i].dht) {
            up.push_back(i);
        }
    }
    constexpr std::size_t sample_max = 2000;
    const std::size_t stride = std::max<std::size_t>(1, up.size() / sample_max);
    std::uint64_t entries = 0;
    std::uint64_t live_up = 0;
    std::uint64_t adversarial = 0;
    std::uint64_t buckets = 0;
    std::uint64_t replacements = 0;
    std::uint64_t table_bytes = 0;
    for (std::size_t x = 0; x < up.size(); x += stride) {
        const sim_node& node = nodes_[up[x]];
        const auto& table = node.dht->table();
        ++h.sampled;
        buckets += table.bucket_count();
        replacements += table.replacement_count();
        table_bytes += table.memory_bytes();
        table.for_each(end_, [&](const dht::node_info& info) {
            if (info.replacement) {
                return;
            }
            ++entries;
            if (auto j = index_of(info.contact.ep)) {
                live_up += nodes_[*j].up ? 1 : 0;
                adversarial += nodes_[*j].honest ? 0 : 1;
            }
        });
    }
    if (h.sampled > 0) {
        const double s = h.sampled;
        h.entries_mean = static_cast<double>(entries) / s;
        h.buckets_mean = static_cast<double>(buckets) / s;
        h.replacements_mean = static_cast<double>(replacements) / s;
        h.table_bytes_mean = static_cast<double>(table_bytes) / s;
        h.node_bytes_mean = h.table_bytes_mean + sizeof(dht::dht_node);
    }
    if (entries > 0) {
        h.live_fraction = static_cast<double>(live_up) / static_cast<double>(entries);
        h.adversary_fraction = static_cast<double>(adversarial) / static_cast<double>(entries);
    }
    return h;
}

}  // namespace hyphae::sim
