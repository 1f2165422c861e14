#include "hyphae/proto/tracker/tracker_client_service.hpp"

#include <memory>
#include <set>

#include "sim_probes.hpp"
#include <gtest/gtest.h>

#include "hyphae/core/fifo.hpp"
#include "hyphae/host/host.hpp"
#include "hyphae/proto/tracker/tracker_server.hpp"
#include "hyphae/proto/tracker/udp_tracker_codec.hpp"
#include "hyphae/sim/network.hpp"

namespace hyphae::tracker {
namespace {

using namespace std::chrono_literals;
using client_tap = test::service_tap<tracker_client_service>;

const endpoint tracker_address = *endpoint::parse("10.0.0.1:6969");
const endpoint alice_address = *endpoint::parse("10.0.0.2:6881");
const endpoint bob_address = *endpoint::parse("10.0.0.3:6881");
const std::string http_url = "http://tracker.test:6969/announce";
const std::string udp_url = "udp://tracker.test:6969/announce";

sha1_hash torrent_hash(int n) {
    sha1_hash h;
    h.bytes.fill(static_cast<std::uint8_t>(n));
    return h;
}

id160 peer_id(int n) {
    id160 id;
    id.bytes.fill(static_cast<std::uint8_t>(0x40 + n));
    return id;
}

template <class E>
std::vector<E> events_of(const std::vector<tracker_client_event>& events, std::uint64_t key) {
    std::vector<E> out;
    for (const tracker_client_event& e : events) {
        if (e.key == key) {
            if (auto* x = std::get_if<E>(&e.event)) {
                out.push_back(*x);
            }
        }
    }
    return out;
}

std::uint32_t transaction_of(const byte_buffer& request) {
    return std::uint32_t{request[12]} << 24 | std::uint32_t{request[13]} << 16 |
           std::uint32_t{request[14]} << 8 | request[15];
}

// A tracker host (the tracker server) and two peers' hosts (a tracker client service each,
// tapped: the test sees what it sends) on the simulated network, 5 ms apart. Alice's look-ups
// can be held back from the network (alice_work) and answered later.
struct tracker_client_service_hosts : ::testing::Test {
    std::unique_ptr<sim::network> net;
    std::unique_ptr<test::held_work> alice_work;
    sim::host_index tracker_host = 0;
    sim::host_index alice = 0;
    sim::host_index bob = 0;
    service_id server_id = 0;
    service_id alice_id = 0;
    service_id bob_id = 0;
    tracker_client_service_config config;

    void SetUp() override { build(); }

    void build() {
        net = std::make_unique<sim::network>(sim::network_params{});
        net->names["tracker.test"] = {tracker_address};
        tracker_config server;
        server.interval = 60s;
        server.rate_per_address = 0;
        tracker_host = net->add_host(tracker_address);
        server_id = net->at(tracker_host).add(now(), std::make_unique<tracker_server>(server, 7, now()));
        alice = net->add_host(alice_address);
        alice_id = test::add_tapped<tracker_client_service>(net->at(alice), now(), config, std::uint64_t{1});
        alice_work = std::make_unique<test::held_work>(*net, alice);
        net->set_owner(alice, alice_work.get());
        bob = net->add_host(bob_address);
        bob_id = test::add_tapped<tracker_client_service>(net->at(bob), now(), config, std::uint64_t{2});
    }

    time_point now() const { return net->now(); }
    // Long enough for any exchange here (a few 5 ms crossings), and shorter than the timers the
    // tests wait for (retransmissions, re-announces).
    void settle() { net->run_for(1s); }
    void advance(duration d) { net->run_for(d); }
    // A host at `address` that refuses every connection.
    void refuse_at(const endpoint& address) {
        sim::host_options refusing;
        refusing.config.connections_max = 0;
        net->add_host(address, refusing);
    }

    service_id id_of(sim::host_index h) const { return h == alice ? alice_id : bob_id; }
    client_tap& tap(sim::host_index h) { return net->at(h).get<client_tap>(id_of(h)); }
    tracker_client_service& client(sim::host_index h) { return tap(h).inner(); }
    tracker_server& server() { return net->at(tracker_host).get<tracker_server>(server_id); }

