// The torrent's output queues under a driver that does not drain them: each stays within its
// torrent_config bound, and what the bound holds back never corrupts a stream or loses a block.

#include <array>
#include <functional>
#include <map>
#include <set>

#include "test_content.hpp"
#include <gtest/gtest.h>

#include "hyphae/host/host.hpp"
#include "hyphae/proto/bittorrent/handshake.hpp"
#include "hyphae/proto/bittorrent/message.hpp"
#include "hyphae/proto/bittorrent/torrent.hpp"
#include "hyphae/sim/memory_storage.hpp"
#include "hyphae/sim/network.hpp"

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

// One bare torrent as a host service: what is under test here are the torrent's own output
// queues, so while hold_disk is set its disk jobs stay in it, as with a driver that stopped
// draining them. Connection ids are translated as bittorrent_service translates them; events stay
// in the torrent (bounded by events_queued_max; these tests read none).
class one_torrent final : public service {
public:
    explicit one_torrent(std::unique_ptr<torrent> core) : core_(std::move(core)) {}
    torrent& core() { return *core_; }
    bool hold_disk = false;

    std::string_view name() const override { return "one torrent"; }
    claim claims_stream(byte_view first_bytes) const override {
        const std::string_view protocol =
            "\x13"
            "BitTorrent protocol";
        const std::string_view seen = as_chars(first_bytes);
        if (seen.size() < protocol.size()) {
            return protocol.starts_with(seen) ? claim::need_more : claim::no;
        }
        return seen.starts_with(protocol) ? claim::yes : claim::no;
    }
    void on_accepted(time_point now, conn_id conn, const endpoint& remote) override {
        if (const auto local = core_->add_incoming(now, remote)) {
            link(*local, conn);
        } else {
            refused_.push_back(io::close{conn, "torrent takes no more connections", false});
        }
    }
    void on_connected(time_point now, conn_id conn) override {
        if (const auto local = local_of(conn)) {
            core_->on_connected(now, *local);
        }
    }
    void on_stream_bytes(time_point now, conn_id conn, byte_view bytes) override {
        if (const auto local = local_of(conn)) {
            core_->on_stream_bytes(now, *local, bytes);
        }
    }
    void on_send_done(time_point now, conn_id conn, std::size_t bytes) override {
        if (const auto local = local_of(conn)) {
            core_->on_send_done(now, *local, bytes);
        }
    }
    void on_closed(time_point now, conn_id conn, std::string_view reason) override {
        if (const auto local = local_of(conn)) {
            to_host_.erase(*local);  // first: the torrent's own close of it goes nowhere
            to_core_.erase(conn);
            core_->on_closed(now, *local, std::string(reason));
        }
    }
    void on_disk_done(time_point now, std::uint64_t job, const disk_result& result) override {
        core_->on_disk_done(now, job, result);
    }
    void on_timer(time_point now) override { core_->on_timer(now); }
    std::optional<transmit> poll_transmit() override {
        if (!refused_.empty()) {
            transmit t = std::move(refused_.back());
            refused_.pop_back();
            return t;
        }
        while (auto out = core_->poll_transmit()) {
            const auto local = static_cast<connection_id>(conn_of(*out));
            conn_id conn = 0;
            if (std::holds_alternative<io::connect>(*out)) {
                conn = new_conn_id();
                link(local, conn);
            } else {
                auto it = to_host_.find(local);
                if (it == to_host_.end()) {
                    continue;  // closed already
                }
                conn = it->second;
                if (std::holds_alternative<io::close>(*out)) {
                    to_core_.erase(conn);
                    to_host_.erase(it);
                }
            }
            std::visit(
                [conn](auto& x) {
                    if constexpr (!std::is_same_v<std::decay_t<decltype(x)>, io::datagram>) {
                        x.conn = conn;
                    }
                },
                *out);
            return out;
        }
        return std::nullopt;
    }
    std::optional<disk_job> poll_disk_job() override {
        return hold_disk ? std::nullopt : core_->poll_disk_job();
    }
    std::optional<time_point> next_timer() const override { return core_->next_timer(); }
    bool has_events() const override { return false; }

private:
    void link(connection_id local, conn_id conn) {
        to_host_[local] = conn;
        to_core_[conn] = local;
    }
    std::optional<connection_id> local_of(conn_id conn) const {
        auto it = to_core_.find(conn);
        return it == to_core_.end() ? std::nullopt : std::optional<connection_id>(it->second);
    }

    std::unique_ptr<torrent> core_;
    std::map<connection_id, conn_id> to_host_;
    std::map<conn_id, connection_id> to_core_;
    std::vector<io::close> refused_;
};

// A seed (side 0, at address 1) and a leecher (side 1, at address 2) on the simulated network,
// each a host with one bare torrent and its memory storage.
struct torrent_pair {
    sim::network net{sim::network_params{}};
    std::array<service_id, 2> ids{};
    std::array<std::unique_ptr<sim::memory_storage>, 2> disks;

    torrent_pair(const std::shared_ptr<const sim::shared_content>& c, torrent_config seed_config,
                 torrent_config leech_config) {
        const metainfo& meta = c->meta();
        seed_config.listen_port = leech_config.listen_port = 6881;
        net.set_disk(
            [this](sim::host_index at, const routed_disk_job& job) { return disks[at]->run(job.job); });
        std::array<std::unique_ptr<torrent>, 2> cores;
        cores[0] = std::make_unique<torrent>(meta, peer_id(1), seed_config, 1, net.now(),
                                             bitfield(meta.piece_count(), true), false);
        cores[1] =
            std::make_unique<torrent>(meta, peer_id(2), leech_config, 2, net.now(), std::nullopt, false);
        for (sim::host_index i = 0; i < 2; ++i) {
            disks[i] = std::make_unique<sim::memory_storage>(c, i == 0);
            EXPECT_EQ(net.add_host(address(static_cast<int>(i) + 1)), i);
            ids[i] = net.at(i).add(net.now(), std::make_unique<one_torrent>(std::move(cores[i])));
        }
    }

