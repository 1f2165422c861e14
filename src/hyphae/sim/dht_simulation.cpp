#include "hyphae/sim/dht_simulation.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "hyphae/proto/dht/node_id_policy.hpp"
#include "hyphae/proto/dht/routing_table.hpp"
#include "hyphae/sim/adversary_service.hpp"
#include "hyphae/sim/distributions.hpp"

namespace hyphae::sim {

namespace {

constexpr std::uint32_t progress_every = 1u << 16;
constexpr std::uint8_t tag_churn = 0;
constexpr std::uint8_t tag_lookup = 1;
constexpr service_id node_service = 1;  // every host's one service: the first added to a fresh host

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
    std::string saved_table;  // honest and down: what the runtime's --state file would hold
    dht::node_id id;
    time_point up_since{};
    std::uint32_t incarnation = 0;  // lives started and ended: seeds each life's core
    bool nat = false;
    bool honest = true;
    bool joiner = false;
    bool churns = false;
};

namespace {

network_params params_of(const scenario& s, std::uint64_t seed) {
    network_params p;
    p.seed = mix(seed, 1);
    p.loss = s.network.loss;
    p.nat_timeout = s.network.nat_timeout;
    p.datagram_overhead = 28;  // IPv4 and UDP headers, charged on the uplink
    p.start = time_point{};
    return p;
}

}  // namespace

dht_simulation::dht_simulation(const scenario& s, std::uint64_t seed, progress_callback progress)
    : scenario_(s),
      seed_(seed),
      progress_(std::move(progress)),
      build_rng_(mix(seed, 2)),
      latency_(s.network.latency),
      net_(params_of(s, seed), &latency_) {
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
    net_.set_ready_handler([this](host_index i, time_point, service_id id) { on_ready(i, id); });
    net_.set_user_handler([this](const event& e) { on_user(e); });
    build_population();
}

dht_simulation::~dht_simulation() = default;

dht::dht_node& dht_simulation::dht_of(std::uint32_t i) const {
    return net_.at(i).get<dht::dht_node>(node_service);
}

bool dht_simulation::reachable_honest(std::uint32_t i) const {
    const sim_node& n = nodes_[i];
    return n.honest && !n.nat && net_.up(i);
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

    // Addresses: distinct public IPv4, one node each. The hosts are added once roles are known.
    std::vector<endpoint> addresses(n);
    places_.resize(n);
    {
        std::unordered_set<std::uint32_t> taken;
        taken.reserve(n);
        for (std::uint32_t i = 0; i < n; ++i) {
            std::uint32_t a = 0;
            do {
                a = static_cast<std::uint32_t>(r());
            } while (!public_ipv4(a) || taken.count(a) != 0);
            taken.insert(a);
            const auto port =
                static_cast<std::uint16_t>(1024 + r.uniform(65536 - 1024));  // as real nodes pick
            addresses[i] = endpoint{ip_address::v4(a), port};
            places_[i] = latency_.place(r);
        }
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
        nodes_[rest[next++]].honest = false;
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
    rest = {};

    // The hosts: host i is node i, its uplink the scenario's (each datagram pays its bytes and the
    // network's 28 bytes of headers).
    for (std::uint32_t i = 0; i < n; ++i) {
        host_options o;
        o.place = places_[i];
        o.link.up_bytes_per_second = static_cast<float>(net.upload_kbps * 1000 / 8);
        o.nat = nodes_[i].nat;
        net_.add_host(addresses[i], o);
    }
    addresses = {};

    // Ids: honest nodes take BEP 42 ids for their address, as libtorrent and Hyphae do; so do
    // adversaries, unless they cluster around the target (which BEP 42 is there to stop).
    for (std::uint32_t i = 0; i < n; ++i) {
        sim_node& node = nodes_[i];
        if (!node.honest && adv.sybil_shared_bits > 0) {
            node.id = sybil_id(attack_target_, adv.sybil_shared_bits, r);
        } else {
            node.id = dht::make_node_id(endpoint_of(i).address, r);
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

    // Adversaries: the directory they share, then their hosts' services.
    const time_point t0 = net_.now();
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
            if (!nodes_[i].honest) {
                // Their first wake-ups spread over a second so that pushes do not all start at once.
                const time_point first = t0 + std::chrono::microseconds(r.uniform(1000000));
                net_.at(i).add(t0, std::make_unique<adversary_service>(
                                       adv.kind, dht::node_contact{nodes_[i].id, endpoint_of(i)},
                                       mix(seed_, i), directory_, first));
                net_.pump(i);
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
    std::vector<bool> up(n, true);  // adversaries are up throughout
    for (std::uint32_t i : honest_) {
        sim_node& node = nodes_[i];
        node.churns = ch.enabled && i >= net.bootstrap_nodes && !node.joiner;
        if (node.churns && unit_interval(r) >= up_share) {
            down_at_start[i] = true;
        }
        const bool cold_start = net.start == start_mode::bootstrap && i >= net.bootstrap_nodes;
        up[i] = !node.joiner && !cold_start;
    }
    // Warm tables hold the nodes up at the start: a stabilised network has evicted the ones long gone.
    present_.assign(n, false);
    for (std::uint32_t i = 0; i < n; ++i) {
        present_[i] = !nodes_[i].nat && (nodes_[i].honest ? up[i] && !down_at_start[i] : adv.in_warm_tables);
    }

    // Build the honest nodes present at the start; warm ones get their tables filled. The others'
    // hosts are down until they join.
    std::uint64_t built = 0;
    for (std::uint32_t i : honest_) {
        sim_node& node = nodes_[i];
        if (up[i]) {
            auto core = std::make_unique<dht::dht_node>(config_for(i), mix(seed_, mix(i, 0)), t0);
            node.up_since = t0;
            if (net.start == start_mode::warm) {
                warm_fill(i, *core);
            } else {
                // Bootstrap start: the bootstrap nodes know each other, nobody else yet.
                for (std::uint32_t j = 0; j < net.bootstrap_nodes; ++j) {
                    if (j != i) {
                        core->add_answered_contact(t0, {nodes_[j].id, endpoint_of(j)},
                                                   2 * latency_.one_way(places_[i], places_[j]));
                    }
                }
            }
            net_.at(i).add(t0, std::move(core));
        } else {
            net_.take_down(i);
        }
        if (progress_ && (++built % 4096 == 0 || built == honest_.size())) {
            progress_({"building", built, honest_.size(), t0, t0, 0, scenario_.workload.lookups});
        }
    }
    for (std::uint32_t i : honest_) {
        sim_node& node = nodes_[i];
        if (up[i]) {
            if (down_at_start[i]) {
                // Was up before the run: it leaves at once, keeping the table a stable network gave it.
                node.saved_table = dht_of(i).save_table();
                net_.take_down(i);
                ++node.incarnation;
                net_.schedule(t0 + downtime_->sample(r), tag_churn, i);
            } else {
                net_.pump(i);  // arms its timer
                if (node.churns) {
                    net_.schedule(t0 + session_->sample(r), tag_churn, i);
                }
            }
        } else {
            // Joins cold over the join window: a joiner, or everyone in a bootstrap start.
            const auto at = t0 + duration(static_cast<std::int64_t>(
                                     unit_interval(r) * static_cast<double>(net.join_window.count())));
            net_.schedule(at, tag_churn, i);
        }
    }
    present_ = {};
    places_ = {};

    // The workload: lookups evenly spread over the window.
    const auto& w = scenario_.workload;
    records_.resize(w.lookups);
    for (std::uint32_t l = 0; l < w.lookups; ++l) {
        records_[l].target = w.same_target ? attack_target_ : dht::random_node_id(r);
        const double at = seconds_of(w.warmup) + seconds_of(w.window) * (l + 0.5) / w.lookups;
        net_.schedule(t0 + duration(static_cast<std::int64_t>(at * 1e9)), tag_lookup, 0, l);
    }
    end_ = t0 + w.warmup + w.window + w.drain;
}

void dht_simulation::warm_fill(std::uint32_t i, dht::dht_node& self) {
    const dht::node_id& own = nodes_[i].id;
    const std::size_t k = scenario_.dht.k;
    const time_point t0 = net_.now();
    std::vector<std::uint32_t> picked;
    const auto eligible = [&](std::uint32_t j) {
        // A stabilised table holds only what it accepts: under BEP 42 checks, ids that fit.
        return j != i && present_[j] &&
               (!scenario_.defences.bep42_checks ||
                dht::verify_node_id(nodes_[j].id, endpoint_of(j).address));
    };
    for (std::size_t b = 0; b < 160; ++b) {
        // The ids that share exactly b bits with ours: bucket b of a fully split table.
        const auto [first, last] = id_range(flip_bit(own, b), b + 1);
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
            self.add_answered_contact(t0, {nodes_[j].id, endpoint_of(j)},
                                      2 * latency_.one_way(places_[i], places_[j]));
        }
        // Stop once nobody else shares b + 1 bits with us.
        const auto [own_first, own_last] = id_range(own, b + 1);
        if (own_last - own_first <= 1) {
            break;
        }
    }
}

void dht_simulation::start_node(std::uint32_t i, time_point now, bool cold) {
    sim_node& node = nodes_[i];
    ++node.incarnation;
    auto core = std::make_unique<dht::dht_node>(config_for(i), mix(seed_, mix(i, node.incarnation)), now);
    node.up_since = now;
    if (!cold && !node.saved_table.empty()) {
        auto saved = dht::routing_table::parse_saved(as_bytes(node.saved_table), 4096);
        if (saved) {
            core->add_contacts(now, saved->nodes);
        }
    }
    node.saved_table.clear();
    node.saved_table.shrink_to_fit();
    net_.bring_up(i).add(now, std::move(core));
    net_.pump(i);
}

void dht_simulation::stop_node(std::uint32_t i, time_point now) {
    sim_node& node = nodes_[i];
    honest_up_seconds_ += seconds_of(now - node.up_since);
    node.saved_table = dht_of(i).save_table();
    net_.take_down(i);
    ++node.incarnation;
}

void dht_simulation::run() {
    std::uint64_t since_report = 0;
    net_.run_until(
        [&] {
            if (progress_ && ++since_report == progress_every) {
                since_report = 0;
                progress_({"running", net_.counters().events, 0, net_.now(), end_, lookups_done_,
                           static_cast<std::uint32_t>(records_.size())});
            }
            return false;
        },
        end_);
    for (std::uint32_t i : honest_) {
        if (net_.up(i)) {
            honest_up_seconds_ += seconds_of(end_ - nodes_[i].up_since);
        }
    }
    if (progress_) {
        const auto events = net_.counters().events;
        progress_({"running", events, events, end_, end_, lookups_done_,
                   static_cast<std::uint32_t>(records_.size())});
    }
}

sim_counters dht_simulation::counters() const {
    const network_counters& n = net_.counters();
    sim_counters c;
    c.events = n.events;
    c.datagrams = n.datagrams;
    c.delivered = n.delivered;
    c.lost = n.lost;
    c.to_down_node = n.to_down_host;
    c.nat_dropped = n.nat_dropped;
    c.unknown_address = n.unknown_address;
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
        (nodes_[i].honest ? c.bytes_honest : c.bytes_adversary) += net_.traffic(i).datagram_bytes_up;
    }
    c.leaves = leaves_;
    c.returns = returns_;
    c.joins = joins_;
    c.maintenance_lookups = maintenance_lookups_;
    c.honest_up_seconds = honest_up_seconds_;
    return c;
}

void dht_simulation::on_user(const event& e) {
    if (e.tag == tag_churn) {
        churn(e);
    } else {
        start_lookup(e);
    }
}

void dht_simulation::on_ready(std::uint32_t i, service_id id) {
    if (!nodes_[i].honest) {
        return;  // adversaries have no events
    }
    dht::dht_node& node = net_.at(i).get<dht::dht_node>(id);
    while (auto ev = node.poll_event()) {
        if (const auto* done = std::get_if<dht::lookup_done>(&*ev)) {
            note_done(i, *done);
        }
    }
}

void dht_simulation::churn(const event& e) {
    sim_node& node = nodes_[e.node];
    rng& r = net_.random();
    if (net_.up(e.node)) {
        stop_node(e.node, e.at);
        ++leaves_;
        net_.schedule(e.at + downtime_->sample(r), tag_churn, e.node);
        return;
    }
    const bool first_join = node.incarnation == 0;
    start_node(e.node, e.at, first_join);
    if (first_join) {
        ++joins_;
    } else {
        ++returns_;
    }
    if (node.churns) {
        net_.schedule(e.at + session_->sample(r), tag_churn, e.node);
    }
}

void dht_simulation::start_lookup(const event& e) {
    lookup_record& rec = records_[e.payload];
    rec.started = e.at;
    const auto& pool = scenario_.workload.from_joiners ? joiners_ : honest_;
    std::optional<std::uint32_t> origin;
    for (int attempt = 0; attempt < 64 && !pool.empty(); ++attempt) {
        const std::uint32_t j = pool[net_.random().uniform(pool.size())];
        if (net_.up(j)) {
            origin = j;
            break;
        }
    }
    dht::lookup_id id = 0;
    if (origin) {
        rec.node = *origin;
        // Noted inside the command: a lookup may end before network::call returns.
        id = net_.call<dht::dht_node>(*origin, node_service, [&](dht::dht_node& node) {
            const dht::lookup_id started = node.find_node(e.at, rec.target);
            if (started != 0) {
                rec.started_ok = true;
                record_of_[(static_cast<std::uint64_t>(*origin) << 32) | started] = e.payload;
            }
            return started;
        });
    }
    if (id == 0) {
        rec.done = true;
        ++lookups_done_;
    }
}

void dht_simulation::note_done(std::uint32_t i, const dht::lookup_done& done) {
    const auto it = record_of_.find((static_cast<std::uint64_t>(i) << 32) | done.id);
    if (it == record_of_.end()) {
        if (done.kind == dht::lookup_kind::bootstrap || done.kind == dht::lookup_kind::refresh) {
            ++maintenance_lookups_;
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
        if (net_.up(i)) {
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
        const auto& table = dht_of(up[x]).table();
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
                live_up += net_.up(*j) ? 1 : 0;
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