    template <class F>
    void call(sim::host_index h, F&& command) {
        net->call<client_tap>(h, id_of(h), [&](client_tap& t) { command(t.inner()); });
    }

    void add(sim::host_index h, std::uint64_t key, const std::string& url, int torrent, int peer) {
        call(h, [&](tracker_client_service& s) {
            EXPECT_TRUE(s.add(now(), key, {{url}}, torrent_hash(torrent), peer_id(peer), 6881));
        });
    }
    void start(sim::host_index h, std::uint64_t key, std::int64_t left = 100) {
        call(h, [&](tracker_client_service& s) { s.start(now(), key, tracker_stats{0, 0, left}); });
    }
    void stop(sim::host_index h, std::uint64_t key) {
        call(h, [&](tracker_client_service& s) { s.stop(now(), key, tracker_stats{}); });
    }
    void remove(sim::host_index h, std::uint64_t key) {
        call(h, [&](tracker_client_service& s) { s.remove(now(), key); });
    }

    std::vector<tracker_client_event> events(sim::host_index h) {
        std::vector<tracker_client_event> out;
        while (auto e = client(h).poll_event()) {
            out.push_back(std::move(*e));
        }
        return out;
    }

    // Alice announces first; Bob then finds her.
    void announce_both(const std::string& url) {
        add(alice, 1, url, 1, 1);
        start(alice, 1);
        settle();
        const auto first = events(alice);
        ASSERT_EQ(events_of<announce_succeeded>(first, 1).size(), 1u);
        EXPECT_EQ(events_of<announce_succeeded>(first, 1)[0].event, announce_event::started);
        EXPECT_TRUE(events_of<peers_found>(first, 1).empty());
        add(bob, 7, url, 1, 2);
        start(bob, 7);
        settle();
        const auto second = events(bob);
        ASSERT_EQ(events_of<announce_succeeded>(second, 7).size(), 1u);
        const auto found = events_of<peers_found>(second, 7);
        ASSERT_EQ(found.size(), 1u);
        EXPECT_EQ(found[0].url, url);
        EXPECT_EQ(found[0].peers, std::vector<endpoint>{alice_address});
    }
};

TEST_F(tracker_client_service_hosts, announces_over_http_through_the_hosts_and_finds_peers) {
    announce_both(http_url);
    const tracker_figures f = server().figures(now());
    EXPECT_EQ(f.counters.http_announces, 2u);
    EXPECT_EQ(f.peers, 2u);
    const tracker_client_service_counters& c = client(alice).counters();
    EXPECT_EQ(c.lookups, 1u);
    EXPECT_EQ(c.connects, 1u);
    EXPECT_EQ(c.http_responses, 1u);
    // Every exchange is over and every connection closed, at both ends.
    EXPECT_TRUE(client(alice).idle());
    EXPECT_TRUE(client(bob).idle());
    EXPECT_EQ(net->links(), 0u);
    EXPECT_EQ(net->at(alice).connection_count(), 0u);
    EXPECT_EQ(net->at(tracker_host).connection_count(), 0u);
    EXPECT_EQ(f.http_connections_open, 0u);
}

TEST_F(tracker_client_service_hosts, announces_over_udp_from_the_hosts_port_and_finds_peers) {
    announce_both(udp_url);
    const tracker_figures f = server().figures(now());
    EXPECT_EQ(f.counters.udp_connects, 2u);
    EXPECT_EQ(f.counters.udp_announces, 2u);
    EXPECT_EQ(f.peers, 2u);
    EXPECT_EQ(client(alice).counters().datagrams_sent, 2u);
    EXPECT_EQ(client(alice).counters().datagrams_received, 2u);
    EXPECT_TRUE(client(alice).idle());
    EXPECT_EQ(net->at(alice).counters().datagrams_unclaimed, 0u);
    EXPECT_EQ(net->at(tracker_host).counters().datagrams_unclaimed, 0u);
    // The next announce, an interval later, finds the name in the cache.
    advance(61s);
    EXPECT_EQ(server().figures(now()).counters.udp_announces, 4u);
    EXPECT_EQ(client(alice).counters().lookups, 1u);
    EXPECT_GE(client(alice).counters().names_cached, 1u);
}

TEST_F(tracker_client_service_hosts, routes_answers_by_transaction_id_between_torrents_announcing_at_once) {
    // Bob is in swarm 1 only: whichever of Alice's torrents is answered with him is swarm 1's.
    add(bob, 7, udp_url, 1, 2);
    start(bob, 7);
    settle();
    add(alice, 1, udp_url, 1, 1);
    add(alice, 2, udp_url, 2, 1);
    call(alice, [&](tracker_client_service& s) {
        s.start(now(), 1, tracker_stats{0, 0, 100});
        s.start(now(), 2, tracker_stats{0, 0, 100});
    });
    // Both connects are on the wire before either is answered (that takes a round trip), with
    // their own transaction ids.
    const auto sent = tap(alice).emitted<io::datagram>();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(client(alice).counters().datagrams_received, 0u);
    std::set<std::uint32_t> transactions;
    for (const io::datagram& d : sent) {
        transactions.insert(transaction_of(d.bytes));
    }
    EXPECT_EQ(transactions.size(), 2u);
    settle();
    const auto seen = events(alice);
    ASSERT_EQ(events_of<announce_succeeded>(seen, 1).size(), 1u);
    ASSERT_EQ(events_of<announce_succeeded>(seen, 2).size(), 1u);
    const auto found = events_of<peers_found>(seen, 1);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].peers, std::vector<endpoint>{bob_address});
    EXPECT_TRUE(events_of<peers_found>(seen, 2).empty());
    EXPECT_EQ(events_of<announce_succeeded>(seen, 1)[0].incomplete, 2);
    EXPECT_EQ(events_of<announce_succeeded>(seen, 2)[0].incomplete, 1);
    EXPECT_EQ(server().figures(now()).swarms, 2u);
    EXPECT_EQ(client(alice).counters().lookups, 1u);  // one look-up served both
}

