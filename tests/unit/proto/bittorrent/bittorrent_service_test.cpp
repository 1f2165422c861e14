// The BitTorrent service under the host contract: two hosts back to back, no sockets, virtual time.

#include "hyphae/proto/bittorrent/bittorrent_service.hpp"

#include <array>
#include <deque>
#include <functional>
#include <map>

#include "swarm_harness.hpp"
#include "test_content.hpp"
#include <gtest/gtest.h>

#include "hyphae/host/host.hpp"
#include "hyphae/proto/bittorrent/handshake.hpp"

namespace hyphae::bittorrent {
namespace {

using namespace std::chrono_literals;

const time_point t0{};

id160 peer_id(std::uint8_t n) {
    id160 id;
    id.bytes.fill(n);
    return id;
}

// One host with a BitTorrent service, and what the pipe saw of it.
struct side {
    std::unique_ptr<host> h;
    service_id bt = 0;
    endpoint address;
    std::map<torrent_handle, std::unique_ptr<test::memory_storage>> disks;  // by job storage
    bool hold_disk = false;
    std::vector<routed_disk_job> held;
    std::vector<bittorrent_event> events;
    std::vector<std::pair<conn_id, std::string>> closes;  // what this host closed, and why
    std::vector<conn_id> dialled;

    bittorrent_service& service() { return h->get<bittorrent_service>(bt); }
    bool closed_with(std::string_view reason) const {
        return std::any_of(closes.begin(), closes.end(), [&](const auto& c) { return c.second == reason; });
    }
    template <class T>
    std::size_t count(torrent_handle t) const {
        return static_cast<std::size_t>(std::count_if(
            events.begin(), events.end(),
            [&](const bittorrent_event& e) { return e.torrent == t && std::holds_alternative<T>(e.what); }));
    }
};

// Two hosts back to back: what one transmits becomes the other's input, at once and in order;
// time moves only to the next deadline when nothing else is left. Disk jobs run on in-memory
// storages (or wait, held, until the test releases them).
struct host_pipe {
    std::array<side, 2> sides;
    time_point now = t0;
    std::deque<std::function<void()>> work;
    std::map<std::pair<int, conn_id>, std::pair<int, conn_id>> links;
    std::uint16_t next_port = 40000;

    explicit host_pipe(bittorrent_service_config config = {}) {
        for (int i = 0; i < 2; ++i) {
            side& s = sides[i];
            s.h = std::make_unique<host>();
            s.address = *endpoint::parse("10.0.0." + std::to_string(i + 1) + ":6881");
            config.peer_id = peer_id(static_cast<std::uint8_t>(i + 1));
            auto service = std::make_unique<bittorrent_service>(config, static_cast<std::uint64_t>(i + 1));
            service->set_listen_port(6881);
            s.bt = s.h->add(now, std::move(service));
        }
    }

    // A command on side i's service, then what it made is carried out.
    template <class F>
    auto call(int i, F&& command) {
        auto out = sides[i].h->call<bittorrent_service>(now, sides[i].bt, std::forward<F>(command));
        drain(i);
        return out;
    }
    void call_void(int i, const std::function<void(bittorrent_service&)>& command) {
        sides[i].h->call<bittorrent_service>(now, sides[i].bt, command);
        drain(i);
    }

    torrent_handle add(int i, add_params params, std::string content) {
        const metainfo meta = std::get<metainfo>(params.source);
        const torrent_handle t = sides[i].service().find(meta.info_hash).value_or(0);
        if (t == 0) {
            // The storage must be there before the first job: handles are known only once added.
            auto disk = std::make_unique<test::memory_storage>(meta, std::move(content));
            const torrent_handle added =
                call(i, [&](bittorrent_service& s) { return s.add_torrent(now, std::move(params)); });
            sides[i].disks[added] = std::move(disk);
            return added;
        }
        return t;
    }

