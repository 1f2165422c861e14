// The BitTorrent service under the host contract: two hosts on the simulated network, virtual time.

#include "hyphae/proto/bittorrent/bittorrent_service.hpp"

#include <array>
#include <deque>
#include <functional>
#include <map>

#include "sim_probes.hpp"
#include <gtest/gtest.h>

#include "hyphae/host/host.hpp"
#include "hyphae/proto/bittorrent/handshake.hpp"
#include "hyphae/sim/memory_storage.hpp"
#include "hyphae/sim/network.hpp"

namespace hyphae::bittorrent {
namespace {

using namespace std::chrono_literals;

const time_point t0{};

id160 peer_id(std::uint8_t n) {
    id160 id;
    id.bytes.fill(n);
    return id;
}

using bt_tap = test::service_tap<bittorrent_service>;

// One host with a BitTorrent service (tapped: the test sees what it dials and closes), its
// storages by torrent handle, and the events its owner drained.
struct side {
    sim::host_index at = 0;
    service_id bt = 0;
    endpoint address;
    std::unique_ptr<test::held_work> owner;  // drains events; holds disk jobs when told to
    std::map<torrent_handle, std::unique_ptr<sim::memory_storage>> disks;  // by job storage
    std::vector<bittorrent_event> events;
    bt_tap* tap = nullptr;

    bittorrent_service& service() { return tap->inner(); }
    std::vector<std::pair<conn_id, std::string>> closes() const {
        std::vector<std::pair<conn_id, std::string>> out;
        for (const io::close& c : tap->emitted<io::close>()) {
            out.emplace_back(c.conn, c.reason);
        }
        return out;
    }
    std::vector<conn_id> dialled() const {
        std::vector<conn_id> out;
        for (const io::connect& c : tap->emitted<io::connect>()) {
            out.push_back(c.conn);
        }
        return out;
    }
    bool closed_with(std::string_view reason) const {
        const auto all = closes();
        return std::any_of(all.begin(), all.end(), [&](const auto& c) { return c.second == reason; });
    }
    template <class T>
    std::size_t count(torrent_handle t) const {
        return static_cast<std::size_t>(std::count_if(
            events.begin(), events.end(),
            [&](const bittorrent_event& e) { return e.torrent == t && std::holds_alternative<T>(e.what); }));
    }
};

// Two hosts on the simulated network (5 ms apart). Disk jobs run on in-memory storages, or wait,
// held by the host's owner, until the test releases them.
struct host_pair {
    sim::network world{sim::network_params{}};
    std::array<side, 2> sides;

    explicit host_pair(bittorrent_service_config config = {}) {
        world.set_disk(
            [this](sim::host_index at, const routed_disk_job& job) { return run_disk_job(at, job); });
        for (sim::host_index i = 0; i < 2; ++i) {
            side& s = sides[i];
            s.address = *endpoint::parse("10.0.0." + std::to_string(i + 1) + ":6881");
            s.at = world.add_host(s.address);
            config.peer_id = peer_id(static_cast<std::uint8_t>(i + 1));
            s.bt = test::add_tapped<bittorrent_service>(host_of(i), now(), config, std::uint64_t{i} + 1);
            s.tap = &host_of(i).get<bt_tap>(s.bt);
            s.service().set_listen_port(6881);
            s.owner = std::make_unique<test::held_work>(world, s.at, [this, i](time_point, service_id id) {
                while (auto e = host_of(i).get<bt_tap>(id).inner().poll_event()) {
                    sides[i].events.push_back(std::move(*e));
                }
            });
            world.set_owner(s.at, s.owner.get());
        }
    }

    time_point now() const { return world.now(); }
    host& host_of(sim::host_index i) { return world.at(sides[i].at); }

    // A command on side i's service, then what it made is carried out.
    template <class F>
    auto call(sim::host_index i, F&& command) {
        return world.call<bt_tap>(sides[i].at, sides[i].bt, [&](bt_tap& t) { return command(t.inner()); });
    }

