#pragma once
// Hosts back to back on a virtual clock, without sockets: each host has one address (its UDP and
// TCP port are the same number), and the network carries what each host emits to the host it is
// for, in order: a connect becomes on_accepted at the other end and on_connected (or on_closed,
// refused) at this end, sent bytes arrive as on_stream_bytes, a close as on_closed, a datagram as
// on_datagram from the sender's address. Names are looked up in `names` (missing: a failure),
// inline or, with hold_lookups, when the test answers them.
//
//   step()       delivers the oldest transmit in flight (false: none)
//   drive()      delivers until nothing is in flight; fails the test instead of looping forever
//   advance(d)   moves the clock by d, firing the hosts' timers and driving after each

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "hyphae/core/io.hpp"
#include "hyphae/host/host.hpp"

namespace hyphae::testing {

class host_network {
public:
    struct node {
        host h;
        endpoint address;
    };
    struct in_flight {
        std::size_t from = 0;
        transmit what;
    };
    struct held_lookup {
        std::size_t at = 0;
        routed_resolve query;
    };

    time_point now = time_point(std::chrono::seconds(1000));
    std::map<std::string, std::vector<endpoint>> names;
    bool hold_lookups = false;
    std::vector<held_lookup> lookups_held;
    std::deque<in_flight> wire;
    std::size_t datagrams_lost = 0;  // sent to an address no host has
    std::size_t lookups_answered = 0;

    std::size_t add_host(const endpoint& address, host_config config = {}) {
        nodes_.push_back(std::unique_ptr<node>(new node{host(config), address}));
        return nodes_.size() - 1;
    }
    host& at(std::size_t i) { return nodes_.at(i)->h; }
    const endpoint& address_of(std::size_t i) const { return nodes_.at(i)->address; }

    // Moves every host's outputs onto the wire (answering look-ups unless held).
    void collect() {
        bool more = true;
        while (more) {
            more = false;
            for (std::size_t i = 0; i < nodes_.size(); ++i) {
                host& h = nodes_[i]->h;
                while (auto t = h.poll_transmit()) {
                    wire.push_back(in_flight{i, std::move(*t)});
                }
                while (auto job = h.poll_disk_job()) {
                    h.on_disk_done(now, job->service, job->job.id,
                                   disk_result{false, "no disk here", nullptr, {}});
                    more = true;
                }
                while (auto q = h.poll_resolve()) {
                    if (hold_lookups) {
                        lookups_held.push_back(held_lookup{i, std::move(*q)});
                    } else {
                        answer(i, *q);
                        more = true;
                    }
                }
                while (h.poll_ready()) {
                }
            }
        }
    }

    void answer(std::size_t i, const routed_resolve& q) {
        ++lookups_answered;
        auto it = names.find(q.query.host);
        if (it == names.end()) {
            nodes_[i]->h.on_resolved(now, q.service, q.query.id, fail(errc::io, "", "no such name"));
            return;
        }
        nodes_[i]->h.on_resolved(now, q.service, q.query.id, it->second);
    }

    void answer_held() {
        auto held = std::move(lookups_held);
        lookups_held.clear();
        for (const held_lookup& l : held) {
            answer(l.at, l.query);
        }
        collect();
    }

    bool step() {
        collect();
        if (wire.empty()) {
            return false;
        }
        in_flight f = std::move(wire.front());
        wire.pop_front();
        deliver(f.from, std::move(f.what));
        collect();
        return true;
    }

    void drive(std::size_t steps_max = 100'000) {
        for (std::size_t n = 0; n < steps_max; ++n) {
            if (!step()) {
                return;
            }
        }
        FAIL() << "the network did not settle in " << steps_max << " steps";
    }

    void advance(duration d) {
        const time_point end = now + d;
        drive();
        for (;;) {
            std::optional<time_point> next;
            for (const auto& n : nodes_) {
                if (auto t = n->h.next_timer(); t && (!next || *t < *next)) {
                    next = t;
                }
            }
            if (!next || *next > end) {
                break;
            }
            now = std::max(now, *next);
            for (const auto& n : nodes_) {
                if (auto t = n->h.next_timer(); t && *t <= now) {
                    n->h.on_timer(now);
                }
            }
            drive();
        }
        now = end;
    }

    // Connections open between hosts: (host, conn) at each end.
    std::size_t links() const { return links_.size() / 2; }
    bool linked(std::size_t i, conn_id conn) const { return links_.contains({i, conn}); }

private:
    using end_point = std::pair<std::size_t, conn_id>;

    std::optional<std::size_t> host_at(const endpoint& address) const {
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            if (nodes_[i]->address == address) {
                return i;
            }
        }
        return std::nullopt;
    }

    void deliver(std::size_t from, transmit t) {
        if (auto* d = std::get_if<io::datagram>(&t)) {
            const auto to = host_at(d->to);
            if (!to) {
                ++datagrams_lost;
                return;
            }
            nodes_[*to]->h.on_datagram(now, nodes_[from]->address, d->bytes);
        } else if (auto* c = std::get_if<io::connect>(&t)) {
            const auto to = host_at(c->remote);
            std::optional<conn_id> accepted;
            if (to) {
                // The caller's side of a connection comes from an ephemeral port.
                const endpoint caller{nodes_[from]->address.address, next_port_++};
                accepted = nodes_[*to]->h.on_accepted(now, caller);
            }
            if (!accepted) {
                nodes_[from]->h.on_closed(now, c->conn, "connection refused");
                return;
            }
            links_[{from, c->conn}] = {*to, *accepted};
            links_[{*to, *accepted}] = {from, c->conn};
            nodes_[from]->h.on_connected(now, c->conn);
        } else if (auto* s = std::get_if<io::send>(&t)) {
            auto it = links_.find({from, s->conn});
            if (it == links_.end()) {
                return;
            }
            const end_point other = it->second;
            std::size_t sent = 0;
            byte_buffer bytes;
            for (const out_buffer& b : s->data) {
                bytes.insert(bytes.end(), b.bytes.begin(), b.bytes.end());
                sent += b.bytes.size();
            }
            nodes_[other.first]->h.on_stream_bytes(now, other.second, bytes);
            nodes_[from]->h.on_send_done(now, s->conn, sent);
        } else if (auto* x = std::get_if<io::close>(&t)) {
            // Everything sent before was delivered already: a flush changes nothing here.
            auto it = links_.find({from, x->conn});
            if (it == links_.end()) {
                return;
            }
            const end_point other = it->second;
            links_.erase(it);
            links_.erase(other);
            nodes_[other.first]->h.on_closed(now, other.second, "closed by the peer");
        }
    }

    std::vector<std::unique_ptr<node>> nodes_;
    std::map<end_point, end_point> links_;
    std::uint16_t next_port_ = 50000;
};

}  // namespace hyphae::testing