TEST_F(tracker_client_service_hosts, claims_only_answers_with_a_transaction_id_it_waits_for) {
    add(alice, 1, udp_url, 1, 1);
    start(alice, 1);
    ASSERT_EQ(tap(alice).log.size(), 1u);  // on the wire, not yet answered
    const byte_buffer connect = std::get<io::datagram>(tap(alice).log.front()).bytes;
    const std::uint32_t tid = transaction_of(connect);
    const byte_buffer answer = encode_udp_connect_response(tid, 0x1234);
    const byte_buffer other = encode_udp_connect_response(tid + 1, 0x1234);
    EXPECT_TRUE(client(alice).claims_datagram(answer));
    EXPECT_TRUE(client(alice).claims_datagram(byte_view(answer).first(8)));
    EXPECT_FALSE(client(alice).claims_datagram(byte_view(answer).first(7)));
    EXPECT_FALSE(client(alice).claims_datagram(other));
    byte_buffer action4 = answer;
    action4[3] = 4;
    EXPECT_FALSE(client(alice).claims_datagram(action4));
    EXPECT_FALSE(client(alice).claims_datagram(connect));  // a request, not an answer
    EXPECT_FALSE(
        client(alice).claims_datagram(as_bytes("d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae1:q4:ping1:t2:aa1:y1:qe")));

    // An unknown transaction id is nobody's on Alice's host; a known one from elsewhere is claimed
    // and dropped.
    // (Datagrams as if from elsewhere: inputs to the host itself, then the network carries on.)
    net->at(alice).on_datagram(now(), tracker_address, other);
    net->pump(alice);
    EXPECT_EQ(net->at(alice).counters().datagrams_unclaimed, 1u);
    net->at(alice).on_datagram(now(), *endpoint::parse("10.0.0.66:6969"), answer);
    net->pump(alice);
    EXPECT_EQ(net->at(alice).counters().datagrams_unclaimed, 1u);
    EXPECT_EQ(client(alice).counters().datagrams_unexpected, 1u);
    EXPECT_EQ(client(alice).counters().datagrams_received, 0u);
    settle();
    EXPECT_EQ(events_of<announce_succeeded>(events(alice), 1).size(), 1u);
    // Over: its transaction ids are forgotten.
    EXPECT_FALSE(client(alice).claims_datagram(answer));
}

