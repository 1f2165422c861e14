#include "hyphae/sim/network.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "hyphae/core/fifo.hpp"

namespace hyphae::sim {
namespace {

using namespace std::chrono_literals;

// A service that answers datagrams starting with 'e' (with 'r' and the rest) and connections starting with
// "ECHO" with the same bytes, dials and sends when told, and keeps a log of what happened to it.
class echo_service final : public service {
public:
    std::vector<std::string> log;
    std::string received;
    std::size_t sent_done = 0;
    bool echo = true;
    std::vector<std::pair<time_point, std::string>> datagrams;

    std::string_view name() const override { return "echo"; }
    bool claims_datagram(byte_view bytes) const override {
        return !bytes.empty() && (bytes[0] == 'e' || bytes[0] == 'r');
    }
    claim claims_stream(byte_view first) const override {
        const std::string_view want = "ECHO";
        const std::string_view got(reinterpret_cast<const char*>(first.data()), first.size());
        if (got.size() < want.size()) {
            return want.starts_with(got) ? claim::need_more : claim::no;
        }
        return got.starts_with(want) ? claim::yes : claim::no;
    }
    void on_datagram(time_point now, const endpoint& from, byte_view bytes) override {
        datagrams.emplace_back(now, std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
        if (echo && bytes[0] == 'e') {
            byte_buffer reply(bytes.begin(), bytes.end());
            reply[0] = 'r';
            out_.push(io::datagram{from, std::move(reply)});
        }
    }
    void on_accepted(time_point, conn_id conn, const endpoint&) override {
        log.push_back("accepted");
        accepted_ = conn;
    }
    void on_connected(time_point, conn_id) override { log.push_back("connected"); }
    void on_stream_bytes(time_point, conn_id conn, byte_view bytes) override {
        received.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        if (echo && conn == accepted_) {
            out_.push(io::send{conn, {make_out_buffer(byte_buffer(bytes.begin(), bytes.end()))}});
        }
    }
    void on_send_done(time_point, conn_id, std::size_t bytes) override { sent_done += bytes; }
    void on_closed(time_point, conn_id, std::string_view reason) override {
        log.push_back(std::string(reason));
    }
    void on_disk_done(time_point, std::uint64_t job, const disk_result& r) override {
        log.push_back("disk " + std::to_string(job) + (r.ok ? " ok" : " failed: " + r.error));
    }
    void on_timer(time_point) override {}
    std::optional<transmit> poll_transmit() override { return out_.pop(); }
    std::optional<disk_job> poll_disk_job() override { return jobs_.pop(); }
    std::optional<time_point> next_timer() const override { return std::nullopt; }
    bool has_events() const override { return false; }

    conn_id dial(const endpoint& to) {
        const conn_id c = new_conn_id();
        out_.push(io::connect{c, to});
        return c;
    }
    void send(conn_id c, std::string_view text) { out_.push(io::send{c, {make_out_buffer(text)}}); }
    void close(conn_id c, bool flush) { out_.push(io::close{c, "done", flush}); }
    void datagram(const endpoint& to, std::string_view text) {
        out_.push(io::datagram{to, byte_buffer(text.begin(), text.end())});
    }
    void disk(std::uint64_t id) { jobs_.push(disk_job{id, 7, disk_job::kind::read, 0, 0, 4, nullptr}); }
    conn_id accepted() const { return accepted_; }

private:
    fifo<transmit> out_;
    fifo<disk_job> jobs_;
    conn_id accepted_ = 0;
};

struct two_hosts {
    network net;
    host_index a, b;
    service_id sa, sb;
    explicit two_hosts(network_params c = {}, host_options oa = {}, host_options ob = {}) : net(c) {
        a = net.add_host(net.next_address(), oa);
        b = net.add_host(net.next_address(), ob);
        sa = net.at(a).add(net.now(), std::make_unique<echo_service>());
        sb = net.at(b).add(net.now(), std::make_unique<echo_service>());
    }
    echo_service& of(host_index i) { return net.at(i).get<echo_service>(i == a ? sa : sb); }
};

TEST(network, a_datagram_takes_one_delay_each_way) {
    two_hosts t;
    const time_point start = t.net.now();
    t.net.call<echo_service>(t.a, t.sa, [&](echo_service& s) { s.datagram(t.net.address_of(t.b), "echo"); });
    ASSERT_TRUE(t.net.run_for([&] { return !t.of(t.a).datagrams.empty(); }, 1s));
    ASSERT_EQ(t.of(t.b).datagrams.size(), 1u);
    EXPECT_EQ(t.of(t.b).datagrams[0].first - start, 5ms);
    EXPECT_EQ(t.of(t.a).datagrams[0].first - start, 10ms);
    EXPECT_EQ(t.of(t.a).datagrams[0].second, "rcho");
    EXPECT_EQ(t.net.traffic(t.a).datagram_bytes_up, 4u);
}

TEST(network, datagrams_to_nobody_are_kept_as_strays) {
    two_hosts t;
    const endpoint nowhere{ip_address::v4(0xc0000201), 9};
    t.net.call<echo_service>(t.a, t.sa, [&](echo_service& s) { s.datagram(nowhere, "echo"); });
    auto strays = t.net.take_strays();
    ASSERT_EQ(strays.size(), 1u);
    EXPECT_EQ(strays[0].from, t.a);
    EXPECT_EQ(strays[0].what.to, nowhere);
    t.net.inject_datagram(t.b, nowhere, byte_buffer{'e', 'x'});
    t.net.run_for(1s);
    ASSERT_EQ(t.of(t.b).datagrams.size(), 1u);
    strays = t.net.take_strays();
    ASSERT_EQ(strays.size(), 1u);  // the echo went back to the remote peer the test plays
    EXPECT_EQ(strays[0].what.to, nowhere);
}

TEST(network, a_stream_connects_carries_bytes_in_order_and_closes_at_the_other_end) {
    two_hosts t;
    conn_id c = 0;
    t.net.call<echo_service>(t.a, t.sa, [&](echo_service& s) {
        c = s.dial(t.net.address_of(t.b));
        s.send(c, "ECHO one ");
        s.send(c, "two");
    });
    ASSERT_TRUE(t.net.run_for([&] { return t.of(t.a).received == "ECHO one two"; }, 1s));
    EXPECT_EQ(t.of(t.a).log, std::vector<std::string>{"connected"});
    EXPECT_EQ(t.of(t.b).log, std::vector<std::string>{"accepted"});
    EXPECT_EQ(t.of(t.a).sent_done, 12u);
    EXPECT_EQ(t.net.links(), 1u);
    t.net.call<echo_service>(t.a, t.sa, [&](echo_service& s) { s.close(c, true); });
    t.net.run_for(1s);
    EXPECT_EQ(t.of(t.b).log.back(), "closed by the peer");
    EXPECT_EQ(t.net.links(), 0u);
    EXPECT_EQ(t.of(t.a).log.size(), 1u);  // who closes is not told again
}

TEST(network, a_dial_to_nobody_times_out_and_one_nobody_claims_is_closed) {
    network_params cfg;
    cfg.connect_timeout = 3s;
    two_hosts t(cfg);
    const time_point start = t.net.now();
    t.net.call<echo_service>(t.a, t.sa, [&](echo_service& s) {
        s.dial(endpoint{ip_address::v4(0xc0000201), 9});
    });
    ASSERT_TRUE(t.net.run_for([&] { return !t.of(t.a).log.empty(); }, 10s));
    EXPECT_EQ(t.of(t.a).log[0], "connection timed out");
    EXPECT_EQ(t.net.now() - start, 3s);
    // Bytes no service speaks: host b closes the connection.
    t.net.call<echo_service>(t.a, t.sa, [&](echo_service& s) {
        const conn_id c = s.dial(t.net.address_of(t.b));
        s.send(c, "GET / HTTP/1.1\r\n\r\n");
    });
    ASSERT_TRUE(t.net.run_for([&] { return t.of(t.a).log.size() == 3; }, 1s));
    EXPECT_EQ(t.of(t.a).log[1], "connected");
    EXPECT_EQ(t.net.at(t.b).counters().streams_unclaimed, 1u);
}

TEST(network, an_upload_cap_spaces_bytes_and_send_done_comes_when_they_left) {
    host_options capped;
    capped.link.up_bytes_per_second = 1000;
    two_hosts t({}, capped, {});
    t.of(t.b).echo = false;
    const time_point start = t.net.now();
    t.net.call<echo_service>(t.a, t.sa, [&](echo_service& s) {
        const conn_id c = s.dial(t.net.address_of(t.b));
        s.send(c, "ECHO" + std::string(996, 'x'));  // 1000 bytes: one second
        s.send(c, std::string(500, 'y'));           // then half a second more
    });
    ASSERT_TRUE(t.net.run_for([&] { return t.of(t.b).received.size() == 1500; }, 10s));
    EXPECT_EQ(t.net.now() - start, 10ms + 1500ms + 5ms);  // connect, send, cross
    EXPECT_EQ(t.of(t.a).sent_done, 1500u);
    EXPECT_EQ(t.net.traffic(t.a).stream_bytes_up, 1500u);
    EXPECT_EQ(t.net.traffic(t.b).stream_bytes_down, 1500u);
}

// Host a on a 100 kB/s uplink, connected to b and c (each greeted with "ECHO", which they do not
// echo back).
struct capped_sender {
    network net{{}};
    host_index a = net.add_host(net.next_address(), host_options{.link = {.up_bytes_per_second = 100'000}});
    host_index b = net.add_host(net.next_address());
    host_index c = net.add_host(net.next_address());
    service_id sa = net.at(a).add(net.now(), std::make_unique<echo_service>());
    service_id sb = net.at(b).add(net.now(), std::make_unique<echo_service>());
    service_id sc = net.at(c).add(net.now(), std::make_unique<echo_service>());
    conn_id to_b = 0;
    conn_id to_c = 0;

    capped_sender() {
        at_b().echo = false;
        at_c().echo = false;
        net.call<echo_service>(a, sa, [&](echo_service& s) {
            to_b = s.dial(net.address_of(b));
            to_c = s.dial(net.address_of(c));
            s.send(to_b, "ECHO");
            s.send(to_c, "ECHO");
        });
        net.run_for(1s);
    }
    echo_service& at_a() { return net.at(a).get<echo_service>(sa); }
    echo_service& at_b() { return net.at(b).get<echo_service>(sb); }
    echo_service& at_c() { return net.at(c).get<echo_service>(sc); }
    template <class F>
    void send(F&& what) {
        net.call<echo_service>(a, sa, std::forward<F>(what));
    }
};

TEST(network, a_capped_uplink_serves_its_connections_in_turn) {
    capped_sender t;
    const time_point start = t.net.now();
    t.send([&](echo_service& s) {
        for (int i = 0; i < 10; ++i) {
            s.send(t.to_b, std::string(16 * 1024, 'b'));
        }
        s.send(t.to_c, std::string(1000, 'c'));  // 10 ms of the link: not a sparse send
    });
    // c's kilobyte goes after two of b's turns (the block sending and a quantum of four in line),
    // not after all ten blocks.
    ASSERT_TRUE(t.net.run_for([&] { return t.at_c().received.size() == 4 + 1000; }, 10s));
    EXPECT_LT(t.net.now() - start, 1000ms);
    ASSERT_TRUE(t.net.run_for([&] { return t.at_b().received.size() == 4 + 163840; }, 10s));
    EXPECT_GT(t.net.now() - start, 1600ms);
    // A close with flush goes after the bytes queued before it.
    t.send([&](echo_service& s) {
        s.send(t.to_c, std::string(50'000, 'c'));
        s.close(t.to_c, true);
    });
    ASSERT_TRUE(t.net.run_for(
        [&] { return !t.at_c().log.empty() && t.at_c().log.back() == "closed by the peer"; }, 10s));
    EXPECT_EQ(t.at_c().received.size(), 4 + 51'000u);
}

TEST(network, a_small_send_on_a_quiet_connection_goes_ahead_of_the_bulk_and_is_done_at_once) {
    capped_sender t;
    const std::size_t done_before = t.at_a().sent_done;
    const time_point start = t.net.now();
    t.send([&](echo_service& s) {
        for (int i = 0; i < 10; ++i) {
            s.send(t.to_b, std::string(16 * 1024, 'b'));
        }
        s.send(t.to_c, std::string(17, 'c'));  // a request's worth: 0.17 ms of the link
    });
    // Done as soon as it is handed over, as a socket with room takes it; it crosses in one delay.
    EXPECT_EQ(t.at_a().sent_done, done_before + 17);
    ASSERT_TRUE(t.net.run_for([&] { return t.at_c().received.size() == 4 + 17; }, 10s));
    EXPECT_LE(t.net.now() - start, 5ms);
    // The bulk still takes the whole link's time, the small send's share included.
    ASSERT_TRUE(t.net.run_for([&] { return t.at_b().received.size() == 4 + 163840; }, 10s));
    EXPECT_GE(t.net.now() - start, 1638ms);
    EXPECT_EQ(t.at_a().sent_done, done_before + 17 + 163840);
}

TEST(network, a_nat_drops_what_it_did_not_ask_for) {
    host_options behind;
    behind.nat = true;
    two_hosts t({}, {}, behind);
    t.net.call<echo_service>(t.a, t.sa, [&](echo_service& s) { s.datagram(t.net.address_of(t.b), "e1"); });
    t.net.run_for(1s);
    EXPECT_TRUE(t.of(t.b).datagrams.empty());
    EXPECT_EQ(t.net.counters().nat_dropped, 1u);
    // Once b has sent to a, a's datagrams get through.
    t.net.call<echo_service>(t.b, t.sb, [&](echo_service& s) { s.datagram(t.net.address_of(t.a), "e2"); });
    t.net.run_for(1s);
    ASSERT_EQ(t.of(t.b).datagrams.size(), 1u);
    EXPECT_EQ(t.of(t.b).datagrams[0].second, "r2");  // a's answer came back in
}

TEST(network, a_crash_resets_the_peers_connections_and_a_new_life_starts_clean) {
    two_hosts t;
    t.net.call<echo_service>(t.a, t.sa, [&](echo_service& s) {
        const conn_id c = s.dial(t.net.address_of(t.b));
        s.send(c, "ECHO");
    });
    t.net.run_for(1s);
    ASSERT_EQ(t.net.links(), 1u);
    t.net.take_down(t.b);
    EXPECT_FALSE(t.net.up(t.b));
    t.net.run_for(1s);
    EXPECT_EQ(t.of(t.a).log.back(), "connection reset");
    EXPECT_EQ(t.net.links(), 0u);
    t.net.call<echo_service>(t.a, t.sa, [&](echo_service& s) { s.datagram(t.net.address_of(t.b), "e"); });
    t.net.run_for(1s);
    EXPECT_EQ(t.net.counters().to_down_host, 1u);
    host& again = t.net.bring_up(t.b);
    const service_id id = again.add(t.net.now(), std::make_unique<echo_service>());
    t.net.call<echo_service>(t.a, t.sa, [&](echo_service& s) { s.datagram(t.net.address_of(t.b), "e"); });
    t.net.run_for(1s);
    EXPECT_EQ(t.net.at(t.b).get<echo_service>(id).datagrams.size(), 1u);
}

TEST(network, dials_across_new_lives_and_into_a_crash_are_answered) {
    network_params cfg;
    cfg.connect_timeout = 3s;
    two_hosts t(cfg);
    t.net.take_down(t.b);
    host& again = t.net.bring_up(t.b);
    const service_id id = again.add(t.net.now(), std::make_unique<echo_service>());
    // a is in its first life, b in its second: the dial still connects.
    t.net.call<echo_service>(t.a, t.sa,
                             [&](echo_service& s) { s.send(s.dial(t.net.address_of(t.b)), "ECHO"); });
    ASSERT_TRUE(t.net.run_for([&] { return t.of(t.a).received == "ECHO"; }, 1s));
    EXPECT_EQ(t.of(t.a).log.back(), "connected");
    EXPECT_EQ(t.net.at(t.b).get<echo_service>(id).log, std::vector<std::string>{"accepted"});
    // b crashes while a's next dial is on its way: a hears a time-out, not nothing.
    t.net.call<echo_service>(t.a, t.sa, [&](echo_service& s) { s.dial(t.net.address_of(t.b)); });
    t.net.take_down(t.b);
    ASSERT_TRUE(t.net.run_for([&] { return t.of(t.a).log.size() == 3; }, 10s));
    EXPECT_EQ(t.of(t.a).log[1], "connection reset");  // the first connection, by the crash
    EXPECT_EQ(t.of(t.a).log[2], "connection timed out");
    EXPECT_EQ(t.net.counters().connects_failed, 1u);
}

TEST(network, a_refused_dial_counts_once) {
    two_hosts t;
    t.net.at(t.b).remove(t.net.now(), t.sb);  // nobody claims: b refuses nothing, but closes unclaimed
    host_config strict;
    strict.connections_max = 0;
    const host_index c = t.net.add_host(t.net.next_address(), host_options{strict});
    t.net.call<echo_service>(t.a, t.sa, [&](echo_service& s) { s.dial(t.net.address_of(c)); });
    ASSERT_TRUE(t.net.run_for([&] { return !t.of(t.a).log.empty(); }, 1s));
    EXPECT_EQ(t.of(t.a).log[0], "connection refused");
    EXPECT_EQ(t.net.counters().connects_failed, 1u);
}

TEST(network, disk_jobs_run_through_the_runner_and_answer_after_the_disk_latency) {
    two_hosts t;
    std::vector<std::uint64_t> storages;
    t.net.set_disk([&](host_index at, const routed_disk_job& job) {
        EXPECT_EQ(at, t.a);
        storages.push_back(job.job.storage);
        return disk_result{true, {}, nullptr, {}};
    });
    t.net.call<echo_service>(t.a, t.sa, [&](echo_service& s) { s.disk(3); });
    EXPECT_TRUE(t.of(t.a).log.empty());
    t.net.run_for(1ms);
    EXPECT_EQ(storages, std::vector<std::uint64_t>{7});
    EXPECT_EQ(t.of(t.a).log, std::vector<std::string>{"disk 3 ok"});
}

TEST(network, the_same_seed_gives_the_same_run) {
    const auto run = [](std::uint64_t seed) {
        network_params c;
        c.seed = seed;
        c.jitter = 20ms;
        c.loss = 0.3;
        two_hosts t(c);
        for (int i = 0; i < 50; ++i) {
            t.net.call<echo_service>(t.a, t.sa,
                                     [&](echo_service& s) { s.datagram(t.net.address_of(t.b), "echo"); });
        }
        t.net.run_for(1s);
        std::vector<time_point> at;
        for (const auto& d : t.of(t.a).datagrams) {
            at.push_back(d.first);
        }
        return at;
    };
    EXPECT_EQ(run(4), run(4));
    EXPECT_NE(run(4), run(5));
    EXPECT_GT(run(4).size(), 5u);
    EXPECT_LT(run(4).size(), 45u);
}

}  // namespace
}  // namespace hyphae::sim
