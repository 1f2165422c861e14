#pragma once
// Two probes for tests that run hosts on sim::network (the one virtual-clock harness), thin
// enough to add no behaviour of their own:
// - service_tap<S>: a service S as the host sees it, unchanged, with a log of what S asked the
//   host to do (connects, closes with their reasons, datagrams; sends without their bytes), which
//   the network carries out without showing.
// - held_work: a host's owner that passes its ready services to a callback and, while told to,
//   keeps the host's disk jobs and name look-ups from the network (it takes them in on_pump,
//   which the network calls before it carries them out), until the test hands them in.

#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "hyphae/core/io.hpp"
#include "hyphae/core/service.hpp"
#include "hyphae/host/host.hpp"
#include "hyphae/host/host_owner.hpp"
#include "hyphae/sim/network.hpp"

namespace hyphae::test {

template <class S>
class service_tap final : public service {
public:
    template <class... A>
    explicit service_tap(A&&... args) : inner_(std::forward<A>(args)...) {}

    S& inner() { return inner_; }
    const S& inner() const { return inner_; }

    // What S emitted, in order; an io::send is kept without its bytes.
    std::vector<transmit> log;
    template <class T>
    std::vector<T> emitted() const {
        std::vector<T> out;
        for (const transmit& t : log) {
            if (auto* x = std::get_if<T>(&t)) {
                out.push_back(*x);
            }
        }
        return out;
    }

    std::string_view name() const override { return inner_.name(); }
    bool claims_datagram(byte_view bytes) const override { return inner_.claims_datagram(bytes); }
    claim claims_stream(byte_view first_bytes) const override { return inner_.claims_stream(first_bytes); }
    int claim_rank() const override { return inner_.claim_rank(); }
    void on_datagram(time_point now, const endpoint& from, byte_view bytes) override {
        inner_.on_datagram(now, from, bytes);
    }
    void on_accepted(time_point now, conn_id conn, const endpoint& remote) override {
        inner_.on_accepted(now, conn, remote);
    }
    void on_connected(time_point now, conn_id conn) override { inner_.on_connected(now, conn); }
    void on_stream_bytes(time_point now, conn_id conn, byte_view bytes) override {
        inner_.on_stream_bytes(now, conn, bytes);
    }
    void on_send_done(time_point now, conn_id conn, std::size_t bytes) override {
        inner_.on_send_done(now, conn, bytes);
    }
    void on_closed(time_point now, conn_id conn, std::string_view reason) override {
        inner_.on_closed(now, conn, reason);
    }
    void on_disk_done(time_point now, std::uint64_t job, const disk_result& result) override {
        inner_.on_disk_done(now, job, result);
    }
    void on_resolved(time_point now, std::uint64_t query, const resolve_result& result) override {
        inner_.on_resolved(now, query, result);
    }
    void on_timer(time_point now) override { inner_.on_timer(now); }
    std::optional<transmit> poll_transmit() override {
        auto t = inner_.poll_transmit();
        if (t) {
            if (auto* s = std::get_if<io::send>(&*t)) {
                log.emplace_back(io::send{s->conn, {}});
            } else {
                log.push_back(*t);
            }
        }
        return t;
    }
    std::optional<disk_job> poll_disk_job() override { return inner_.poll_disk_job(); }
    std::optional<resolve_query> poll_resolve() override { return inner_.poll_resolve(); }
    std::optional<time_point> next_timer() const override { return inner_.next_timer(); }
    bool has_events() const override { return inner_.has_events(); }

private:
    S inner_;
};

// Adds a tapped S to `h`; S dials with the connection ids the host gave the tap.
template <class S, class... A>
service_id add_tapped(host& h, time_point now, A&&... args) {
    auto tap = std::make_unique<service_tap<S>>(std::forward<A>(args)...);
    S& inner = tap->inner();
    const service_id id = h.add(now, std::move(tap));
    inner.attach(id, first_conn_of(id));
    return id;
}

class held_work final : public host_owner {
public:
    using ready_callback = std::function<void(time_point now, service_id id)>;
    held_work(sim::network& net, sim::host_index at, ready_callback ready = {})
        : net_(net), at_(at), ready_(std::move(ready)) {}

    bool hold_disk = false;
    bool hold_lookups = false;
    std::vector<routed_disk_job> disk_held;
    std::vector<routed_resolve> lookups_held;

    void on_ready(time_point now, service_id id) override {
        if (ready_) {
            ready_(now, id);
        }
    }
    bool on_pump(time_point) override {
        host& h = net_.at(at_);
        while (hold_disk) {
            auto job = h.poll_disk_job();
            if (!job) {
                break;
            }
            disk_held.push_back(std::move(*job));
        }
        while (hold_lookups) {
            auto query = h.poll_resolve();
            if (!query) {
                break;
            }
            lookups_held.push_back(std::move(*query));
        }
        return false;  // nothing of its own to carry out
    }

    // Stops holding disk jobs, and hands in the held ones' results now.
    void release_disk(const std::function<disk_result(const routed_disk_job&)>& run) {
        hold_disk = false;
        for (const routed_disk_job& job : std::exchange(disk_held, {})) {
            net_.at(at_).on_disk_done(net_.now(), job.service, job.job.id, run(job));
        }
        net_.pump(at_);
    }
    // Answers the held look-ups from the network's names, as the network does.
    void answer_lookups() {
        for (const routed_resolve& q : std::exchange(lookups_held, {})) {
            auto it = net_.names.find(q.query.host);
            if (it == net_.names.end()) {
                net_.at(at_).on_resolved(
                    net_.now(), q.service, q.query.id,
                    fail(errc::io, q.query.host, "no such name in the simulated network"));
                continue;
            }
            std::vector<endpoint> found = it->second;
            for (endpoint& e : found) {
                if (q.query.port != 0) {
                    e.port = q.query.port;
                }
            }
            net_.at(at_).on_resolved(net_.now(), q.service, q.query.id, found);
        }
        net_.pump(at_);
    }

private:
    sim::network& net_;
    sim::host_index at_;
    ready_callback ready_;
};

}  // namespace hyphae::test