    torrent_handle add(sim::host_index i, add_params params, std::unique_ptr<sim::memory_storage> disk) {
        const sha1_hash info_hash = std::get<metainfo>(params.source).info_hash;
        if (auto t = sides[i].service().find(info_hash)) {
            return *t;
        }
        // The storage must be there before the first job, and the handle is known only once the
        // torrent is added: the command goes to the host directly, then the network carries it out.
        const torrent_handle added = host_of(i).call<bt_tap>(
            now(), sides[i].bt, [&](bt_tap& t) { return t.inner().add_torrent(now(), std::move(params)); });
        sides[i].disks[added] = std::move(disk);
        world.pump(sides[i].at);
        return added;
    }

    disk_result run_disk_job(sim::host_index at, const routed_disk_job& job) {
        side& s = sides[at];
        auto disk = s.disks.find(job.job.storage);
        return disk == s.disks.end() ? disk_result{false, "no storage", nullptr, {}}
                                     : disk->second->run(job.job);
    }
    void hold_disk(sim::host_index i) { sides[i].owner->hold_disk = true; }
    void release_disk(sim::host_index i) {
        sides[i].owner->release_disk([&](const routed_disk_job& job) { return run_disk_job(i, job); });
    }

    // A connection a peer the test plays opens to side i, and the bytes it sends (raw, for
    // malformed peers): inputs to the host itself, whose outputs the network then carries out.
    conn_id raw_connect(sim::host_index i) {
        const auto conn = host_of(i).on_accepted(now(), *endpoint::parse("10.0.0.9:5555"));
        EXPECT_TRUE(conn);
        world.pump(sides[i].at);
        return *conn;
    }
    void raw_send(sim::host_index i, conn_id conn, std::string_view bytes) {
        host_of(i).on_stream_bytes(now(), conn, as_bytes(bytes));
        world.pump(sides[i].at);
    }

