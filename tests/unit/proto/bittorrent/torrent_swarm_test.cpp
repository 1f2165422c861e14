// Torrents exchanging data on the simulated network, in virtual time: each peer is a host with a
// BitTorrent service, its data a memory storage over one shared content.

#include <algorithm>
#include <functional>
#include <memory>

#include <gtest/gtest.h>

#include "hyphae/host/host.hpp"
#include "hyphae/proto/bittorrent/bittorrent_service.hpp"
#include "hyphae/proto/bittorrent/torrent.hpp"
#include "hyphae/sim/memory_storage.hpp"
#include "hyphae/sim/network.hpp"

namespace hyphae::bittorrent {
namespace {

using sim::memory_storage;
using sim::shared_content;
using content_ptr = std::shared_ptr<const shared_content>;

// A single-file torrent over seeded pseudo-random bytes; the last piece is short.
content_ptr make_content(std::uint64_t size, std::int64_t piece_length, std::uint64_t seed = 1) {
    return shared_content::make("swarm", size, piece_length, seed);
}

id160 peer_id(std::uint8_t n) {
    id160 id;
    id.bytes.fill(n);
    return id;
}

endpoint address(int n) {
    return *endpoint::parse("10.0.0." + std::to_string(n) + ":6881");
}

torrent_config config_for(int n) {
    torrent_config config;
    config.listen_port = 6881;
    config.client_name = "test " + std::to_string(n);
    return config;
}

// Writes what a peer holds already into its storage: piece p as the content has it.
void write_piece(memory_storage& disk, piece_index p) {
    const shared_content& c = disk.content();
    const auto start = static_cast<std::uint64_t>(p) * static_cast<std::uint64_t>(c.meta().piece_length);
    const auto end = std::min(start + static_cast<std::uint64_t>(c.meta().piece_length), c.size());
    for (std::uint64_t at = start; at < end; at += shared_content::block_size) {
        const shared_bytes& block = c.block(at);
        disk.run(disk_job{0, 0, disk_job::kind::write, p, static_cast<std::uint32_t>(at - start),
                          static_cast<std::uint32_t>(block->size()), block});
    }
}

// What happened at a node, for failure messages.
std::string describe(const std::vector<torrent_event>& events) {
    std::string out;
    for (const auto& e : events) {
        if (auto* d = std::get_if<torrent_events::peer_disconnected>(&e)) {
            out += "disconnected " + d->remote.to_string() + ": " + d->reason + "\n";
        } else if (auto* c = std::get_if<torrent_events::peer_connected>(&e)) {
            out += "connected " + c->remote.to_string() + "\n";
        } else if (auto* b = std::get_if<torrent_events::peer_banned>(&e)) {
            out += "banned " + b->remote.to_string() + ": " + b->reason + "\n";
        } else if (std::holds_alternative<torrent_events::metadata_received>(e)) {
            out += "metadata received\n";
        } else if (auto* f = std::get_if<torrent_events::piece_failed>(&e)) {
            out += "piece failed " + std::to_string(f->piece) + "\n";
        } else if (auto* x = std::get_if<torrent_events::disk_error>(&e)) {
            out += "disk error " + x->what + "\n";
        }
    }
    return out;
}

sim::network_params params(std::uint64_t seed, duration disk_latency = std::chrono::microseconds(100)) {
    sim::network_params p;
    p.seed = seed;
    p.disk_latency = disk_latency;
    return p;
}

// Peers on one network, one torrent each; a node is its host's index. Each host's BitTorrent
// service runs its disk jobs on the node's storage and its events are kept per node.
struct swarm {
    struct node {
        service_id bt = 0;
        torrent_handle t = 0;
        std::unique_ptr<memory_storage> disk;
        std::vector<torrent_event> events;
    };

    content_ptr c;
    metainfo meta;  // what seeds and leechers are given (a test may change it)
    sim::network net;
    const time_point start;
    std::vector<node> nodes;
    sim::access_link link;  // for the nodes added next