    torrent& core(sim::host_index i) { return net.at(i).get<one_torrent>(ids[i]).core(); }
    // A command to side i's torrent, then what it made is carried out.
    void call(sim::host_index i, const std::function<void(one_torrent&)>& command) {
        net.call<one_torrent>(i, ids[i], command);
    }
    void hold_disk(sim::host_index i, bool hold) {
        call(i, [hold](one_torrent& s) { s.hold_disk = hold; });
    }
};

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
    const auto c = sim::shared_content::make("content-3", 600'000, 16384, 3);
    torrent_config leech_config;
    leech_config.disk_jobs_queued_max = 6;
    leech_config.request_queue_min = 20;  // it would like 20 blocks in flight
    torrent_pair pair(c, {}, leech_config);
    torrent& leech = pair.core(1);
    pair.hold_disk(1, true);
    std::size_t most = 0;
    const auto check = [&] {
        EXPECT_LE(leech.disk_jobs_queued(), leech_config.disk_jobs_queued_max);
        EXPECT_LE(leech.disk_jobs_queued() + leech.requests_in_flight(), leech_config.disk_jobs_queued_max);
        most = std::max(most, leech.disk_jobs_queued());
    };
    pair.call(1,
              [&](one_torrent& s) { s.core().add_peers(pair.net.now(), {address(1)}, peer_source::manual); });
    // It stalls with its queue full of writes, none lost...
    EXPECT_FALSE(pair.net.run_for(
        [&] {
            check();
            return leech.complete();
        },
        5s));
    EXPECT_EQ(most, leech_config.disk_jobs_queued_max);
    EXPECT_EQ(leech.requests_in_flight(), 0u);
    // ... and completes once the disk queue drains.
    pair.hold_disk(1, false);
    ASSERT_TRUE(pair.net.run_for(
        [&] {
            check();
            return leech.complete();
        },
        60s));
    EXPECT_TRUE(pair.disks[1]->complete());
    EXPECT_EQ(pair.disks[1]->bad_writes(), 0u);
    EXPECT_EQ(leech.stats(pair.net.now()).wasted, 0);
}

TEST(torrent_bounds, a_seed_that_cannot_read_leaves_requests_waiting) {
    const auto c = sim::shared_content::make("content-4", 300'000, 16384, 4);
    torrent_config seed_config;
    seed_config.disk_jobs_queued_max = 2;
    torrent_config leech_config;
    leech_config.request_queue_min = 8;
    torrent_pair pair(c, seed_config, leech_config);
    torrent& seed = pair.core(0);
    torrent& leech = pair.core(1);
    pair.hold_disk(0, true);
    const auto check = [&] {
        EXPECT_LE(seed.disk_jobs_queued(), seed_config.disk_jobs_queued_max);
    };
    pair.call(1,
              [&](one_torrent& s) { s.core().add_peers(pair.net.now(), {address(1)}, peer_source::manual); });
    EXPECT_FALSE(pair.net.run_for(
        [&] {
            check();
            return leech.complete();
        },
        5s));
    EXPECT_EQ(seed.disk_jobs_queued(), seed_config.disk_jobs_queued_max);
    EXPECT_EQ(leech.requests_in_flight(), 8u) << "the requests wait, still in flight";
    pair.hold_disk(0, false);
    ASSERT_TRUE(pair.net.run_for(
        [&] {
            check();
            return leech.complete();
        },
        60s));
    EXPECT_TRUE(pair.disks[1]->complete());
}

TEST(torrent_bounds, checking_queues_no_more_hashes_than_the_disk_queue_holds) {
    const auto c = sim::shared_content::make("content-5", 200'000, 16384, 5);
    torrent_config config;
    config.disk_jobs_queued_max = 3;
    // A bare core, driven here: no network, only its disk.
    torrent t(c->meta(), peer_id(1), config, 1, time_point{}, std::nullopt, true);
    sim::memory_storage disk(c, true);
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
    EXPECT_EQ(hashed, c->meta().piece_count());
    EXPECT_TRUE(t.complete());
}

TEST(torrent_bounds, a_full_torrent_dials_its_candidates_in_turn_and_its_dial_queue_stays_bounded) {
    const auto c = test::make_test_content(100'000, 16384, 7);
    torrent_config config;
    config.connections_max = 2;
    config.connect_failures_max = 1000;  // keep every candidate however often it fails
    torrent t(c.meta, peer_id(1), config, 1, time_point{}, std::nullopt, false);
    time_point now{};
    std::vector<endpoint> peers;
    for (int i = 0; i < 10; ++i) {
        peers.push_back(address(10 + i));
    }
    t.add_peers(now, peers, peer_source::tracker);
    const auto dials = [&] {
        std::vector<io::connect> out;
        while (auto x = t.poll_transmit()) {
            if (auto* d = std::get_if<io::connect>(&*x)) {
                out.push_back(*d);
            }
        }
        return out;
    };
    std::set<endpoint> dialled;
    for (int round = 0; round < 2000; ++round) {
        const auto d = dials();
        EXPECT_LE(t.stats(now).peers, config.connections_max);
        for (const io::connect& x : d) {
            dialled.insert(x.remote);
            t.on_closed(now, x.conn, "connection refused");  // every dial fails at once
        }
        now += 1s;
        t.on_timer(now);
        EXPECT_LE(t.dial_queue_entries(), 2 * peers.size() + 64) << "round " << round;
    }
    EXPECT_EQ(dialled.size(), peers.size()) << "every candidate gets its turn";
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
