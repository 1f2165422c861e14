#include "hyphae/host/host.hpp"

#include <deque>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace hyphae {
namespace {

using namespace std::chrono_literals;

// A service that claims what starts with its prefix and records what reaches it.
class fake_service : public service {
public:
    explicit fake_service(std::string prefix, int rank = 0) : prefix_(std::move(prefix)), rank_(rank) {}

    std::string_view name() const override { return "fake"; }
    bool claims_datagram(byte_view bytes) const override {
        return as_chars(bytes).starts_with(prefix_) && !prefix_.empty();
    }
    claim claims_stream(byte_view first) const override {
        const std::string_view seen = as_chars(first);
        if (prefix_.empty()) {
            return rank_ > 0 ? claim::yes : claim::no;
        }
        if (seen.size() < prefix_.size()) {
            return std::string_view(prefix_).starts_with(seen) ? claim::need_more : claim::no;
        }
        return seen.starts_with(prefix_) ? claim::yes : claim::no;
    }
    int claim_rank() const override { return rank_; }

    void on_datagram(time_point, const endpoint& from, byte_view bytes) override {
        datagrams.emplace_back(from, std::string(as_chars(bytes)));
    }
    void on_accepted(time_point, conn_id conn, const endpoint&) override { accepted.push_back(conn); }
    void on_connected(time_point, conn_id conn) override { connected.push_back(conn); }
    void on_stream_bytes(time_point, conn_id conn, byte_view bytes) override {
        received[conn] += std::string(as_chars(bytes));
    }
    void on_closed(time_point, conn_id conn, std::string_view reason) override {
        closed.emplace_back(conn, std::string(reason));
    }
    void on_disk_done(time_point, std::uint64_t job, const disk_result& r) override {
        disk_done.emplace_back(job, r.ok);
    }
    void on_timer(time_point now) override {
        fired.push_back(now);
        deadline.reset();
    }

    std::optional<transmit> poll_transmit() override {
        if (out.empty()) {
            return std::nullopt;
        }
        transmit t = std::move(out.front());
        out.pop_front();
        return t;
    }
    std::optional<disk_job> poll_disk_job() override {
        if (jobs.empty()) {
            return std::nullopt;
        }
        disk_job j = jobs.front();
        jobs.pop_front();
        return j;
    }
    std::optional<time_point> next_timer() const override { return deadline; }
    bool has_events() const override { return events > 0; }

    conn_id dial(const endpoint& to) {
        const conn_id c = new_conn_id();
        out.push_back(io::connect{c, to});
        return c;
    }

    std::string prefix_;
    int rank_ = 0;
    std::deque<transmit> out;
    std::deque<disk_job> jobs;
    std::optional<time_point> deadline;
    int events = 0;
    std::vector<std::pair<endpoint, std::string>> datagrams;
    std::vector<conn_id> accepted;
    std::vector<conn_id> connected;
    std::map<conn_id, std::string> received;
    std::vector<std::pair<conn_id, std::string>> closed;
    std::vector<std::pair<std::uint64_t, bool>> disk_done;
    std::vector<time_point> fired;
};

const time_point t0{};
const endpoint peer{ip_address::v4(0x7f000002), 4000};

struct host_fixture : ::testing::Test {
    host h;
    fake_service* a = nullptr;
    fake_service* b = nullptr;
    service_id ia = 0;
    service_id ib = 0;

    void add_two(host_config config = {}) {
        h.~host();
        new (&h) host(config);
        auto sa = std::make_unique<fake_service>("d1:");
        auto sb = std::make_unique<fake_service>("GET ");
        a = sa.get();
        b = sb.get();
        ia = h.add(t0, std::move(sa));
        ib = h.add(t0, std::move(sb));
    }