    void carry(int i, transmit out) {
        side& s = sides[i];
        if (auto* c = std::get_if<io::connect>(&out)) {
            s.dialled.push_back(c->conn);
            const conn_id conn = c->conn;
            const int j = sides[0].address == c->remote ? 0 : sides[1].address == c->remote ? 1 : -1;
            std::optional<conn_id> in;
            if (j >= 0) {
                in = sides[j].h->on_accepted(now, endpoint{s.address.address, next_port++});
            }
            if (!in) {
                work.push_back([this, i, conn] {
                    sides[i].h->on_closed(now, conn, "connection refused");
                    drain(i);
                });
                return;
            }
            links[{i, conn}] = {j, *in};
            links[{j, *in}] = {i, conn};
            work.push_back([this, i, conn] {
                sides[i].h->on_connected(now, conn);
                drain(i);
            });
        } else if (auto* x = std::get_if<io::send>(&out)) {
            std::string bytes;
            for (const out_buffer& b : x->data) {
                bytes.append(as_chars(b.bytes));
            }
            const conn_id conn = x->conn;
            work.push_back([this, i, conn, bytes = std::move(bytes)] {
                if (auto it = links.find({i, conn}); it != links.end()) {
                    const auto [j, theirs] = it->second;
                    sides[j].h->on_stream_bytes(now, theirs, as_bytes(bytes));
                    drain(j);
                }
                sides[i].h->on_send_done(now, conn, bytes.size());
                drain(i);
            });
        } else if (auto* cl = std::get_if<io::close>(&out)) {
            s.closes.emplace_back(cl->conn, cl->reason);
            if (auto it = links.find({i, cl->conn}); it != links.end()) {
                const auto [j, theirs] = it->second;
                links.erase(it);
                links.erase({j, theirs});
                work.push_back([this, j = j, theirs = theirs] {
                    sides[j].h->on_closed(now, theirs, "closed by the peer");
                    drain(j);
                });
            }
        }
    }

    void run_disk_job(int i, const routed_disk_job& job) {
        side& s = sides[i];
        auto disk = s.disks.find(job.job.storage);
        const disk_result r = disk == s.disks.end() ? disk_result{false, "no storage", nullptr, {}}
                                                    : disk->second->run(job.job);
        s.h->on_disk_done(now, job.service, job.job.id, r);
        drain(i);
    }

    void release_disk(int i) {
        sides[i].hold_disk = false;
        for (const routed_disk_job& job : std::exchange(sides[i].held, {})) {
            run_disk_job(i, job);
        }
    }

    void drain(int i) {
        side& s = sides[i];
        while (auto t = s.h->poll_transmit()) {
            carry(i, std::move(*t));
        }
        while (auto job = s.h->poll_disk_job()) {
            if (s.hold_disk) {
                s.held.push_back(std::move(*job));
            } else {
                work.push_back([this, i, j = std::move(*job)] { run_disk_job(i, j); });
            }
        }
        while (auto ready = s.h->poll_ready()) {
            while (auto e = s.h->get<bittorrent_service>(*ready).poll_event()) {
                s.events.push_back(std::move(*e));
            }
        }
    }

    // A connection someone opens to side i, and the bytes it sends (raw, for malformed peers).
    conn_id raw_connect(int i) {
        const auto conn = sides[i].h->on_accepted(now, *endpoint::parse("10.0.0.9:5555"));
        EXPECT_TRUE(conn);
        return *conn;
    }
    void raw_send(int i, conn_id conn, std::string_view bytes) {
        sides[i].h->on_stream_bytes(now, conn, as_bytes(bytes));
        drain(i);
    }