TEST_F(tracker_client_service_hosts, reports_a_name_that_does_not_resolve_and_caches_the_failure_briefly) {
    const std::string url = "http://nowhere.test/announce";
    add(alice, 1, url, 1, 1);
    start(alice, 1);
    settle();
    const auto failed = events_of<announce_failed>(events(alice), 1);
    ASSERT_EQ(failed.size(), 1u);
    // The client's prefix, then the look-up's error as the network words it.
    EXPECT_EQ(failed[0].reason,
              "cannot resolve nowhere.test: nowhere.test: no such name in the simulated network");
    add(alice, 2, url, 2, 1);
    start(alice, 2);
    settle();
    EXPECT_EQ(events_of<announce_failed>(events(alice), 2).size(), 1u);
    EXPECT_EQ(client(alice).counters().lookups, 1u);
    EXPECT_EQ(client(alice).counters().lookups_failed, 1u);
    // Past dns_failure_ttl the name is asked again (the clients retry after a minute).
    advance(61s);
    EXPECT_EQ(client(alice).counters().lookups, 2u);
    EXPECT_TRUE(client(alice).idle());
}

TEST_F(tracker_client_service_hosts, gives_up_on_a_look_up_the_host_never_answers) {
    alice_work->hold_lookups = true;
    add(alice, 1, udp_url, 1, 1);
    start(alice, 1);
    ASSERT_EQ(alice_work->lookups_held.size(), 1u);
    advance(30s);
    const auto failed = events_of<announce_failed>(events(alice), 1);
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0].reason, "cannot resolve tracker.test: no answer within 30 s");
    EXPECT_TRUE(client(alice).idle());
    const std::size_t sent = tap(alice).log.size();
    alice_work->answer_lookups();  // too late: ignored, and not cached
    EXPECT_EQ(tap(alice).log.size(), sent) << "nothing sent";
    EXPECT_EQ(client(alice).names_cached(), 0u);
}

TEST_F(tracker_client_service_hosts, reports_a_refused_connection_and_tries_each_address_in_turn) {
    // Hosts that refuse (an address with no host at all would time out instead).
    refuse_at(*endpoint::parse("10.0.0.9:80"));
    refuse_at(*endpoint::parse("10.0.0.9:6969"));
    add(alice, 1, "http://10.0.0.9:80/announce", 1, 1);
    start(alice, 1);
    settle();
    const auto failed = events_of<announce_failed>(events(alice), 1);
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0].reason, "cannot connect: connection refused");
    EXPECT_EQ(client(alice).counters().lookups, 0u);  // an address literal needs no look-up

    net->names["two.test"] = {*endpoint::parse("10.0.0.9:0"), tracker_address};
    add(alice, 2, "http://two.test:6969/announce", 2, 1);
    start(alice, 2);
    settle();
    EXPECT_EQ(events_of<announce_succeeded>(events(alice), 2).size(), 1u);
    EXPECT_EQ(client(alice).counters().connects, 3u);
    EXPECT_EQ(client(alice).counters().connects_failed, 2u);

    // A name with many addresses: addresses_per_name_max of them are tried.
    std::vector<endpoint> many;
    for (int i = 0; i < 20; ++i) {
        many.push_back(endpoint{ip_address::v4(0x0a000100u + static_cast<std::uint32_t>(i)), 80});
        refuse_at(many.back());
    }
    net->names["many.test"] = many;
    add(alice, 3, "http://many.test/announce", 3, 1);
    start(alice, 3);
    settle();
    const auto none = events_of<announce_failed>(events(alice), 3);
    ASSERT_EQ(none.size(), 1u);
    EXPECT_EQ(none[0].reason, "cannot connect: connection refused");
    EXPECT_EQ(client(alice).counters().connects, 3u + config.addresses_per_name_max);
}

