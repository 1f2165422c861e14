#pragma once
// DHT nodes on the simulated network, for tests: a thin layer over sim::network (network.hpp),
// which carries the datagrams (fixed latency with jitter, loss, a seeded generator), wakes the
// hosts in virtual time (run_for) and keeps datagrams to unknown addresses as strays. Each host
// here has one service, a dht_node; this adds them at 10.x.y.1:6881-style addresses, keeps their
// events, and plays remote peers through inject_datagram and take_strays.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hyphae/proto/dht/dht_node.hpp"
#include "hyphae/proto/dht/krpc.hpp"
#include "hyphae/sim/network.hpp"

namespace hyphae::test {

using dht::dht_config;
using dht::dht_event;
using dht::dht_node;

struct dht_hosts_options {
    duration latency = std::chrono::milliseconds(20);
    duration jitter = std::chrono::milliseconds(10);
    double loss = 0.0;
    std::uint64_t seed = 1;
    std::uint32_t base_address = 0x0a000001;  // 10.0.0.1: private, so BEP 42 exempts it
};

// The network itself, with each host's dht_node at hand and their events kept.
class dht_hosts : public sim::network {
public:
    static constexpr service_id dht_service = 1;  // the first service of a fresh host

    explicit dht_hosts(dht_hosts_options o = {}) : network(params(o)), options_(o) {
        set_ready_handler([this](sim::host_index i, time_point, service_id id) {
            auto& node = at(i).get<dht_node>(id);
            while (auto e = node.poll_event()) {
                events_.emplace_back(i, std::move(*e));
            }
        });
    }

    // A host at base.<i / 250>.<i % 250>.1:6881 (base 10: private, BEP 42 exempts it) whose one
    // service is a dht_node.
    std::size_t add_node(dht_config config = {}) {
        const std::size_t index = size();
        const endpoint ep{
            ip_address::v4(options_.base_address | static_cast<std::uint32_t>(index / 250) << 16 |
                           static_cast<std::uint32_t>(index % 250) << 8),
            6881};
        const sim::host_index i = add_host(ep);
        at(i).add(now(), std::make_unique<dht_node>(config, options_.seed * 1000003 + index, now()));
        pump(i);
        return i;
    }

    dht_node& node(std::size_t i) { return at(static_cast<sim::host_index>(i)).get<dht_node>(dht_service); }
    const endpoint& address(std::size_t i) const { return address_of(static_cast<sim::host_index>(i)); }

    // A command to node i now (network::call): what it sends leaves at once.
    template <class F>
    auto command(std::size_t i, F&& f) {
        return call<dht_node>(static_cast<sim::host_index>(i), dht_service,
                              [&](dht_node& n) { return f(n, now()); });
    }

    // Events every node emitted, in order, with the node's index.
    std::vector<std::pair<std::size_t, dht_event>>& events() { return events_; }

    // Bytes to node `to` as if from `from` (inject_datagram, so they arrive after one latency); runs
    // that latency and returns what the nodes answered to `from`. Their own queries to `from` are
    // dropped (nobody plays it); other strays are kept for take_strays().
    std::vector<std::string> exchange(std::size_t to, const endpoint& from, std::string_view bytes) {
        inject_datagram(static_cast<sim::host_index>(to), from, to_buffer(bytes));
        return answers_to(from);
    }
    std::vector<std::string> answers_to(const endpoint& from) {
        run_for(options_.latency);
        std::vector<std::string> replies;
        for (auto& s : network::take_strays()) {
            if (s.what.to != from) {
                strays_.push_back(std::move(s));
                continue;
            }
            auto decoded = dht::decode_krpc(as_bytes(s.what.bytes));
            if (!decoded || decoded->type != dht::krpc_message::kind::query) {
                replies.emplace_back(as_chars(s.what.bytes));
            }
        }
        return replies;
    }

    // Datagrams sent to addresses no host has (network::take_strays), for tests that play a remote node.
    std::vector<stray> take_strays() {
        std::vector<stray> out = std::exchange(strays_, {});
        for (auto& s : network::take_strays()) {
            out.push_back(std::move(s));
        }
        return out;
    }

private:
    static sim::network_params params(const dht_hosts_options& o) {
        sim::network_params p;
        p.seed = o.seed;
        p.latency = o.latency;
        p.jitter = o.jitter;
        p.loss = o.loss;
        p.start = time_point(std::chrono::hours(1));
        return p;
    }

    dht_hosts_options options_;
    std::vector<std::pair<std::size_t, dht_event>> events_;
    std::vector<stray> strays_;
};

inline dht_config bootstrapped_from(const endpoint& ep) {
    dht_config config;
    config.bootstrap = {ep};
    return config;
}

// n nodes on `net`, each with `config` (its bootstrap list set to node 0), that all bootstrapped
// off node 0 and ran 30 s.
inline void make_network(dht_hosts& net, std::size_t n, dht_config config = {}) {
    const std::size_t first = net.add_node(config);
    config.bootstrap = {net.address(first)};
    for (std::size_t i = 1; i < n; ++i) {
        net.add_node(config);
    }
    for (std::size_t i = first + 1; i < first + n; ++i) {
        net.command(i, [](dht_node& node, time_point now) { return node.bootstrap(now); });
    }
    net.run_for(std::chrono::seconds(30));
}

template <class T>
std::vector<T> events_of(dht_hosts& net, std::size_t node) {
    std::vector<T> out;
    for (auto& [i, e] : net.events()) {
        if (i == node) {
            if (auto* x = std::get_if<T>(&e)) {
                out.push_back(*x);
            }
        }
    }
    return out;
}

inline std::optional<dht::lookup_done> done_event(dht_hosts& net, std::size_t node, dht::lookup_id id) {
    for (auto& d : events_of<dht::lookup_done>(net, node)) {
        if (d.id == id) {
            return d;
        }
    }
    return std::nullopt;
}

inline bool finished(dht_hosts& net, std::size_t node, dht::lookup_id id) {
    return done_event(net, node, id).has_value();
}

}  // namespace hyphae::test
