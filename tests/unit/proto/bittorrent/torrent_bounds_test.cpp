// The torrent's output queues under a driver that does not drain them: each stays within its
// torrent_config bound, and what the bound holds back never corrupts a stream or loses a block.

#include <array>
#include <deque>
#include <functional>
#include <map>

#include "swarm_harness.hpp"
#include "test_content.hpp"
#include <gtest/gtest.h>

#include "hyphae/proto/bittorrent/handshake.hpp"
#include "hyphae/proto/bittorrent/message.hpp"
#include "hyphae/proto/bittorrent/torrent.hpp"

namespace hyphae::bittorrent {
namespace {

using namespace std::chrono_literals;

id160 peer_id(std::uint8_t n) {
    id160 id;
    id.bytes.fill(n);
    return id;
}

endpoint address(int n) {
    return *endpoint::parse("10.0.0." + std::to_string(n) + ":6881");
}

// Two torrents back to back with no latency: each output is carried out at once, unless its
// side's queue is held (then it stays in the torrent, as with a driver that stopped draining).
struct torrent_pair {
    std::array<std::unique_ptr<torrent>, 2> cores;
    std::array<std::unique_ptr<test::memory_storage>, 2> disks;
    std::array<bool, 2> hold_disk{};
    std::array<std::map<connection_id, connection_id>, 2> links;
    std::array<std::vector<torrent_event>, 2> events;
    time_point now{};
    std::deque<std::function<void()>> work;
    std::function<void()> check;  // after every step

    void drain(int i) {
        const int other = 1 - i;
        while (auto out = cores[i]->poll_transmit()) {
            const auto conn = static_cast<connection_id>(conn_of(*out));
            if (auto* c = std::get_if<io::connect>(&*out)) {
                (void)c;
                const auto in = cores[other]->add_incoming(now, address(i + 1));
                ASSERT_TRUE(in);
                links[i][conn] = *in;
                links[other][*in] = conn;
                work.push_back([this, i, conn] {
                    cores[i]->on_connected(now, conn);
                    drain(i);
                });
            } else if (auto* s = std::get_if<io::send>(&*out)) {
                std::string bytes;
                for (const out_buffer& b : s->data) {
                    bytes.append(as_chars(b.bytes));
                }
                work.push_back([this, i, other, conn, bytes = std::move(bytes)] {
                    if (auto it = links[i].find(conn); it != links[i].end()) {
                        cores[other]->on_stream_bytes(now, it->second, as_bytes(bytes));
                        drain(other);
                    }
                    cores[i]->on_send_done(now, conn, bytes.size());
                    drain(i);
                });
            } else if (std::holds_alternative<io::close>(*out)) {
                if (auto it = links[i].find(conn); it != links[i].end()) {
                    const connection_id theirs = it->second;
                    links[other].erase(theirs);
                    links[i].erase(it);
                    work.push_back([this, other, theirs] {
                        cores[other]->on_closed(now, theirs, "closed by the peer");
                        drain(other);
                    });
                }
            }
        }
        while (!hold_disk[i]) {
            auto job = cores[i]->poll_disk_job();
            if (!job) {
                break;
            }
            work.push_back([this, i, j = *job] {
                cores[i]->on_disk_done(now, j.id, disks[i]->run(j));
                drain(i);
            });
        }
        while (auto e = cores[i]->poll_event()) {
            events[i].push_back(std::move(*e));
        }
    }