TEST_F(tracker_client_service_hosts, reports_a_connection_closed_before_a_response) {
    // A host that takes connections for a service which closes them at once.
    class hang_up final : public service {
    public:
        std::string_view name() const override { return "hang up"; }
        claim claims_stream(byte_view) const override { return claim::yes; }
        void on_stream_bytes(time_point, conn_id conn, byte_view) override {
            out_.push(io::close{conn, "no", false});
        }
        void on_timer(time_point) override {}
        std::optional<transmit> poll_transmit() override { return out_.pop(); }
        std::optional<time_point> next_timer() const override { return std::nullopt; }
        bool has_events() const override { return false; }

    private:
        fifo<transmit> out_;
    };
    const sim::host_index rude = net->add_host(*endpoint::parse("10.0.0.8:80"));
    net->at(rude).add(now(), std::make_unique<hang_up>());
    add(alice, 1, "http://10.0.0.8/announce", 1, 1);
    start(alice, 1);
    settle();
    const auto failed = events_of<announce_failed>(events(alice), 1);
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_TRUE(failed[0].reason.starts_with("connection closed before a response")) << failed[0].reason;
    EXPECT_EQ(net->links(), 0u);
}

TEST_F(tracker_client_service_hosts, stop_sends_stopped_then_the_service_is_idle) {
    add(alice, 1, http_url, 1, 1);
    add(alice, 2, udp_url, 2, 1);
    start(alice, 1);
    start(alice, 2);
    settle();
    EXPECT_EQ(server().figures(now()).peers, 2u);
    events(alice);
    stop(alice, 1);
    stop(alice, 2);
    EXPECT_FALSE(client(alice).idle());
    settle();
    EXPECT_TRUE(client(alice).idle());
    const auto seen = events(alice);
    for (std::uint64_t key : {1, 2}) {
        const auto done = events_of<announce_succeeded>(seen, key);
        ASSERT_EQ(done.size(), 1u) << key;
        EXPECT_EQ(done[0].event, announce_event::stopped);
    }
    EXPECT_EQ(server().figures(now()).peers, 0u);
    // Stopped clients ask for no timer; nothing more is sent.
    advance(1h);
    // connect, 'started', 'stopped' (the connection id still good).
    EXPECT_EQ(client(alice).counters().datagrams_sent, 3u);
    EXPECT_EQ(client(alice).counters().connects, 2u);
}

TEST_F(tracker_client_service_hosts, remove_mid_exchange_closes_its_connection_and_forgets_its_transaction) {
    add(alice, 1, http_url, 1, 1);
    start(alice, 1);
    // The connect: the tracker accepts, Alice sends her request.
    ASSERT_TRUE(net->run_for([&] { return !tap(alice).emitted<io::send>().empty(); }, 1s));
    ASSERT_EQ(net->links(), 1u);
    ASSERT_EQ(net->at(alice).connection_count(), 1u);
    remove(alice, 1);
    EXPECT_EQ(net->at(alice).connection_count(), 0u);
    EXPECT_TRUE(client(alice).idle());
    EXPECT_FALSE(client(alice).has(1));
    ASSERT_FALSE(tap(alice).log.empty());
    EXPECT_TRUE(std::holds_alternative<io::close>(tap(alice).log.back()));
    settle();
    EXPECT_EQ(net->links(), 0u);
    EXPECT_EQ(server().figures(now()).http_connections_open, 0u);
    EXPECT_TRUE(events(alice).empty());

    // UDP: the answer to a removed torrent's connect is nobody's.
    add(alice, 2, udp_url, 2, 1);
    start(alice, 2);
    remove(alice, 2);
    settle();
    EXPECT_EQ(server().figures(now()).counters.udp_connects, 1u);
    EXPECT_EQ(net->at(alice).counters().datagrams_unclaimed, 1u);

    // A look-up under way: its answer finds nobody waiting.
    net->names["slow.test"] = {tracker_address};
    alice_work->hold_lookups = true;
    add(alice, 3, "udp://slow.test:6969", 3, 1);
    start(alice, 3);
    ASSERT_EQ(alice_work->lookups_held.size(), 1u);
    remove(alice, 3);
    const std::size_t sent = tap(alice).log.size();
    alice_work->answer_lookups();
    EXPECT_EQ(tap(alice).log.size(), sent) << "nothing sent";
    EXPECT_TRUE(client(alice).idle());
}