    // Runs until `done`, or fails when virtual time would pass `deadline`.
    bool run_until(const std::function<bool()>& done, duration deadline) {
        return world.run_for(done, deadline);
    }
};

using content_ptr = std::shared_ptr<const sim::shared_content>;

content_ptr make_content(std::uint64_t size, std::int64_t piece_length, std::uint64_t seed) {
    return sim::shared_content::make("content-" + std::to_string(seed), size, piece_length, seed);
}

add_params seed_params(const content_ptr& c) {
    add_params p;
    p.source = c->meta();
    p.have = bitfield(c->meta().piece_count(), true);
    return p;
}

add_params leech_params(const content_ptr& c, std::vector<endpoint> peers) {
    add_params p;
    p.source = c->meta();
    p.peers = std::move(peers);
    return p;
}

std::unique_ptr<sim::memory_storage> full(const content_ptr& c) {
    return std::make_unique<sim::memory_storage>(c, true);
}
std::unique_ptr<sim::memory_storage> empty(const content_ptr& c) {
    return std::make_unique<sim::memory_storage>(c, false);
}

std::string handshake_bytes(const sha1_hash& info_hash, std::uint8_t who) {
    wire::handshake h;
    h.info_hash = info_hash;
    h.peer_id = peer_id(who);
    h.set_extension_protocol();
    h.set_fast_extension();
    return wire::encode_handshake(h);
}

TEST(bittorrent_service, a_download_completes_between_two_hosts) {
    const auto c = make_content(1'000'000, 32768, 1);
    host_pair net;
    const torrent_handle seed = net.add(0, seed_params(c), full(c));
    const torrent_handle leech = net.add(1, leech_params(c, {net.sides[0].address}), empty(c));
    ASSERT_NE(seed, 0u);
    ASSERT_NE(leech, 0u);
    bittorrent_service& b = net.sides[1].service();
    ASSERT_TRUE(net.run_until([&] { return b.get(leech)->complete(); }, 60s));
    EXPECT_TRUE(net.sides[1].disks[leech]->complete());
    EXPECT_EQ(net.sides[1].count<torrent_events::download_complete>(leech), 1u);
    EXPECT_EQ(net.sides[1].count<torrent_events::piece_verified>(leech), c->meta().piece_count());
    EXPECT_EQ(net.sides[0].service().counters().incoming_routed, 1u);
    EXPECT_GE(net.sides[0].service().get(seed)->stats(net.now()).uploaded, c->meta().total_size);
    // Both sides were seeds then: the connection ended, and both services forgot it.
    ASSERT_TRUE(net.run_until(
        [&] { return b.connection_count() == 0 && net.sides[0].service().connection_count() == 0; }, 10s));
    EXPECT_EQ(net.host_of(0).connection_count(), 0u);
    EXPECT_EQ(net.host_of(1).connection_count(), 0u);
    EXPECT_EQ(b.disk_jobs_in_flight(), 0u);
    EXPECT_EQ(net.sides[0].service().disk_jobs_in_flight(), 0u);
}

TEST(bittorrent_service, incoming_connections_go_to_the_torrent_their_handshake_names) {
    const auto x = make_content(300'000, 16384, 2);
    const auto y = make_content(200'000, 16384, 3);
    host_pair net;
    const torrent_handle ax = net.add(0, seed_params(x), full(x));
    const torrent_handle ay = net.add(0, seed_params(y), full(y));
    const torrent_handle bx = net.add(1, leech_params(x, {net.sides[0].address}), empty(x));
    const torrent_handle by = net.add(1, leech_params(y, {net.sides[0].address}), empty(y));
    bittorrent_service& a = net.sides[0].service();
    bittorrent_service& b = net.sides[1].service();
    EXPECT_EQ(a.find(x->meta().info_hash), ax);
    EXPECT_EQ(a.find(y->meta().info_hash), ay);
    ASSERT_TRUE(net.run_until(
        [&] { return a.get(ax)->connection_count() == 1 && a.get(ay)->connection_count() == 1; }, 5s));
    EXPECT_EQ(a.counters().incoming_routed, 2u);
    EXPECT_EQ(a.connection_count(), 2u);
    ASSERT_TRUE(net.run_until([&] { return b.get(bx)->complete() && b.get(by)->complete(); }, 60s));
    EXPECT_TRUE(net.sides[1].disks[bx]->complete());
    EXPECT_TRUE(net.sides[1].disks[by]->complete());
    // Disk jobs came back to the right torrent: each side's storage is its own torrent's.
    EXPECT_EQ(net.sides[1].disks[bx]->bad_writes(), 0u);
    EXPECT_EQ(net.sides[1].disks[by]->bad_writes(), 0u);
    EXPECT_GE(net.sides[0].service().get(ax)->stats(net.now()).uploaded, x->meta().total_size);
    EXPECT_GE(net.sides[0].service().get(ay)->stats(net.now()).uploaded, y->meta().total_size);
}

TEST(bittorrent_service, a_handshake_that_arrives_in_pieces_is_routed_once_the_info_hash_is_in) {
    const auto x = make_content(100'000, 16384, 4);
    host_pair net;
    const torrent_handle ax = net.add(0, seed_params(x), full(x));
    const std::string hello = handshake_bytes(x->meta().info_hash, 7);
    const conn_id conn = net.raw_connect(0);
    net.raw_send(0, conn, hello.substr(0, 5));   // the host waits: a prefix of the protocol string
    net.raw_send(0, conn, hello.substr(5, 30));  // claimed; 35 bytes: no info-hash yet
    EXPECT_EQ(net.sides[0].service().pending_handshakes(), 1u);
    EXPECT_EQ(net.sides[0].service().get(ax)->connection_count(), 0u);
    net.raw_send(0, conn, hello.substr(35));
    EXPECT_EQ(net.sides[0].service().pending_handshakes(), 0u);
    EXPECT_EQ(net.sides[0].service().get(ax)->connection_count(), 1u);
    EXPECT_TRUE(net.sides[0].closes().empty());
    EXPECT_EQ(net.host_of(0).owner_of(conn), net.sides[0].bt);
}

TEST(bittorrent_service, a_handshake_for_a_torrent_it_does_not_have_is_closed_with_the_reason) {
    const auto x = make_content(100'000, 16384, 5);
    const auto z = make_content(100'000, 16384, 6);
    host_pair net;
    net.add(0, seed_params(x), full(x));
    net.add(1, leech_params(z, {net.sides[0].address}), empty(z));
    ASSERT_TRUE(net.run_until([&] { return !net.sides[0].closes().empty(); }, 5s));
    EXPECT_EQ(net.sides[0].closes()[0].second,
              "handshake for a torrent we do not have (" + z->meta().info_hash.to_hex() + ")");
    EXPECT_EQ(net.sides[0].service().counters().incoming_unknown, 1u);
    EXPECT_EQ(net.sides[0].service().connection_count(), 0u);
}

TEST(bittorrent_service, only_the_bittorrent_protocol_string_is_claimed) {
    bittorrent_service s({}, 1);
    EXPECT_EQ(s.claims_stream(as_bytes(std::string_view("\x13"))), claim::need_more);
    EXPECT_EQ(s.claims_stream(as_bytes(std::string_view("\x13"
                                                        "BitTorrent"))),
              claim::need_more);
    EXPECT_EQ(s.claims_stream(as_bytes(std::string_view("\x13"
                                                        "BitTorrent protocol"))),
              claim::yes);
    EXPECT_EQ(s.claims_stream(as_bytes(std::string_view("\x13"
                                                        "BitTorrent protocol\0\0\0",
                                                        23))),
              claim::yes);
    EXPECT_EQ(s.claims_stream(as_bytes(std::string_view("\x13"
                                                        "BitTorrent protocoX"))),
              claim::no);
    EXPECT_EQ(s.claims_stream(as_bytes(std::string_view("GET / HTTP/1.1\r\n"))), claim::no);
    EXPECT_EQ(s.claims_stream(as_bytes(std::string_view("\x14"))), claim::no);
    // Through a host: a connection that is not BitTorrent never reaches the service (the host
    // closes it, as unclaimed).
    host_pair net;
    const conn_id conn = net.raw_connect(0);
    net.raw_send(0, conn, "GET / HTTP/1.1\r\n");
    EXPECT_EQ(net.host_of(0).counters().streams_unclaimed, 1u);
    EXPECT_EQ(net.host_of(0).connection_count(), 0u);
    EXPECT_TRUE(net.sides[0].tap->log.empty());
    EXPECT_EQ(net.sides[0].service().pending_handshakes(), 0u);
}

TEST(bittorrent_service, a_removed_torrent_closes_its_connections_and_hears_nothing_more) {
    const auto c = make_content(600'000, 16384, 7);
    host_pair net;
    net.add(0, seed_params(c), full(c));
    side& b = net.sides[1];
    net.hold_disk(1);  // its writes wait: their results come after the torrent has gone
    const torrent_handle leech = net.add(1, leech_params(c, {net.sides[0].address}), empty(c));
    ASSERT_TRUE(net.run_until([&] { return b.owner->disk_held.size() >= 4; }, 10s));
    ASSERT_EQ(b.service().connection_count(), 1u);
    ASSERT_EQ(b.dialled().size(), 1u);
    const conn_id conn = b.dialled()[0];
    net.call(1, [&](bittorrent_service& s) { s.remove_torrent(net.now(), leech); });
    ASSERT_FALSE(b.closes().empty());
    EXPECT_EQ(b.closes().back(), std::make_pair(conn, std::string("torrent removed")));
    EXPECT_EQ(b.service().get(leech), nullptr);
    EXPECT_FALSE(b.service().find(c->meta().info_hash));
    EXPECT_EQ(b.service().connection_count(), 0u);
    EXPECT_EQ(b.service().torrent_count(), 0u);
    EXPECT_FALSE(b.service().next_timer());
    // Late inputs for it go nowhere: disk results, and bytes for its old connection.
    const std::size_t late = b.owner->disk_held.size();
    const std::uint64_t some_job = b.owner->disk_held[0].job.id;
    net.release_disk(1);
    EXPECT_EQ(b.service().counters().stale_disk_results, late);
    EXPECT_EQ(b.service().disk_jobs_in_flight(), 0u);
    b.service().on_disk_done(net.now(), some_job, disk_result{});  // twice: no job in flight
    EXPECT_EQ(b.service().counters().stale_disk_results, late);
    b.service().on_stream_bytes(net.now(), conn, as_bytes(std::string_view("\0\0\0\x01\x02", 5)));
    b.service().on_closed(net.now(), conn, "late");
    EXPECT_FALSE(b.service().poll_transmit());
    // The seed heard of the close; the same torrent added again gets another handle.
    ASSERT_TRUE(net.run_until([&] { return net.sides[0].service().connection_count() == 0; }, 5s));
    const torrent_handle again = net.add(1, leech_params(c, {}), empty(c));
    EXPECT_NE(again, leech);
    EXPECT_EQ(b.service().get(leech), nullptr);
    EXPECT_NE(b.service().get(again), nullptr);
}

TEST(bittorrent_service, a_stopped_torrent_closes_its_peers_and_takes_no_new_ones) {
    const auto c = make_content(300'000, 16384, 8);
    host_pair net;
    const torrent_handle seed = net.add(0, seed_params(c), full(c));
    net.add(1, leech_params(c, {net.sides[0].address}), empty(c));
    bittorrent_service& a = net.sides[0].service();
    ASSERT_TRUE(net.run_until([&] { return a.connection_count() == 1; }, 5s));
    net.call(0, [&](bittorrent_service& s) { s.stop_torrent(net.now(), seed); });
    EXPECT_TRUE(net.sides[0].closed_with("stopping"));
    EXPECT_EQ(a.connection_count(), 0u);
    const conn_id conn = net.raw_connect(0);
    net.raw_send(0, conn, handshake_bytes(c->meta().info_hash, 9));
    EXPECT_TRUE(net.sides[0].closed_with("torrent takes no more connections"));
    EXPECT_EQ(a.counters().incoming_refused, 1u);
}

TEST(bittorrent_service, a_connection_that_names_no_info_hash_in_time_is_closed) {
    bittorrent_service_config config;
    config.handshake_route_timeout = 5s;
    config.pending_handshakes_max = 2;
    host_pair net(config);
    const time_point began = net.now();
    const std::string start =
        "\x13"
        "BitTorrent protocol";
    const conn_id slow = net.raw_connect(0);
    net.raw_send(0, slow, start);
    net.world.run_for(1s);
    const conn_id second = net.raw_connect(0);
    net.raw_send(0, second, start);
    bittorrent_service& a = net.sides[0].service();
    EXPECT_EQ(a.pending_handshakes(), 2u);
    EXPECT_EQ(a.next_timer(), began + 5s);
    // Over pending_handshakes_max: closed at once.
    const conn_id third = net.raw_connect(0);
    net.raw_send(0, third, start);
    const auto closes = [&] {
        return net.sides[0].closes();
    };
    ASSERT_EQ(closes().size(), 1u);
    EXPECT_EQ(closes()[0], std::make_pair(third, std::string("too many handshakes waiting")));
    EXPECT_EQ(a.counters().incoming_over_max, 1u);
    // The deadline: the first goes at 5 s, the second at 6 s.
    ASSERT_TRUE(net.run_until([&] { return closes().size() == 2; }, 10s));
    EXPECT_EQ(net.now(), began + 5s);
    EXPECT_EQ(closes()[1], std::make_pair(slow, std::string("no info-hash within the handshake deadline")));
    ASSERT_TRUE(net.run_until([&] { return closes().size() == 3; }, 10s));
    EXPECT_EQ(net.now(), began + 6s);
    EXPECT_EQ(closes()[2].first, second);
    EXPECT_EQ(a.counters().incoming_timed_out, 2u);
    EXPECT_EQ(a.pending_handshakes(), 0u);
    EXPECT_FALSE(a.next_timer());
    EXPECT_EQ(net.host_of(0).connection_count(), 0u);
}

TEST(bittorrent_service, one_timer_heap_fires_only_the_torrents_that_are_due) {
    bittorrent_service s({}, 1);
    const endpoint nobody = *endpoint::parse("10.9.9.9:1");  // a peer to dial keeps a torrent ticking
    std::vector<torrent_handle> t;
    const auto add_at = [&](time_point now, std::uint64_t seed) {
        const auto c = make_content(20'000, 16384, seed);
        const torrent_handle h = s.add_torrent(now, leech_params(c, {nobody}));
        s.on_timer(now);
        t.push_back(h);
    };
    add_at(t0, 11);
    add_at(t0 + 300ms, 12);
    add_at(t0 + 600ms, 13);
    while (s.poll_transmit()) {
    }
    EXPECT_EQ(s.get(t[0])->next_timer(), t0 + 1s);
    EXPECT_EQ(s.get(t[1])->next_timer(), t0 + 1300ms);
    EXPECT_EQ(s.get(t[2])->next_timer(), t0 + 1600ms);
    EXPECT_EQ(s.next_timer(), t0 + 1s);
    s.on_timer(t0 + 1300ms);
    EXPECT_EQ(s.get(t[0])->next_timer(), t0 + 2300ms);
    EXPECT_EQ(s.get(t[1])->next_timer(), t0 + 2300ms);
    EXPECT_EQ(s.get(t[2])->next_timer(), t0 + 1600ms) << "not due: not fired";
    EXPECT_EQ(s.next_timer(), t0 + 1600ms);
    // Idle torrents (no peers, nobody to dial) ask for no timer at all: 10^4 of them change nothing.
    for (std::uint64_t n = 0; n < 10'000; ++n) {
        sha1_hash h;
        std::copy_n(reinterpret_cast<const std::uint8_t*>(&n), sizeof n, h.bytes.begin());
        add_params magnet;
        magnet.source = h;
        ASSERT_NE(s.add_torrent(t0 + 1300ms, std::move(magnet)), 0u);
    }
    EXPECT_EQ(s.torrent_count(), 10'003u);
    EXPECT_EQ(s.next_timer(), t0 + 1600ms);
    s.remove_torrent(t0 + 1300ms, t[2]);
    EXPECT_EQ(s.next_timer(), t0 + 2300ms);
}

TEST(bittorrent_service, undrained_events_keep_the_newest_and_count_the_dropped) {
    bittorrent_service_config config;
    config.events_queued_max = 3;
    bittorrent_service s(config, 1);
    // Everything vouched for: each torrent says checking_done, then download_complete.
    std::vector<torrent_handle> t;
    for (std::uint64_t seed = 1; seed <= 2; ++seed) {
        const auto c = make_content(50'000, 16384, seed);
        add_params p = seed_params(c);
        p.check = true;
        t.push_back(s.add_torrent(t0, std::move(p)));
    }
    EXPECT_TRUE(s.has_events());
    EXPECT_EQ(s.counters().events_dropped, 1u);
    std::vector<bittorrent_event> events;
    while (auto e = s.poll_event()) {
        events.push_back(std::move(*e));
    }
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].torrent, t[0]);
    EXPECT_TRUE(std::holds_alternative<torrent_events::download_complete>(events[0].what));
    EXPECT_EQ(events[1].torrent, t[1]);
    EXPECT_TRUE(std::holds_alternative<torrent_events::checking_done>(events[1].what));
    EXPECT_FALSE(s.has_events());
}

TEST(bittorrent_service, handles_are_never_reused_and_an_info_hash_is_added_once) {
    bittorrent_service s({}, 1);
    const auto c = make_content(50'000, 16384, 1);
    const torrent_handle first = s.add_torrent(t0, seed_params(c));
    EXPECT_EQ(s.add_torrent(t0, seed_params(c)), first);
    EXPECT_EQ(s.torrent_count(), 1u);
    s.remove_torrent(t0, first);
    const torrent_handle second = s.add_torrent(t0, seed_params(c));
    EXPECT_NE(second, first);
    EXPECT_EQ(s.get(first), nullptr);
    EXPECT_EQ(s.get(0), nullptr);
    s.remove_torrent(t0, first);  // a stale handle changes nothing
    EXPECT_NE(s.get(second), nullptr);
}

}  // namespace
}  // namespace hyphae::bittorrent