    // Runs until `done`, or fails when virtual time would pass `deadline` or nothing is left.
    bool run_until(const std::function<bool()>& done, duration deadline) {
        const time_point end = now + deadline;
        for (int steps = 0; steps < 1'000'000; ++steps) {
            if (done()) {
                return true;
            }
            if (!work.empty()) {
                auto step = std::move(work.front());
                work.pop_front();
                step();
                continue;
            }
            std::optional<time_point> next;
            for (const side& s : sides) {
                if (auto t = s.h->next_timer(); t && (!next || *t < *next)) {
                    next = t;
                }
            }
            if (!next || *next > end) {
                now = end;
                return done();
            }
            now = std::max(now, *next);
            for (int i = 0; i < 2; ++i) {
                sides[i].h->on_timer(now);
                drain(i);
            }
        }
        return false;
    }
};

add_params seed_params(const test::test_content& c) {
    add_params p;
    p.source = c.meta;
    p.have = bitfield(c.meta.piece_count(), true);
    return p;
}

add_params leech_params(const test::test_content& c, std::vector<endpoint> peers) {
    add_params p;
    p.source = c.meta;
    p.peers = std::move(peers);
    return p;
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
    const auto c = test::make_test_content(1'000'000, 32768, 1);
    host_pipe net;
    const torrent_handle seed = net.add(0, seed_params(c), c.bytes);
    const torrent_handle leech =
        net.add(1, leech_params(c, {net.sides[0].address}), std::string(c.bytes.size(), '\0'));
    ASSERT_NE(seed, 0u);
    ASSERT_NE(leech, 0u);
    bittorrent_service& b = net.sides[1].service();
    ASSERT_TRUE(net.run_until([&] { return b.get(leech)->complete(); }, 60s));
    EXPECT_EQ(net.sides[1].disks[leech]->content(), c.bytes);
    EXPECT_EQ(net.sides[1].count<torrent_events::download_complete>(leech), 1u);
    EXPECT_EQ(net.sides[1].count<torrent_events::piece_verified>(leech), c.meta.piece_count());
    EXPECT_EQ(net.sides[0].service().counters().incoming_routed, 1u);
    EXPECT_GE(net.sides[0].service().get(seed)->stats(net.now).uploaded, c.meta.total_size);
    // Both sides were seeds then: the connection ended, and both services forgot it.
    ASSERT_TRUE(net.run_until(
        [&] { return b.connection_count() == 0 && net.sides[0].service().connection_count() == 0; }, 10s));
    EXPECT_EQ(net.sides[0].h->connection_count(), 0u);
    EXPECT_EQ(net.sides[1].h->connection_count(), 0u);
    EXPECT_EQ(b.disk_jobs_in_flight(), 0u);
    EXPECT_EQ(net.sides[0].service().disk_jobs_in_flight(), 0u);
}

TEST(bittorrent_service, incoming_connections_go_to_the_torrent_their_handshake_names) {
    const auto x = test::make_test_content(300'000, 16384, 2);
    const auto y = test::make_test_content(200'000, 16384, 3);
    host_pipe net;
    const torrent_handle ax = net.add(0, seed_params(x), x.bytes);
    const torrent_handle ay = net.add(0, seed_params(y), y.bytes);
    const torrent_handle bx =
        net.add(1, leech_params(x, {net.sides[0].address}), std::string(x.bytes.size(), '\0'));
    const torrent_handle by =
        net.add(1, leech_params(y, {net.sides[0].address}), std::string(y.bytes.size(), '\0'));
    bittorrent_service& a = net.sides[0].service();
    bittorrent_service& b = net.sides[1].service();
    EXPECT_EQ(a.find(x.meta.info_hash), ax);
    EXPECT_EQ(a.find(y.meta.info_hash), ay);
    ASSERT_TRUE(net.run_until(
        [&] { return a.get(ax)->connection_count() == 1 && a.get(ay)->connection_count() == 1; }, 5s));
    EXPECT_EQ(a.counters().incoming_routed, 2u);
    EXPECT_EQ(a.connection_count(), 2u);
    ASSERT_TRUE(net.run_until([&] { return b.get(bx)->complete() && b.get(by)->complete(); }, 60s));
    EXPECT_EQ(net.sides[1].disks[bx]->content(), x.bytes);
    EXPECT_EQ(net.sides[1].disks[by]->content(), y.bytes);
    // Disk jobs came back to the right torrent: each side's storage is its own torrent's.
    EXPECT_GE(net.sides[0].service().get(ax)->stats(net.now).uploaded, x.meta.total_size);
    EXPECT_GE(net.sides[0].service().get(ay)->stats(net.now).uploaded, y.meta.total_size);
}

TEST(bittorrent_service, a_handshake_that_arrives_in_pieces_is_routed_once_the_info_hash_is_in) {
    const auto x = test::make_test_content(100'000, 16384, 4);
    host_pipe net;
    const torrent_handle ax = net.add(0, seed_params(x), x.bytes);
    const std::string hello = handshake_bytes(x.meta.info_hash, 7);
    const conn_id conn = net.raw_connect(0);
    net.raw_send(0, conn, hello.substr(0, 5));   // the host waits: a prefix of the protocol string
    net.raw_send(0, conn, hello.substr(5, 30));  // claimed; 35 bytes: no info-hash yet
    EXPECT_EQ(net.sides[0].service().pending_handshakes(), 1u);
    EXPECT_EQ(net.sides[0].service().get(ax)->connection_count(), 0u);
    net.raw_send(0, conn, hello.substr(35));
    EXPECT_EQ(net.sides[0].service().pending_handshakes(), 0u);
    EXPECT_EQ(net.sides[0].service().get(ax)->connection_count(), 1u);
    EXPECT_TRUE(net.sides[0].closes.empty());
    EXPECT_EQ(net.sides[0].h->owner_of(conn), net.sides[0].bt);
}

TEST(bittorrent_service, a_handshake_for_a_torrent_it_does_not_have_is_closed_with_the_reason) {
    const auto x = test::make_test_content(100'000, 16384, 5);
    const auto z = test::make_test_content(100'000, 16384, 6);
    host_pipe net;
    net.add(0, seed_params(x), x.bytes);
    net.add(1, leech_params(z, {net.sides[0].address}), std::string(z.bytes.size(), '\0'));
    ASSERT_TRUE(net.run_until([&] { return !net.sides[0].closes.empty(); }, 5s));
    EXPECT_EQ(net.sides[0].closes[0].second,
              "handshake for a torrent we do not have (" + z.meta.info_hash.to_hex() + ")");
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
    // Through a host: a connection that is not BitTorrent never reaches the service.
    host_pipe net;
    const conn_id conn = net.raw_connect(0);
    net.raw_send(0, conn, "GET / HTTP/1.1\r\n");
    ASSERT_EQ(net.sides[0].closes.size(), 1u);
    EXPECT_EQ(net.sides[0].closes[0].second, "no service speaks this protocol");
    EXPECT_EQ(net.sides[0].service().pending_handshakes(), 0u);
}

TEST(bittorrent_service, a_removed_torrent_closes_its_connections_and_hears_nothing_more) {
    const auto c = test::make_test_content(600'000, 16384, 7);
    host_pipe net;
    net.add(0, seed_params(c), c.bytes);
    const torrent_handle leech =
        net.add(1, leech_params(c, {net.sides[0].address}), std::string(c.bytes.size(), '\0'));
    side& b = net.sides[1];
    b.hold_disk = true;  // its writes wait: their results come after the torrent has gone
    ASSERT_TRUE(net.run_until([&] { return b.held.size() >= 4; }, 10s));
    ASSERT_EQ(b.service().connection_count(), 1u);
    ASSERT_EQ(b.dialled.size(), 1u);
    const conn_id conn = b.dialled[0];
    net.call_void(1, [&](bittorrent_service& s) { s.remove_torrent(net.now, leech); });
    ASSERT_FALSE(b.closes.empty());
    EXPECT_EQ(b.closes.back(), std::make_pair(conn, std::string("torrent removed")));
    EXPECT_EQ(b.service().get(leech), nullptr);
    EXPECT_FALSE(b.service().find(c.meta.info_hash));
    EXPECT_EQ(b.service().connection_count(), 0u);
    EXPECT_EQ(b.service().torrent_count(), 0u);
    EXPECT_FALSE(b.service().next_timer());
    // Late inputs for it go nowhere: disk results, and bytes for its old connection.
    const std::size_t late = b.held.size();
    const std::uint64_t some_job = b.held[0].job.id;
    net.release_disk(1);
    EXPECT_EQ(b.service().counters().stale_disk_results, late);
    EXPECT_EQ(b.service().disk_jobs_in_flight(), 0u);
    b.service().on_disk_done(net.now, some_job, disk_result{});  // twice: no job in flight
    EXPECT_EQ(b.service().counters().stale_disk_results, late);
    b.service().on_stream_bytes(net.now, conn, as_bytes(std::string_view("\0\0\0\x01\x02", 5)));
    b.service().on_closed(net.now, conn, "late");
    EXPECT_FALSE(b.service().poll_transmit());
    // The seed heard of the close; the same torrent added again gets another handle.
    ASSERT_TRUE(net.run_until([&] { return net.sides[0].service().connection_count() == 0; }, 5s));
    const torrent_handle again = net.add(1, leech_params(c, {}), std::string(c.bytes.size(), '\0'));
    EXPECT_NE(again, leech);
    EXPECT_EQ(b.service().get(leech), nullptr);
    EXPECT_NE(b.service().get(again), nullptr);
}

TEST(bittorrent_service, a_stopped_torrent_closes_its_peers_and_takes_no_new_ones) {
    const auto c = test::make_test_content(300'000, 16384, 8);
    host_pipe net;
    const torrent_handle seed = net.add(0, seed_params(c), c.bytes);
    net.add(1, leech_params(c, {net.sides[0].address}), std::string(c.bytes.size(), '\0'));
    bittorrent_service& a = net.sides[0].service();
    ASSERT_TRUE(net.run_until([&] { return a.connection_count() == 1; }, 5s));
    net.call_void(0, [&](bittorrent_service& s) { s.stop_torrent(net.now, seed); });
    EXPECT_TRUE(net.sides[0].closed_with("stopping"));
    EXPECT_EQ(a.connection_count(), 0u);
    const conn_id conn = net.raw_connect(0);
    net.raw_send(0, conn, handshake_bytes(c.meta.info_hash, 9));
    EXPECT_TRUE(net.sides[0].closed_with("torrent takes no more connections"));
    EXPECT_EQ(a.counters().incoming_refused, 1u);
}

TEST(bittorrent_service, a_connection_that_names_no_info_hash_in_time_is_closed) {
    bittorrent_service_config config;
    config.handshake_route_timeout = 5s;
    config.pending_handshakes_max = 2;
    host_pipe net(config);
    const std::string start =
        "\x13"
        "BitTorrent protocol";
    const conn_id slow = net.raw_connect(0);
    net.raw_send(0, slow, start);
    net.now += 1s;
    const conn_id second = net.raw_connect(0);
    net.raw_send(0, second, start);
    bittorrent_service& a = net.sides[0].service();
    EXPECT_EQ(a.pending_handshakes(), 2u);
    EXPECT_EQ(a.next_timer(), t0 + 5s);
    // Over pending_handshakes_max: closed at once.
    const conn_id third = net.raw_connect(0);
    net.raw_send(0, third, start);
    ASSERT_EQ(net.sides[0].closes.size(), 1u);
    EXPECT_EQ(net.sides[0].closes[0], std::make_pair(third, std::string("too many handshakes waiting")));
    EXPECT_EQ(a.counters().incoming_over_max, 1u);
    // The deadline: the first goes at 5 s, the second at 6 s.
    ASSERT_TRUE(net.run_until([&] { return net.sides[0].closes.size() == 2; }, 10s));
    EXPECT_EQ(net.now, t0 + 5s);
    EXPECT_EQ(net.sides[0].closes[1],
              std::make_pair(slow, std::string("no info-hash within the handshake deadline")));
    ASSERT_TRUE(net.run_until([&] { return net.sides[0].closes.size() == 3; }, 10s));
    EXPECT_EQ(net.now, t0 + 6s);
    EXPECT_EQ(net.sides[0].closes[2].first, second);
    EXPECT_EQ(a.counters().incoming_timed_out, 2u);
    EXPECT_EQ(a.pending_handshakes(), 0u);
    EXPECT_FALSE(a.next_timer());
    EXPECT_EQ(net.sides[0].h->connection_count(), 0u);
}

TEST(bittorrent_service, one_timer_heap_fires_only_the_torrents_that_are_due) {
    bittorrent_service s({}, 1);
    const endpoint nobody = *endpoint::parse("10.9.9.9:1");  // a peer to dial keeps a torrent ticking
    std::vector<torrent_handle> t;
    const auto add_at = [&](time_point now, std::uint64_t seed) {
        const auto c = test::make_test_content(20'000, 16384, seed);
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
        const auto c = test::make_test_content(50'000, 16384, seed);
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
    const auto c = test::make_test_content(50'000, 16384, 1);
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