TEST_F(tracker_client_service_hosts, scrape_goes_the_same_way) {
    announce_both(http_url);
    call(bob, [&](tracker_client_service& s) { s.scrape(now(), 7); });
    settle();
    const auto result = events_of<scrape_result>(events(bob), 7);
    ASSERT_EQ(result.size(), 1u);
    EXPECT_EQ(result[0].incomplete, 2);
}

TEST_F(tracker_client_service_hosts, set_listen_port_changes_what_is_announced) {
    add(alice, 1, udp_url, 1, 1);
    call(alice, [](tracker_client_service& s) { s.set_listen_port(7000); });
    start(alice, 1);
    settle();
    add(bob, 7, udp_url, 1, 2);
    start(bob, 7);
    settle();
    const auto found = events_of<peers_found>(events(bob), 7);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].peers, std::vector<endpoint>{*endpoint::parse("10.0.0.2:7000")});
}

// The bounds, each with the service alone (no host drains it) or through the hosts.
TEST_F(tracker_client_service_hosts, bounds_torrents_and_exchanges_under_way) {
    config.torrents_max = 2;
    config.exchanges_max = 1;
    config.exchanges_waiting_max = 1;
    build();
    add(alice, 1, http_url, 1, 1);
    add(alice, 2, http_url, 2, 1);
    call(alice, [&](tracker_client_service& s) {
        EXPECT_FALSE(s.add(now(), 3, {{http_url}}, torrent_hash(3), peer_id(1), 6881));
        EXPECT_FALSE(s.add(now(), 1, {{http_url}}, torrent_hash(3), peer_id(1), 6881));  // taken
    });
    EXPECT_EQ(client(alice).torrents(), 2u);
    call(alice, [&](tracker_client_service& s) {
        s.start(now(), 1, tracker_stats{});
        s.start(now(), 2, tracker_stats{});
        s.scrape(now(), 1);  // a third exchange: over exchanges_max + exchanges_waiting_max
    });
    std::size_t most = 0;
    net->run_for(
        [&] {
            most = std::max(most, net->at(alice).connection_count());
            return false;
        },
        2s);
    EXPECT_EQ(most, 1u);
    const auto seen = events(alice);
    EXPECT_EQ(events_of<announce_succeeded>(seen, 1).size(), 1u);
    EXPECT_EQ(events_of<announce_succeeded>(seen, 2).size(), 1u);
    const auto refused = events_of<scrape_failed>(seen, 1);
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(refused[0].reason, "too many tracker exchanges under way (1)");
    EXPECT_EQ(client(alice).counters().exchanges_waited, 1u);
    EXPECT_EQ(client(alice).counters().exchanges_refused, 1u);
}

TEST_F(tracker_client_service_hosts, bounds_lookups_and_the_name_cache) {
    config.lookups_max = 1;
    config.dns_cache_max = 2;
    build();
    for (int i = 0; i < 3; ++i) {
        net->names["t" + std::to_string(i) + ".test"] = {tracker_address};
    }
    alice_work->hold_lookups = true;
    add(alice, 1, "udp://t0.test:6969", 1, 1);
    add(alice, 2, "udp://t1.test:6969", 2, 1);
    start(alice, 1);
    start(alice, 2);
    EXPECT_EQ(alice_work->lookups_held.size(), 1u);
    const auto refused = events_of<announce_failed>(events(alice), 2);
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(refused[0].reason, "cannot resolve t1.test: too many look-ups under way");
    alice_work->hold_lookups = false;
    alice_work->answer_lookups();
    settle();
    for (int i = 1; i < 3; ++i) {
        const auto key = static_cast<std::uint64_t>(10 + i);
        add(alice, key, "udp://t" + std::to_string(i) + ".test:6969", 10 + i, 1);
        start(alice, key);
        settle();
    }
    EXPECT_EQ(client(alice).counters().lookups, 3u);
    EXPECT_EQ(client(alice).names_cached(), 2u);
}

