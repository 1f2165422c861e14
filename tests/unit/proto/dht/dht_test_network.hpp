#pragma once
// A small in-memory network of dht_node cores for tests: a virtual clock, a fixed one-way
// latency with optional jitter and loss, a seeded generator, and nodes that can be made silent.
// drive_until() runs events in time order until a condition holds or a virtual deadline passes,
// so a test never hangs and never sleeps.

#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <utility>
#include <vector>

#include "hyphae/core/rng.hpp"
#include "hyphae/proto/dht/dht_node.hpp"

namespace hyphae::dht::test {

class dht_test_network {
public:
    struct options {
        duration latency = std::chrono::milliseconds(20);
        duration jitter = std::chrono::milliseconds(10);
        double loss = 0.0;
        std::uint64_t seed = 1;
        std::uint32_t base_address = 0x0a000001;  // 10.0.0.1: private, so BEP 42 exempts it
    };

    explicit dht_test_network(options opts) : opts_(opts), random_(opts.seed) {}

    // Adds a node at base.<i / 250>.<i % 250>.1:6881 (base 10: private, BEP 42 exempts it).
    std::size_t add_node(dht_config config = {}) {
        const std::size_t index = nodes_.size();
        const endpoint ep{ip_address::v4(opts_.base_address | static_cast<std::uint32_t>(index / 250) << 16 |
                                         static_cast<std::uint32_t>(index % 250) << 8),
                          6881};
        nodes_.push_back(std::make_unique<dht_node>(config, opts_.seed * 1000003 + index, now_));
        endpoints_.push_back(ep);
        silent_.push_back(false);
        by_endpoint_[ep] = index;
        return index;
    }

    dht_node& node(std::size_t i) { return *nodes_[i]; }
    const endpoint& address(std::size_t i) const { return endpoints_[i]; }
    std::size_t size() const { return nodes_.size(); }
    time_point now() const { return now_; }
    void set_silent(std::size_t i, bool silent) { silent_[i] = silent; }

    // Runs a command on a node now and delivers its output.
    template <class F>
    auto command(std::size_t i, F&& f) {
        auto result = f(*nodes_[i], now_);
        flush(i);
        return result;
    }

    // Events every node emitted, in order, with the node's index.
    std::vector<std::pair<std::size_t, dht_event>>& events() { return events_; }

    // Sends raw bytes to a node as if from `from`, and returns the answers it sent back to `from`
    // (its own queries to `from`, such as a ping of a newcomer, are left out).
    std::vector<std::string> inject(std::size_t to, const endpoint& from, std::string_view bytes) {
        nodes_[to]->on_datagram(now_, from, as_bytes(bytes));
        std::vector<std::string> replies;
        while (auto tx = nodes_[to]->poll_datagram()) {
            if (tx->to == from) {
                auto decoded = decode_krpc(as_bytes(tx->bytes));
                if (!decoded || decoded->type != krpc_message::kind::query) {
                    replies.emplace_back(as_chars(tx->bytes));
                }
            } else {
                schedule(to, std::move(*tx));
            }
        }
        collect_events(to);
        return replies;
    }

    // Runs until `done()` holds (true) or `limit` of virtual time has passed (false).
    bool drive_until(const std::function<bool()>& done, duration limit) {
        const time_point deadline = now_ + limit;
        while (!done()) {
            time_point next = deadline;
            if (!deliveries_.empty()) {
                next = std::min(next, deliveries_.top().at);
            }
            std::size_t timer_node = nodes_.size();
            for (std::size_t i = 0; i < nodes_.size(); ++i) {
                if (auto t = nodes_[i]->next_timer(); t && *t < next) {
                    next = std::max(*t, now_);
                    timer_node = i;
                }
            }
            if (next >= deadline) {
                now_ = deadline;
                return done();
            }
            now_ = next;
            if (timer_node < nodes_.size()) {
                nodes_[timer_node]->on_timer(now_);
                flush(timer_node);
                continue;
            }
            delivery d = deliveries_.top();
            deliveries_.pop();
            if (!silent_[d.to]) {
                nodes_[d.to]->on_datagram(now_, endpoints_[d.from], as_bytes(d.bytes));
                flush(d.to);
            }
        }
        return true;
    }

    void run_for(duration span) {
        drive_until([] { return false; }, span);
    }

    std::uint64_t datagrams_sent() const { return sent_; }
    // Datagrams sent to addresses outside the network, for tests that play a remote node.
    std::vector<dht_transmit> take_strays() { return std::exchange(strays_, {}); }

private:
    struct delivery {
        time_point at;
        std::uint64_t order;
        std::size_t from;
        std::size_t to;
        byte_buffer bytes;
        bool operator>(const delivery& other) const {
            return at != other.at ? at > other.at : order > other.order;
        }
    };

    void schedule(std::size_t from, dht_transmit tx) {
        ++sent_;
        auto it = by_endpoint_.find(tx.to);
        if (it == by_endpoint_.end()) {
            strays_.push_back(std::move(tx));
            return;
        }
        if (random_.unit() < opts_.loss) {
            return;
        }
        const auto jitter = opts_.jitter.count() > 0 ? duration(static_cast<duration::rep>(random_.uniform(
                                                           static_cast<std::uint64_t>(opts_.jitter.count()))))
                                                     : duration::zero();
        deliveries_.push(
            delivery{now_ + opts_.latency + jitter, order_++, from, it->second, std::move(tx.bytes)});
    }

    void flush(std::size_t i) {
        while (auto tx = nodes_[i]->poll_datagram()) {
            schedule(i, std::move(*tx));
        }
        collect_events(i);
    }

    void collect_events(std::size_t i) {
        while (auto e = nodes_[i]->poll_event()) {
            events_.emplace_back(i, std::move(*e));
        }
    }

    options opts_;
    rng random_;
    time_point now_{std::chrono::hours(1)};
    std::vector<std::unique_ptr<dht_node>> nodes_;
    std::vector<endpoint> endpoints_;
    std::vector<bool> silent_;
    std::map<endpoint, std::size_t> by_endpoint_;
    std::priority_queue<delivery, std::vector<delivery>, std::greater<>> deliveries_;
    std::vector<std::pair<std::size_t, dht_event>> events_;
    std::vector<dht_transmit> strays_;
    std::uint64_t order_ = 0;
    std::uint64_t sent_ = 0;
};

inline dht_config bootstrapped_from(const endpoint& ep) {
    dht_config config;
    config.bootstrap = {ep};
    return config;
}

// A network of n nodes, each with `config` (its bootstrap list set to node 0), that all
// bootstrapped off node 0 and ran 30 s.
inline dht_test_network make_network(std::size_t n, dht_test_network::options opts = {},
                                     dht_config config = {}) {
    dht_test_network net(opts);
    net.add_node(config);
    config.bootstrap = {net.address(0)};
    for (std::size_t i = 1; i < n; ++i) {
        net.add_node(config);
    }
    for (std::size_t i = 1; i < n; ++i) {
        net.command(i, [](dht_node& node, time_point now) { return node.bootstrap(now); });
    }
    net.run_for(std::chrono::seconds(30));
    return net;
}

template <class T>
std::vector<T> events_of(dht_test_network& net, std::size_t node) {
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

inline std::optional<lookup_done> done_event(dht_test_network& net, std::size_t node, lookup_id id) {
    for (auto& d : events_of<lookup_done>(net, node)) {
        if (d.id == id) {
            return d;
        }
    }
    return std::nullopt;
}

inline bool finished(dht_test_network& net, std::size_t node, lookup_id id) {
    return done_event(net, node, id).has_value();
}

}  // namespace hyphae::dht::test