    // Steps until `done` holds; false after `steps` steps or when nothing is left to do.
    bool run(const std::function<bool()>& done, int steps = 200'000) {
        for (int n = 0; n < steps; ++n) {
            if (check) {
                check();
            }
            if (done()) {
                return true;
            }
            if (work.empty()) {
                std::optional<time_point> next;
                for (const auto& c : cores) {
                    if (auto t = c->next_timer(); t && (!next || *t < *next)) {
                        next = t;
                    }
                }
                if (!next) {
                    return false;
                }
                now = std::max(now, *next);
                for (int i = 0; i < 2; ++i) {
                    cores[i]->on_timer(now);
                    drain(i);
                }
                continue;
            }
            auto step = std::move(work.front());
            work.pop_front();
            step();
        }
        return false;
    }
};

torrent_pair seed_and_leecher(const test::test_content& c, torrent_config seed_config,
                              torrent_config leech_config) {
    torrent_pair pair;
    seed_config.listen_port = leech_config.listen_port = 6881;
    pair.cores[0] = std::make_unique<torrent>(c.meta, peer_id(1), seed_config, 1, pair.now,
                                              bitfield(c.meta.piece_count(), true), false);
    pair.cores[1] =
        std::make_unique<torrent>(c.meta, peer_id(2), leech_config, 2, pair.now, std::nullopt, false);
    pair.disks[0] = std::make_unique<test::memory_storage>(c.meta, c.bytes);
    pair.disks[1] = std::make_unique<test::memory_storage>(c.meta, std::string(c.bytes.size(), '\0'));
    return pair;
}

TEST(torrent_bounds, a_connection_whose_bytes_do_not_fit_is_closed_and_nothing_follows_its_close) {
    const auto c = test::make_test_content(100'000, 16384, 1);
    torrent_config config;
    config.transmits_queued_max = 3;
    torrent seed(c.meta, peer_id(1), config, 1, time_point{}, bitfield(c.meta.piece_count(), true), false);
    wire::handshake theirs;
    theirs.info_hash = c.meta.info_hash;
    theirs.set_extension_protocol();
    theirs.set_fast_extension();
    // Four peers say hello, and nobody drains: each answer is one send, and the fourth has no room.
    std::vector<connection_id> conns;
    for (std::uint8_t n = 2; n <= 5; ++n) {
        const auto conn = seed.add_incoming(time_point{}, address(n));
        ASSERT_TRUE(conn);
        conns.push_back(*conn);
        theirs.peer_id = peer_id(n);
        seed.on_stream_bytes(time_point{}, *conn, as_bytes(wire::encode_handshake(theirs)));
        EXPECT_LE(seed.transmits_queued(),
                  config.transmits_queued_max + seed.stats(time_point{}).connections_closed_queue_full);
    }
    EXPECT_EQ(seed.stats(time_point{}).connections_closed_queue_full, 1u);
    EXPECT_EQ(seed.connection_count(), 3u);
    std::map<conn_id, int> sends;
    std::map<conn_id, std::string> closed;
    while (auto out = seed.poll_transmit()) {
        const conn_id conn = conn_of(*out);
        EXPECT_FALSE(closed.contains(conn)) << "nothing for a connection after its close";
        if (std::holds_alternative<io::send>(*out)) {
            ++sends[conn];
        } else if (auto* x = std::get_if<io::close>(&*out)) {
            closed[conn] = x->reason;
        }
    }
    EXPECT_EQ(sends.size(), 3u);
    EXPECT_EQ(sends.count(conns[3]), 0u);
    ASSERT_EQ(closed.size(), 1u);
    EXPECT_EQ(closed[conns[3]], "output queue full");
    // Drained, the queue takes the next peer's answer again.
    const auto late = seed.add_incoming(time_point{}, address(6));
    theirs.peer_id = peer_id(6);
    seed.on_stream_bytes(time_point{}, *late, as_bytes(wire::encode_handshake(theirs)));
    auto out = seed.poll_transmit();
    ASSERT_TRUE(out);
    EXPECT_TRUE(std::holds_alternative<io::send>(*out));
}

TEST(torrent_bounds, a_full_transmit_queue_holds_dials_back_until_it_drains) {
    torrent_config config;
    config.transmits_queued_max = 2;
    const auto c = test::make_test_content(50'000, 16384, 2);
    torrent leech(c.meta, peer_id(1), config, 1, time_point{}, std::nullopt, false);
    leech.add_peers(time_point{}, {address(2), address(3), address(4), address(5)}, peer_source::manual);
    EXPECT_EQ(leech.transmits_queued(), 2u);
    EXPECT_EQ(leech.connection_count(), 2u);
    while (leech.poll_transmit()) {
    }
    leech.on_timer(time_point{});
    EXPECT_EQ(leech.transmits_queued(), 2u);
    EXPECT_EQ(leech.connection_count(), 4u);
}

TEST(torrent_bounds, a_leecher_that_cannot_write_asks_for_no_more_than_its_disk_queue_holds) {
    const auto c = test::make_test_content(600'000, 16384, 3);
    torrent_config leech_config;
    leech_config.disk_jobs_queued_max = 6;
    leech_config.request_queue_min = 20;  // it would like 20 blocks in flight
    torrent_pair pair = seed_and_leecher(c, {}, leech_config);
    torrent& leech = *pair.cores[1];
    pair.hold_disk[1] = true;
    std::size_t most = 0;
    pair.check = [&] {
        EXPECT_LE(leech.disk_jobs_queued(), leech_config.disk_jobs_queued_max);
        EXPECT_LE(leech.disk_jobs_queued() + leech.requests_in_flight(), leech_config.disk_jobs_queued_max);
        most = std::max(most, leech.disk_jobs_queued());
    };
    leech.add_peers(pair.now, {address(1)}, peer_source::manual);
    pair.drain(1);
    // It stalls with its queue full of writes, none lost...
    EXPECT_FALSE(pair.run([&] { return leech.complete(); }, 2'000));
    EXPECT_EQ(most, leech_config.disk_jobs_queued_max);
    EXPECT_EQ(leech.requests_in_flight(), 0u);
    // ... and completes once the disk queue drains.
    pair.hold_disk[1] = false;
    pair.drain(1);
    ASSERT_TRUE(pair.run([&] { return leech.complete(); }));
    EXPECT_EQ(pair.disks[1]->content(), c.bytes);
    EXPECT_EQ(leech.stats(pair.now).wasted, 0);
}

TEST(torrent_bounds, a_seed_that_cannot_read_leaves_requests_waiting) {
    const auto c = test::make_test_content(300'000, 16384, 4);
    torrent_config seed_config;
    seed_config.disk_jobs_queued_max = 2;
    torrent_config leech_config;
    leech_config.request_queue_min = 8;
    torrent_pair pair = seed_and_leecher(c, seed_config, leech_config);
    torrent& seed = *pair.cores[0];
    torrent& leech = *pair.cores[1];
    pair.hold_disk[0] = true;
    pair.check = [&] {
        EXPECT_LE(seed.disk_jobs_queued(), seed_config.disk_jobs_queued_max);
    };
    leech.add_peers(pair.now, {address(1)}, peer_source::manual);
    pair.drain(1);
    EXPECT_FALSE(pair.run([&] { return leech.complete(); }, 2'000));
    EXPECT_EQ(seed.disk_jobs_queued(), seed_config.disk_jobs_queued_max);
    EXPECT_EQ(leech.requests_in_flight(), 8u) << "the requests wait, still in flight";
    pair.hold_disk[0] = false;
    pair.drain(0);
    ASSERT_TRUE(pair.run([&] { return leech.complete(); }));
    EXPECT_EQ(pair.disks[1]->content(), c.bytes);
}

TEST(torrent_bounds, checking_queues_no_more_hashes_than_the_disk_queue_holds) {
    const auto c = test::make_test_content(200'000, 16384, 5);
    torrent_config config;
    config.disk_jobs_queued_max = 3;
    torrent t(c.meta, peer_id(1), config, 1, time_point{}, std::nullopt, true);
    test::memory_storage disk(c.meta, c.bytes);
    EXPECT_EQ(t.disk_jobs_queued(), 3u);
    time_point now{};
    std::size_t hashed = 0;
    while (t.checking() && hashed < 100) {
        std::vector<disk_job> jobs;
        while (auto j = t.poll_disk_job()) {
            jobs.push_back(*j);
        }
        for (const disk_job& j : jobs) {
            t.on_disk_done(now, j.id, disk.run(j));
            ++hashed;
            EXPECT_LE(t.disk_jobs_queued(), config.disk_jobs_queued_max);
        }
        if (jobs.empty()) {
            now += 1s;
            t.on_timer(now);
        }
    }
    EXPECT_FALSE(t.checking());
    EXPECT_EQ(hashed, c.meta.piece_count());
    EXPECT_TRUE(t.complete());
}

TEST(torrent_bounds, undrained_events_keep_the_newest_and_count_the_dropped) {
    const auto c = test::make_test_content(100'000, 16384, 6);
    torrent_config config;
    config.events_queued_max = 1;
    // Everything vouched for: checking ends at once with checking_done, then download_complete.
    torrent t(c.meta, peer_id(1), config, 1, time_point{}, bitfield(c.meta.piece_count(), true), true);
    EXPECT_EQ(t.events_queued(), 1u);
    EXPECT_EQ(t.stats(time_point{}).events_dropped, 1u);
    auto e = t.poll_event();
    ASSERT_TRUE(e);
    EXPECT_TRUE(std::holds_alternative<torrent_events::download_complete>(*e));
    EXPECT_FALSE(t.poll_event());
}

}  // namespace
}  // namespace hyphae::bittorrent