TEST(tracker_client_service_alone, bounds_its_transmits_and_events) {
    tracker_client_service_config config;
    config.transmits_queued_max = 2;
    config.events_queued_max = 3;
    tracker_client_service s(config, 1);
    const time_point now(100s);
    for (std::uint64_t key = 1; key <= 4; ++key) {
        ASSERT_TRUE(
            s.add(now, key, {{"udp://10.0.0.1:6969"}}, torrent_hash(static_cast<int>(key)), peer_id(1), 1));
        s.start(now, key, tracker_stats{});
    }
    std::size_t out = 0;
    while (auto t = s.poll_transmit()) {
        EXPECT_TRUE(std::holds_alternative<io::datagram>(*t));
        ++out;
    }
    EXPECT_EQ(out, 2u);
    EXPECT_EQ(s.counters().transmits_dropped, 2u);
    EXPECT_EQ(s.exchanges(), 4u);  // the dropped ones are retransmitted, as if lost
    ASSERT_TRUE(s.next_timer());
    s.on_timer(*s.next_timer());
    out = 0;
    while (s.poll_transmit()) {
        ++out;
    }
    EXPECT_EQ(out, 2u);

    for (std::uint64_t key = 11; key <= 15; ++key) {
        ASSERT_TRUE(s.add(now, key, {{"https://example.org/announce"}}, torrent_hash(1), peer_id(1), 1));
        s.start(now, key, tracker_stats{});  // https is not supported: announce_failed at once
    }
    std::vector<std::uint64_t> keys;
    while (auto e = s.poll_event()) {
        keys.push_back(e->key);
    }
    EXPECT_EQ(keys, (std::vector<std::uint64_t>{13, 14, 15}));
    EXPECT_EQ(s.counters().events_dropped, 2u);
}

TEST(tracker_client_service_alone, remove_drops_the_torrents_undrained_events) {
    tracker_client_service s({}, 1);
    const time_point now(100s);
    for (std::uint64_t key = 1; key <= 2; ++key) {
        ASSERT_TRUE(s.add(now, key, {{"https://example.org/announce"}}, torrent_hash(1), peer_id(1), 1));
        s.start(now, key, tracker_stats{});
    }
    EXPECT_TRUE(s.has_events());
    s.remove(now, 1);
    ASSERT_TRUE(s.add(now, 1, {{"udp://10.0.0.1:1"}}, torrent_hash(2), peer_id(1), 1));  // the key again
    std::vector<std::uint64_t> keys;
    while (auto e = s.poll_event()) {
        keys.push_back(e->key);
    }
    EXPECT_EQ(keys, std::vector<std::uint64_t>{2});
}

TEST(tracker_client_service_alone, needs_no_host_and_never_claims_foreign_datagrams) {
    tracker_client_service s({}, 1);
    EXPECT_FALSE(s.claims_datagram(as_bytes("d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae1:q4:ping1:t2:aa1:y1:qe")));
    EXPECT_FALSE(s.claims_datagram(encode_udp_connect(5)));
    EXPECT_FALSE(s.claims_datagram(encode_udp_connect_response(5, 9)));  // nobody waits for 5
    EXPECT_EQ(s.claims_stream(as_bytes("GET /announce HTTP/1.1\r\n")), claim::no);
    EXPECT_TRUE(s.idle());
    EXPECT_FALSE(s.next_timer());
}

}  // namespace
}  // namespace hyphae::tracker