    explicit swarm(content_ptr content, sim::network_params config = params(7))
        : c(std::move(content)), meta(c->meta()), net(config), start(net.now()) {
        net.set_disk([this](sim::host_index at, const routed_disk_job& job) {
            EXPECT_EQ(job.job.storage, nodes[at].t);
            return nodes[at].disk->run(job.job);
        });
        net.set_ready_handler([this](sim::host_index at, time_point, service_id id) {
            while (auto e = net.at(at).get<bittorrent_service>(id).poll_event()) {
                EXPECT_EQ(e->torrent, nodes[at].t);
                nodes[at].events.push_back(std::move(e->what));
            }
        });
    }

    std::size_t add(int n, add_params p, std::unique_ptr<memory_storage> disk, torrent_config config) {
        sim::host_options options;
        options.link = link;
        const sim::host_index at = net.add_host(address(n), options);
        EXPECT_EQ(at, nodes.size());
        bittorrent_service_config service_config;
        service_config.peer_id = peer_id(static_cast<std::uint8_t>(n));
        service_config.torrent = config;
        auto service = std::make_unique<bittorrent_service>(service_config, static_cast<std::uint64_t>(n));
        service->set_listen_port(6881);
        nodes.push_back(node{});
        nodes[at].disk = std::move(disk);
        nodes[at].bt = net.at(at).add(net.now(), std::move(service));
        // The handle names the storage of its disk jobs, so it is known before the network runs
        // them: the command goes to the host directly, then the network carries out what it made.
        nodes[at].t = net.at(at).call<bittorrent_service>(
            net.now(), nodes[at].bt,
            [&](bittorrent_service& s) { return s.add_torrent(net.now(), std::move(p)); });
        net.pump(at);
        return at;
    }
    std::size_t add(int n, add_params p, std::unique_ptr<memory_storage> disk) {
        return add(n, std::move(p), std::move(disk), config_for(n));
    }

    std::size_t seed(int n, bool check = false) {
        add_params p;
        p.source = meta;
        p.have = bitfield(meta.piece_count(), true);
        p.check = check;
        return add(n, std::move(p), std::make_unique<memory_storage>(c, true));
    }
    std::size_t leecher(int n, std::optional<bitfield> have = std::nullopt,
                        std::unique_ptr<memory_storage> disk = nullptr) {
        add_params p;
        p.source = meta;
        p.have = std::move(have);
        return add(n, std::move(p), disk ? std::move(disk) : std::make_unique<memory_storage>(c, false));
    }
    std::size_t magnet(int n) {
        add_params p;
        p.source = meta.info_hash;
        return add(n, std::move(p), std::make_unique<memory_storage>(c, false));
    }
    void connect(std::size_t from, int to) {
        net.call<bittorrent_service>(
            static_cast<sim::host_index>(from), nodes[from].bt, [&](bittorrent_service& s) {
                s.add_peers(net.now(), nodes[from].t, {address(to)}, peer_source::manual);
            });
    }

    const torrent& core(std::size_t n) {
        return *net.at(static_cast<sim::host_index>(n)).get<bittorrent_service>(nodes[n].bt).get(nodes[n].t);
    }
    memory_storage& storage(std::size_t n) { return *nodes[n].disk; }
    const std::vector<torrent_event>& events(std::size_t n) const { return nodes[n].events; }
    bool run_until(const std::function<bool()>& done, duration limit) { return net.run_for(done, limit); }
    duration elapsed() const { return net.now() - start; }