    std::vector<transmit> drain() {
        std::vector<transmit> out;
        while (auto t = h.poll_transmit()) {
            out.push_back(std::move(*t));
        }
        return out;
    }
};

TEST_F(host_fixture, datagrams_go_to_the_service_that_claims_their_first_bytes) {
    add_two();
    h.on_datagram(t0, peer, as_bytes("d1:ad2:id20:xxxxe"));
    h.on_datagram(t0, peer, as_bytes("GET /x"));
    h.on_datagram(t0, peer, as_bytes("\x00\x00\x00\x01junk"));
    ASSERT_EQ(a->datagrams.size(), 1u);
    EXPECT_EQ(a->datagrams[0].first, peer);
    EXPECT_EQ(b->datagrams.size(), 1u);
    EXPECT_EQ(h.counters().datagrams_unclaimed, 1u);
}

TEST_F(host_fixture, a_connection_waits_for_enough_bytes_then_goes_to_its_service_with_every_byte) {
    add_two();
    const auto conn = h.on_accepted(t0, peer);
    ASSERT_TRUE(conn);
    h.on_stream_bytes(t0, *conn, as_bytes("GE"));
    EXPECT_TRUE(b->accepted.empty());
    h.on_stream_bytes(t0, *conn, as_bytes("T /announce HTTP/1.1\r\n"));
    ASSERT_EQ(b->accepted, std::vector<conn_id>{*conn});
    EXPECT_EQ(b->received[*conn], "GET /announce HTTP/1.1\r\n");
    h.on_stream_bytes(t0, *conn, as_bytes("Host: x\r\n"));
    EXPECT_EQ(b->received[*conn], "GET /announce HTTP/1.1\r\nHost: x\r\n");
    EXPECT_EQ(h.owner_of(*conn), ib);
    EXPECT_TRUE(a->accepted.empty());
    EXPECT_TRUE(drain().empty());
}

TEST_F(host_fixture, a_connection_no_service_speaks_is_closed_with_a_reason) {
    add_two();
    const auto conn = h.on_accepted(t0, peer);
    h.on_stream_bytes(t0, *conn,
                      as_bytes("\x13"
                               "BitTorrent protocol"));
    auto out = drain();
    ASSERT_EQ(out.size(), 1u);
    const auto& close = std::get<io::close>(out[0]);
    EXPECT_EQ(close.conn, *conn);
    EXPECT_EQ(close.reason, "no service speaks this protocol");
    EXPECT_EQ(h.counters().streams_unclaimed, 1u);
    EXPECT_EQ(h.connection_count(), 0u);
}

TEST_F(host_fixture, the_last_ranked_service_takes_what_the_others_refuse) {
    add_two();
    auto fallback = std::make_unique<fake_service>("", 10);
    fake_service* f = fallback.get();
    h.add(t0, std::move(fallback));
    const auto http = h.on_accepted(t0, peer);
    h.on_stream_bytes(t0, *http, as_bytes("GET / HTTP/1.1\r\n"));
    const auto random = h.on_accepted(t0, peer);
    h.on_stream_bytes(t0, *random, as_bytes("\x8f\x11\x02\xee"));
    EXPECT_EQ(b->accepted, std::vector<conn_id>{*http});
    EXPECT_EQ(f->accepted, std::vector<conn_id>{*random});
}

TEST_F(host_fixture, a_connection_that_never_says_enough_is_closed_at_the_byte_bound_or_the_deadline) {
    host_config config;
    config.claim_bytes_max = 3;
    add_two(config);
    const auto slow = h.on_accepted(t0, peer);
    h.on_stream_bytes(t0, *slow, as_bytes("GE"));
    ASSERT_EQ(h.next_timer(), t0 + config.pending_stream_timeout);
    const auto silent = h.on_accepted(t0 + 1s, peer);
    h.on_stream_bytes(t0 + 1s, *slow, as_bytes("T"));  // "GET" is 3 bytes: still undecided, at the bound
    auto out = drain();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(std::get<io::close>(out[0]).reason, "unrecognised protocol");
    EXPECT_EQ(h.next_timer(), t0 + 1s + config.pending_stream_timeout);
    h.on_timer(t0 + 1s + config.pending_stream_timeout);
    out = drain();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(std::get<io::close>(out[0]).conn, *silent);
    EXPECT_EQ(h.counters().streams_timed_out, 1u);
    EXPECT_FALSE(h.next_timer());
}

TEST_F(host_fixture, connections_over_the_bounds_are_refused_and_dials_fail_at_once) {
    host_config config;
    config.pending_streams_max = 2;
    config.connections_max = 3;
    add_two(config);
    EXPECT_TRUE(h.on_accepted(t0, peer));
    EXPECT_TRUE(h.on_accepted(t0, peer));
    EXPECT_FALSE(h.on_accepted(t0, peer));
    EXPECT_EQ(h.counters().streams_refused, 1u);
    const conn_id first = h.call<fake_service>(t0, ia, [&](fake_service& s) { return s.dial(peer); });
    const conn_id second = h.call<fake_service>(t0, ia, [&](fake_service& s) { return s.dial(peer); });
    EXPECT_EQ(h.owner_of(first), ia);
    ASSERT_EQ(a->closed.size(), 1u);
    EXPECT_EQ(a->closed[0], std::make_pair(second, std::string("too many connections in all")));
    EXPECT_EQ(h.counters().dials_refused, 1u);
    EXPECT_EQ(drain().size(), 1u);  // the first connect only
}

TEST_F(host_fixture, a_dialled_connection_routes_its_inputs_to_the_service_that_dialled_it) {
    add_two();
    const conn_id c = h.call<fake_service>(t0, ib, [&](fake_service& s) { return s.dial(peer); });
    EXPECT_GE(c, first_conn_of(ib));
    EXPECT_LT(c, first_conn_of(ib + 1));
    auto out = drain();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(std::get<io::connect>(out[0]).remote, peer);
    h.on_connected(t0, c);
    h.on_stream_bytes(t0, c, as_bytes("d1:whatever"));  // the dialler's, whatever it looks like
    EXPECT_EQ(b->connected, std::vector<conn_id>{c});
    EXPECT_EQ(b->received[c], "d1:whatever");
    EXPECT_TRUE(a->received.empty());
    h.on_closed(t0, c, "closed by the peer");
    ASSERT_EQ(b->closed.size(), 1u);
    EXPECT_EQ(b->closed[0].second, "closed by the peer");
    EXPECT_EQ(h.connection_count(), 0u);
}

TEST_F(host_fixture, a_connection_the_service_closed_is_not_reported_back_to_it) {
    add_two();
    const conn_id c = h.call<fake_service>(t0, ia, [&](fake_service& s) { return s.dial(peer); });
    h.call<fake_service>(t0, ia, [&](fake_service& s) { s.out.push_back(io::close{c, "done", false}); });
    h.on_closed(t0, c, "operation aborted");
    EXPECT_TRUE(a->closed.empty());
    // Bytes for a closed connection have nowhere to go.
    h.call<fake_service>(t0, ia, [&](fake_service& s) {
        s.out.push_back(io::send{c, {make_out_buffer(std::string_view("late"))}});
    });
    auto out = drain();
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(std::holds_alternative<io::connect>(out[0]));
    EXPECT_TRUE(std::holds_alternative<io::close>(out[1]));
}

TEST_F(host_fixture, one_timer_heap_fires_only_the_services_that_are_due) {
    add_two();
    h.call<fake_service>(t0, ia, [](fake_service& s) { s.deadline = t0 + 5s; });
    h.call<fake_service>(t0, ib, [](fake_service& s) { s.deadline = t0 + 2s; });
    EXPECT_EQ(h.next_timer(), t0 + 2s);
    h.on_timer(t0 + 2s);
    EXPECT_EQ(b->fired.size(), 1u);
    EXPECT_TRUE(a->fired.empty());
    EXPECT_EQ(h.next_timer(), t0 + 5s);
    // A deadline moved earlier by an input is honoured.
    h.call<fake_service>(t0 + 2s, ia, [](fake_service& s) { s.deadline = t0 + 3s; });
    EXPECT_EQ(h.next_timer(), t0 + 3s);
    h.on_timer(t0 + 3s);
    EXPECT_EQ(a->fired.size(), 1u);
    EXPECT_FALSE(h.next_timer());
}

TEST_F(host_fixture, disk_jobs_carry_their_service_and_their_results_come_back_to_it) {
    host_config config;
    config.disk_jobs_queued_max = 1;
    add_two(config);
    h.call<fake_service>(t0, ib, [](fake_service& s) {
        s.jobs.push_back(disk_job{.id = 7, .storage = 3, .data = nullptr});
        s.jobs.push_back(disk_job{.id = 8, .storage = 3, .data = nullptr});
    });
    auto job = h.poll_disk_job();
    ASSERT_TRUE(job);
    EXPECT_EQ(job->service, ib);
    EXPECT_EQ(job->job.id, 7u);
    EXPECT_FALSE(h.poll_disk_job());
    // The second found the queue full and failed at once.
    ASSERT_EQ(b->disk_done.size(), 1u);
    EXPECT_EQ(b->disk_done[0], std::make_pair(std::uint64_t{8}, false));
    h.on_disk_done(t0, ib, 7, disk_result{});
    EXPECT_EQ(b->disk_done.back(), std::make_pair(std::uint64_t{7}, true));
}

TEST_F(host_fixture, services_with_events_are_named_once_until_they_raise_more) {
    add_two();
    h.call<fake_service>(t0, ib, [](fake_service& s) { s.events = 2; });
    h.call<fake_service>(t0, ib, [](fake_service& s) { s.events = 3; });
    EXPECT_EQ(h.poll_ready(), ib);
    EXPECT_FALSE(h.poll_ready());
    b->events = 0;
    h.on_datagram(t0, peer, as_bytes("GET"));
    EXPECT_FALSE(h.poll_ready());
}

TEST_F(host_fixture, a_removed_service_loses_its_connections_and_hears_nothing_more) {
    add_two();
    const conn_id c = h.call<fake_service>(t0, ia, [&](fake_service& s) { return s.dial(peer); });
    const auto in = h.on_accepted(t0, peer);
    h.on_stream_bytes(t0, *in, as_bytes("d1:x"));
    drain();
    h.remove(t0, ia);
    EXPECT_FALSE(h.has(ia));
    auto out = drain();
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(std::get<io::close>(out[0]).reason, "service removed");
    EXPECT_EQ(h.connection_count(), 0u);
    h.on_stream_bytes(t0, c, as_bytes("more"));
    h.on_disk_done(t0, ia, 1, disk_result{});
    h.on_datagram(t0, peer, as_bytes("d1:y"));
    EXPECT_EQ(h.counters().datagrams_unclaimed, 1u);
}

TEST_F(host_fixture, a_full_output_queue_drops_datagrams_and_closes_connections) {
    host_config config;
    config.transmits_queued_max = 1;
    add_two(config);
    const conn_id c = h.call<fake_service>(t0, ia, [&](fake_service& s) { return s.dial(peer); });
    h.call<fake_service>(t0, ia, [&](fake_service& s) {
        s.out.push_back(io::datagram{peer, byte_buffer{1, 2}});
        s.out.push_back(io::send{c, {make_out_buffer(std::string_view("x"))}});
    });
    EXPECT_EQ(h.counters().transmits_dropped, 2u);
    ASSERT_EQ(a->closed.size(), 1u);
    EXPECT_EQ(a->closed[0].second, "host output queue full");
    auto out = drain();
    ASSERT_EQ(out.size(), 2u);  // the connect, and the close that ends the connection
    EXPECT_TRUE(std::holds_alternative<io::close>(out[1]));
}

// A simulator holds 10^6 hosts with one DHT node each: what a host needs only for connections,
// disk jobs and look-ups is allocated on first use, and a burst's output queue is given back.
TEST(host_memory, an_idle_host_is_small) {
    EXPECT_LE(sizeof(host), 256u);
}

TEST_F(host_fixture, a_burst_of_output_leaves_in_order_and_the_next_one_too) {
    add_two();
    for (int burst = 0; burst < 2; ++burst) {
        h.call<fake_service>(t0, ia, [&](fake_service& s) {
            for (std::uint8_t i = 0; i < 20; ++i) {
                s.out.push_back(io::datagram{peer, byte_buffer{i}});
            }
        });
        auto out = drain();
        ASSERT_EQ(out.size(), 20u);
        for (std::uint8_t i = 0; i < 20; ++i) {
            EXPECT_EQ(std::get<io::datagram>(out[i]).bytes, byte_buffer{i});
        }
        EXPECT_TRUE(h.idle());
    }
    EXPECT_EQ(h.connection_count(), 0u);
    EXPECT_EQ(h.counters().transmits_dropped, 0u);
}

}  // namespace
}  // namespace hyphae