    template <class T>
    std::size_t count(std::size_t n) const {
        const auto& e = nodes[n].events;
        return static_cast<std::size_t>(std::count_if(
            e.begin(), e.end(), [](const torrent_event& x) { return std::holds_alternative<T>(x); }));
    }
};

TEST(torrent_swarm, a_leecher_downloads_everything_from_a_seed) {
    const auto c = make_content(1'000'000, 32768);
    swarm s(c);
    s.seed(1);
    const std::size_t leech = s.leecher(2);
    s.connect(leech, 1);
    ASSERT_TRUE(s.run_until([&] { return s.core(leech).complete(); }, std::chrono::seconds(60)));
    EXPECT_TRUE(s.storage(leech).complete());
    EXPECT_EQ(s.storage(leech).bad_writes(), 0u);
    EXPECT_EQ(s.count<torrent_events::download_complete>(leech), 1u);
    EXPECT_EQ(s.count<torrent_events::piece_verified>(leech), c->meta().piece_count());
    EXPECT_EQ(s.count<torrent_events::piece_failed>(leech), 0u);
    const torrent_stats stats = s.core(leech).stats(s.net.now());
    EXPECT_EQ(stats.verified_bytes, c->meta().total_size);
    EXPECT_EQ(stats.wasted, 0);
}

TEST(torrent_swarm, one_seed_and_three_leechers_all_finish_and_trade_with_each_other) {
    const auto c = make_content(3'000'000, 65536, 2);
    swarm s(c);
    s.link.up_bytes_per_second = 1e6;  // the seed alone would need 9 s to serve everyone
    const std::size_t seed = s.seed(1);
    std::vector<std::size_t> leechers = {s.leecher(2), s.leecher(3), s.leecher(4)};
    for (std::size_t l : leechers) {
        s.connect(l, 1);
        for (int other = 2; other <= 4; ++other) {
            s.connect(l, other);
        }
    }
    ASSERT_TRUE(s.run_until(
        [&] {
            return std::all_of(leechers.begin(), leechers.end(),
                               [&](std::size_t l) { return s.core(l).complete(); });
        },
        std::chrono::seconds(120)));
    std::int64_t uploaded_by_leechers = 0;
    for (std::size_t l : leechers) {
        EXPECT_TRUE(s.storage(l).complete());
        uploaded_by_leechers += s.core(l).stats(s.net.now()).uploaded;
    }
    EXPECT_GT(uploaded_by_leechers, 0) << "leechers should serve each other, not only take from the seed\n"
                                       << describe(s.events(leechers[0])) << "time " << s.elapsed().count();
    EXPECT_GT(s.core(seed).stats(s.net.now()).uploaded, 0);
}

TEST(torrent_swarm, a_magnet_leecher_fetches_the_metadata_then_the_data) {
    const auto c = make_content(500'000, 16384, 3);
    swarm s(c);
    s.seed(1);
    const std::size_t leech = s.magnet(2);
    EXPECT_FALSE(s.core(leech).has_metadata());
    s.connect(leech, 1);
    ASSERT_TRUE(s.run_until([&] { return s.core(leech).complete(); }, std::chrono::seconds(60)))
        << describe(s.events(leech));
    EXPECT_EQ(s.count<torrent_events::metadata_received>(leech), 1u);
    EXPECT_EQ(s.core(leech).meta().info_hash, c->meta().info_hash);
    EXPECT_TRUE(s.storage(leech).complete());
}

TEST(torrent_swarm, a_corrupt_seeder_is_banned_and_the_data_is_fetched_again_from_another) {
    const auto c = make_content(800'000, 32768, 4);
    swarm s(c);
    const std::size_t bad = s.seed(1);
    s.storage(bad).corrupt_all = true;
    s.seed(2);
    const std::size_t leech = s.leecher(3);
    s.connect(leech, 1);
    s.connect(leech, 2);
    ASSERT_TRUE(s.run_until([&] { return s.core(leech).complete(); }, std::chrono::seconds(120)))
        << describe(s.events(leech));
    EXPECT_TRUE(s.storage(leech).complete()) << "never finishes with corrupt data";
    EXPECT_GT(s.storage(leech).bad_writes(), 0u);
    EXPECT_GE(s.count<torrent_events::piece_failed>(leech), 1u);
    ASSERT_EQ(s.count<torrent_events::peer_banned>(leech), 1u) << describe(s.events(leech));
    for (const auto& e : s.events(leech)) {
        if (auto* b = std::get_if<torrent_events::peer_banned>(&e)) {
            EXPECT_EQ(b->remote, address(1));
        }
    }
    EXPECT_GT(s.core(leech).stats(s.net.now()).wasted, 0);
}

TEST(torrent_swarm, a_lone_corrupt_seeder_never_makes_the_download_complete) {
    const auto c = make_content(200'000, 16384, 5);
    swarm s(c);
    const std::size_t bad = s.seed(1);
    s.storage(bad).corrupt_piece = 2;
    const std::size_t leech = s.leecher(2);
    s.connect(leech, 1);
    EXPECT_TRUE(s.run_until([&] { return s.count<torrent_events::peer_banned>(leech) == 1; },
                            std::chrono::seconds(60)));
    EXPECT_FALSE(s.core(leech).complete());
    EXPECT_FALSE(s.core(leech).have().test(2));
}

TEST(torrent_swarm, checking_finds_what_is_on_disk) {
    const auto c = make_content(300'000, 16384, 6);
    swarm s(c);
    // Everything is on disk, but piece 5 is damaged.
    auto partial = std::make_unique<memory_storage>(c, true);
    auto damaged = std::make_shared<std::vector<std::uint8_t>>(*c->block(5 * 16384));
    (*damaged)[7] ^= 1;
    partial->run(disk_job{0, 0, disk_job::kind::write, 5, 0, 16384, damaged});
    add_params p;
    p.source = s.meta;
    p.check = true;
    const std::size_t node = s.add(9, std::move(p), std::move(partial));
    EXPECT_TRUE(s.core(node).checking());
    ASSERT_TRUE(s.run_until([&] { return s.count<torrent_events::checking_done>(node) == 1; },
                            std::chrono::seconds(10)));
    EXPECT_EQ(s.core(node).have().count(), c->meta().piece_count() - 1);
    EXPECT_FALSE(s.core(node).have().test(5));
    // It then fetches the damaged piece from a seed.
    s.seed(1);
    s.connect(node, 1);
    ASSERT_TRUE(s.run_until([&] { return s.core(node).complete(); }, std::chrono::seconds(30)));
    EXPECT_TRUE(s.storage(node).complete());
    EXPECT_EQ(s.core(node).stats(s.net.now()).downloaded, 16384);
}

TEST(torrent_swarm, resume_data_is_trusted_and_only_the_rest_is_fetched) {
    const auto c = make_content(400'000, 16384, 7);
    swarm s(c);
    s.seed(1);
    bitfield have(c->meta().piece_count());
    auto start = std::make_unique<memory_storage>(c, false);
    for (piece_index p = 0; p < 10; ++p) {
        have.set(p);
        write_piece(*start, p);
    }
    const std::size_t leech = s.leecher(2, have, std::move(start));
    s.connect(leech, 1);
    ASSERT_TRUE(s.run_until([&] { return s.core(leech).complete(); }, std::chrono::seconds(60)));
    EXPECT_TRUE(s.storage(leech).complete());
    EXPECT_EQ(s.core(leech).stats(s.net.now()).downloaded, c->meta().total_size - 10 * 16384);
}

TEST(torrent_swarm, metadata_that_does_not_hash_to_the_info_hash_closes_the_peer) {
    const auto real = make_content(100'000, 16384, 8);
    const auto other = make_content(100'000, 32768, 8);
    swarm s(real);
    // A peer that claims the real info-hash but serves another info dictionary.
    metainfo liar = other->meta();
    liar.info_hash = real->meta().info_hash;
    add_params p;
    p.source = liar;
    p.have = bitfield(liar.piece_count(), true);
    s.add(1, std::move(p), std::make_unique<memory_storage>(other, true));
    const std::size_t leech = s.magnet(2);
    s.connect(leech, 1);
    ASSERT_TRUE(s.run_until(
        [&] {
            for (const auto& e : s.events(leech)) {
                if (auto* d = std::get_if<torrent_events::peer_disconnected>(&e)) {
                    return d->reason.find("metadata that does not hash to the info-hash") !=
                           std::string::npos;
                }
            }
            return false;
        },
        std::chrono::seconds(30)));
    EXPECT_FALSE(s.core(leech).has_metadata());
}

TEST(torrent_swarm, a_peer_that_disappears_mid_transfer_is_replaced) {
    const auto c = make_content(2'000'000, 32768, 9);
    swarm s(c);
    const std::size_t first = s.seed(1);
    s.seed(2);
    const std::size_t leech = s.leecher(3);
    s.connect(leech, 1);
    ASSERT_TRUE(s.run_until([&] { return s.core(leech).have().count() >= 5; }, std::chrono::seconds(30)));
    s.net.take_down(static_cast<sim::host_index>(first));  // a crash: the leecher sees a reset
    s.connect(leech, 2);
    ASSERT_TRUE(s.run_until([&] { return s.core(leech).complete(); }, std::chrono::seconds(120)));
    EXPECT_TRUE(s.storage(leech).complete());
}

TEST(torrent_swarm, leechers_that_only_know_the_seed_find_each_other_through_pex) {
    const auto c = make_content(6'000'000, 65536, 10);
    swarm s(c);
    s.link.up_bytes_per_second = 100'000;  // slow enough that PEX (every 60 s) matters
    s.seed(1);
    const std::size_t a = s.leecher(2);
    const std::size_t b = s.leecher(3);
    s.connect(a, 1);
    s.connect(b, 1);
    const auto knows = [&](std::size_t node, int other) {
        for (const auto& e : s.events(node)) {
            if (auto* pc = std::get_if<torrent_events::peer_connected>(&e);
                pc && pc->remote.address == address(other).address) {
                return true;
            }
        }
        return false;
    };
    ASSERT_TRUE(s.run_until([&] { return knows(a, 3) || knows(b, 2); }, std::chrono::seconds(180)))
        << describe(s.events(a));
}

TEST(torrent_swarm, private_torrents_send_no_pex) {
    const auto c = make_content(6'000'000, 65536, 10);
    swarm s(c);
    s.meta.is_private = true;
    s.link.up_bytes_per_second = 100'000;
    s.seed(1);
    const std::size_t a = s.leecher(2);
    const std::size_t b = s.leecher(3);
    s.connect(a, 1);
    s.connect(b, 1);
    s.net.run_for(std::chrono::seconds(150));
    ASSERT_FALSE(s.events(a).empty());
    for (const auto& e : s.events(a)) {
        if (auto* pc = std::get_if<torrent_events::peer_connected>(&e)) {
            EXPECT_EQ(pc->remote.address, address(1).address) << "only the seed, as no PEX names others";
        }
    }
}

TEST(torrent_swarm, download_and_upload_limits_hold) {
    const auto c = make_content(1'000'000, 32768, 12);
    for (const bool limit_upload : {false, true}) {
        swarm s(c, params(3));
        torrent_config seed_config = config_for(1);
        torrent_config leech_config = config_for(2);
        (limit_upload ? seed_config.upload_rate_max : leech_config.download_rate_max) = 100'000;
        add_params seed;
        seed.source = s.meta;
        seed.have = bitfield(s.meta.piece_count(), true);
        s.add(1, std::move(seed), std::make_unique<memory_storage>(c, true), seed_config);
        add_params leech_params;
        leech_params.source = s.meta;
        const std::size_t leech =
            s.add(2, std::move(leech_params), std::make_unique<memory_storage>(c, false), leech_config);
        s.connect(leech, 1);
        ASSERT_TRUE(s.run_until([&] { return s.core(leech).complete(); }, std::chrono::seconds(60)));
        const double seconds = std::chrono::duration<double>(s.elapsed()).count();
        // 1 MB at 100 kB/s, less the first burst of 100 kB: at least 8.5 s, and not much more than 10 s.
        EXPECT_GE(seconds, 8.5) << (limit_upload ? "upload" : "download");
        EXPECT_LE(seconds, 12.0) << (limit_upload ? "upload" : "download");
    }
}

TEST(torrent_swarm, a_finished_leecher_does_not_dial_again_the_seed_it_left) {
    const auto c = make_content(1'000'000, 32768, 14);
    swarm s(c);
    s.seed(1);
    const std::size_t leech = s.leecher(2);
    s.connect(leech, 1);
    ASSERT_TRUE(s.run_until([&] { return s.core(leech).complete(); }, std::chrono::seconds(30)));
    // Seeds have nothing to say to each other; the back-off (5 s) ends many times over in a minute.
    s.net.run_for(std::chrono::seconds(60));
    EXPECT_EQ(s.count<torrent_events::peer_connected>(leech), 1u) << describe(s.events(leech));
    EXPECT_EQ(s.core(leech).stats(s.net.now()).peers, 0u);
}

TEST(torrent_swarm, a_peer_unreachable_at_first_is_dialled_again_when_its_back_off_ends) {
    const auto c = make_content(500'000, 32768, 15);
    swarm s(c);
    const std::size_t leech = s.leecher(2);
    s.connect(leech, 1);  // nobody there yet: the dial times out
    s.net.run_for(std::chrono::seconds(15));
    EXPECT_EQ(s.count<torrent_events::peer_connected>(leech), 0u);
    s.seed(1);
    ASSERT_TRUE(s.run_until([&] { return s.core(leech).complete(); }, std::chrono::seconds(120)));
    EXPECT_TRUE(s.storage(leech).complete());
}

TEST(torrent_swarm, a_full_peer_that_closes_before_the_handshake_is_asked_again_a_minute_later) {
    const auto c = make_content(500'000, 32768, 16);
    swarm s(c);
    torrent_config full = config_for(1);
    full.connections_max = 0;
    add_params p;
    p.source = s.meta;
    p.have = bitfield(s.meta.piece_count(), true);
    s.add(1, std::move(p), std::make_unique<memory_storage>(c, true), full);
    const std::size_t leech = s.leecher(2);
    s.connect(leech, 1);
    // It is up, so not gone: only full. Every 10 s (the back-off of a dial nobody answers) would
    // be five dials by now.
    s.net.run_for(std::chrono::seconds(55));
    EXPECT_EQ(s.net.counters().connects, 1u);
    s.net.run_for(std::chrono::seconds(10));
    EXPECT_EQ(s.net.counters().connects, 2u);
    EXPECT_EQ(s.count<torrent_events::peer_connected>(leech), 0u);
}

TEST(torrent_swarm, a_seed_does_not_dial_a_peer_that_pex_says_is_a_seed) {
    const auto c = make_content(1'000'000, 32768, 17);
    swarm s(c);
    s.seed(1);
    s.seed(3);
    const std::size_t done = s.leecher(2);
    torrent_config slow = config_for(4);
    slow.download_rate_max = 4'000;  // a leecher for minutes yet
    add_params p;
    p.source = s.meta;
    const std::size_t slow_leech = s.add(4, std::move(p), std::make_unique<memory_storage>(c, false), slow);
    s.connect(done, 1);
    ASSERT_TRUE(s.run_until([&] { return s.core(done).complete(); }, std::chrono::seconds(30)));
    s.connect(slow_leech, 3);
    s.connect(slow_leech, 2);
    // PEX goes once a minute: the slow leecher tells the new seed of seed 3, flagged as a seed.
    ASSERT_TRUE(s.run_until([&] { return s.core(done).knows(address(3)); }, std::chrono::seconds(150)));
    s.net.run_for(std::chrono::seconds(30));
    ASSERT_FALSE(s.core(slow_leech).complete());
    for (const auto& e : s.events(done)) {
        if (auto* pc = std::get_if<torrent_events::peer_connected>(&e)) {
            EXPECT_NE(pc->remote.address, address(3).address) << "a seed dialled a seed";
        }
    }
}

TEST(torrent_swarm, a_well_connected_torrent_dials_one_peer_at_a_time_and_leaves_room_for_others) {
    const auto c = make_content(4'000'000, 32768, 18);
    swarm s(c);
    s.link.up_bytes_per_second = 20'000;  // slow: the download lasts the whole test
    s.seed(1);
    s.seed(2);
    s.seed(3);
    torrent_config four = config_for(9);
    four.connections_max = 4;
    add_params p;
    p.source = s.meta;
    const std::size_t leech = s.add(9, std::move(p), std::make_unique<memory_storage>(c, false), four);
    // Twelve peers that are full: each takes the connection and closes it before the handshake.
    for (int n = 20; n < 32; ++n) {
        torrent_config full = config_for(n);
        full.connections_max = 0;
        add_params q;
        q.source = s.meta;
        q.have = bitfield(s.meta.piece_count(), true);
        s.add(n, std::move(q), std::make_unique<memory_storage>(c, true), full);
    }
    for (int n = 1; n <= 3; ++n) {
        s.connect(leech, n);
    }
    ASSERT_TRUE(s.run_until([&] { return s.count<torrent_events::peer_connected>(leech) == 3; },
                            std::chrono::seconds(5)));
    // Three of four slots taken: the full ones get one dial per 5 s, not one after another as
    // each refusal frees the slot; the fourth slot is mostly free for a peer that dials us.
    const std::uint64_t before = s.net.counters().connects;
    for (int n = 20; n < 32; ++n) {
        s.connect(leech, n);
    }
    s.net.run_for(std::chrono::seconds(12));
    EXPECT_LE(s.net.counters().connects - before, 3u);
    EXPECT_GE(s.net.counters().connects - before, 2u);
    ASSERT_FALSE(s.core(leech).complete());
}

TEST(torrent_swarm, a_seed_whose_dial_found_a_seed_waits_before_the_next) {
    const auto c = make_content(1'000'000, 32768, 19);
    swarm s(c);
    const std::size_t seed = s.seed(1);
    for (int n = 20; n < 40; ++n) {
        s.seed(n);  // the handshake and bitfield show each is a seed, and the connection ends
    }
    for (int n = 20; n < 40; ++n) {
        s.connect(seed, n);
    }
    // The first dials go together (8 in flight); they find seeds, so the next ones wait a second
    // (until the tick after it).
    s.net.run_for(std::chrono::milliseconds(1500));
    EXPECT_EQ(s.net.counters().connects, 8u);
    s.net.run_for(std::chrono::seconds(2));
    EXPECT_EQ(s.net.counters().connects, 16u);
    s.net.run_for(std::chrono::seconds(2));
    EXPECT_EQ(s.net.counters().connects, 20u);
}

TEST(torrent_swarm, a_seed_still_checking_keeps_its_peers_and_serves_them_when_done) {
    const auto c = make_content(2'000'000, 16384, 13);
    swarm s(c, params(7, std::chrono::milliseconds(20)));  // checking 123 pieces takes a while
    // No resume data: every piece is hashed before it is served.
    add_params p;
    p.source = s.meta;
    p.check = true;
    const std::size_t seed = s.add(1, std::move(p), std::make_unique<memory_storage>(c, true));
    const std::size_t leech = s.leecher(2);
    s.connect(leech, 1);
    ASSERT_TRUE(s.core(seed).checking());
    ASSERT_TRUE(s.run_until([&] { return s.core(leech).complete(); }, std::chrono::seconds(60)));
    for (const auto& e : s.events(leech)) {
        if (auto* d = std::get_if<torrent_events::peer_disconnected>(&e)) {
            EXPECT_EQ(d->reason, "both sides are seeds")
                << "the one connection lasts until the download is done";
        }
    }
    // No reconnection back-off: done soon after the check (about 123 x 20 ms / 8 in parallel).
    EXPECT_LT(s.elapsed(), std::chrono::seconds(3));
}

}  // namespace
}  // namespace hyphae::bittorrent
