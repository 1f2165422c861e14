// Torrent cores exchanging data in memory, on a virtual clock: the swarm logic without sockets.

#include "swarm_harness.hpp"
#include "temp_dir.hpp"
#include <gtest/gtest.h>

#include "hyphae/core/bencode_writer.hpp"
#include "hyphae/proto/bittorrent/torrent.hpp"
#include "hyphae/proto/bittorrent/torrent_builder.hpp"

namespace hyphae::bittorrent {
namespace {

struct content {
    metainfo meta;
    std::string bytes;
};

// A multi-file torrent over pseudo-random bytes; the last piece is short.
content make_content(std::size_t size, std::int64_t piece_length, std::uint64_t seed = 1) {
    content c;
    c.bytes = test::pseudo_random_bytes(size, seed);
    torrent_spec spec;
    spec.name = "swarm";
    spec.multi_file = true;
    spec.piece_length = piece_length;
    const std::size_t first = size / 3;
    spec.files = {{"a.bin", static_cast<std::int64_t>(first)},
                  {"empty", 0},
                  {"dir/b.bin", static_cast<std::int64_t>(size - first)}};
    auto layout = validate(spec);
    std::vector<sha1_hash> pieces;
    for (piece_index p = 0; p < layout->piece_count(); ++p) {
        pieces.push_back(sha1(as_bytes(std::string_view(c.bytes).substr(
            static_cast<std::size_t>(p) * static_cast<std::size_t>(piece_length),
            static_cast<std::size_t>(layout->piece_size(p))))));
    }
    const std::string file = encode_torrent_file(spec, encode_info_dictionary(spec, pieces));
    c.meta = *parse_metainfo(as_bytes(file));
    return c;
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

struct swarm {
    test::swarm_harness net{7};
    const content& c;
    explicit swarm(const content& data) : c(data) {}

    test::node_options options;  // for the nodes added next

    std::size_t seed(int n, bool check = false) {
        return net.add(std::make_unique<torrent>(c.meta, peer_id(static_cast<std::uint8_t>(n)), config_for(n),
                                                 static_cast<std::uint64_t>(n), net.now(),
                                                 bitfield(c.meta.piece_count(), true), check),
                       std::make_unique<test::memory_storage>(c.meta, c.bytes), address(n), options);
    }
    std::size_t leecher(int n, std::optional<bitfield> have = std::nullopt, std::string start = {}) {
        if (start.empty()) {
            start.assign(c.bytes.size(), '\0');
        }
        return net.add(
            std::make_unique<torrent>(c.meta, peer_id(static_cast<std::uint8_t>(n)), config_for(n),
                                      static_cast<std::uint64_t>(n), net.now(), std::move(have), false),
            std::make_unique<test::memory_storage>(c.meta, std::move(start)), address(n), options);
    }
    std::size_t magnet(int n) {
        return net.add(std::make_unique<torrent>(c.meta.info_hash, peer_id(static_cast<std::uint8_t>(n)),
                                                 config_for(n), static_cast<std::uint64_t>(n), net.now()),
                       std::make_unique<test::memory_storage>(c.meta, std::string(c.bytes.size(), '\0')),
                       address(n));
    }
    void connect(std::size_t from, int to) {
        net.core(from).add_peers(net.now(), {address(to)}, peer_source::manual);
    }

    template <class T>
    std::size_t count(std::size_t node) const {
        const auto& events = net.events(node);
        return static_cast<std::size_t>(
            std::count_if(events.begin(), events.end(),
                          [](const torrent_event& e) { return std::holds_alternative<T>(e); }));
    }
};

TEST(torrent_swarm, a_leecher_downloads_everything_from_a_seed) {
    const content c = make_content(1'000'000, 32768);
    swarm s(c);
    s.seed(1);
    const std::size_t leech = s.leecher(2);
    s.connect(leech, 1);
    ASSERT_TRUE(s.net.run_until([&] { return s.net.core(leech).complete(); }, std::chrono::seconds(60)));
    EXPECT_EQ(s.net.storage(leech).content(), c.bytes);
    EXPECT_EQ(s.count<torrent_events::download_complete>(leech), 1u);
    EXPECT_EQ(s.count<torrent_events::piece_verified>(leech), c.meta.piece_count());
    EXPECT_EQ(s.count<torrent_events::piece_failed>(leech), 0u);
    const torrent_stats stats = s.net.core(leech).stats(s.net.now());
    EXPECT_EQ(stats.verified_bytes, c.meta.total_size);
    EXPECT_EQ(stats.wasted, 0);
}

TEST(torrent_swarm, one_seed_and_three_leechers_all_finish_and_trade_with_each_other) {
    const content c = make_content(3'000'000, 65536, 2);
    swarm s(c);
    s.options.upload_bytes_per_second = 1e6;  // the seed alone would need 9 s to serve everyone
    const std::size_t seed = s.seed(1);
    std::vector<std::size_t> leechers = {s.leecher(2), s.leecher(3), s.leecher(4)};
    for (std::size_t l : leechers) {
        s.connect(l, 1);
        for (int other = 2; other <= 4; ++other) {
            s.connect(l, other);
        }
    }
    ASSERT_TRUE(s.net.run_until(
        [&] {
            return std::all_of(leechers.begin(), leechers.end(),
                               [&](std::size_t l) { return s.net.core(l).complete(); });
        },
        std::chrono::seconds(120)));
    std::int64_t uploaded_by_leechers = 0;
    for (std::size_t l : leechers) {
        EXPECT_EQ(s.net.storage(l).content(), c.bytes);
        uploaded_by_leechers += s.net.core(l).stats(s.net.now()).uploaded;
    }
    EXPECT_GT(uploaded_by_leechers, 0)
        << "leechers should serve each other, not only take from the seed\n"
        << describe(s.net.events(leechers[0])) << "time " << s.net.now().time_since_epoch().count();
    EXPECT_GT(s.net.core(seed).stats(s.net.now()).uploaded, 0);
}

TEST(torrent_swarm, a_magnet_leecher_fetches_the_metadata_then_the_data) {
    const content c = make_content(500'000, 16384, 3);
    swarm s(c);
    s.seed(1);
    const std::size_t leech = s.magnet(2);
    EXPECT_FALSE(s.net.core(leech).has_metadata());
    s.connect(leech, 1);
    ASSERT_TRUE(s.net.run_until([&] { return s.net.core(leech).complete(); }, std::chrono::seconds(60)))
        << describe(s.net.events(leech));
    EXPECT_EQ(s.count<torrent_events::metadata_received>(leech), 1u);
    EXPECT_EQ(s.net.core(leech).meta().info_hash, c.meta.info_hash);
    EXPECT_EQ(s.net.storage(leech).content(), c.bytes);
}

TEST(torrent_swarm, a_corrupt_seeder_is_banned_and_the_data_is_fetched_again_from_another) {
    const content c = make_content(800'000, 32768, 4);
    swarm s(c);
    const std::size_t bad = s.seed(1);
    s.net.storage(bad).corrupt_all = true;
    s.seed(2);
    const std::size_t leech = s.leecher(3);
    s.connect(leech, 1);
    s.connect(leech, 2);
    ASSERT_TRUE(s.net.run_until([&] { return s.net.core(leech).complete(); }, std::chrono::seconds(120)))
        << describe(s.net.events(leech));
    EXPECT_EQ(s.net.storage(leech).content(), c.bytes) << "never finishes with corrupt data";
    EXPECT_GE(s.count<torrent_events::piece_failed>(leech), 1u);
    ASSERT_EQ(s.count<torrent_events::peer_banned>(leech), 1u) << describe(s.net.events(leech));
    for (const auto& e : s.net.events(leech)) {
        if (auto* b = std::get_if<torrent_events::peer_banned>(&e)) {
            EXPECT_EQ(b->remote, address(1));
        }
    }
    EXPECT_GT(s.net.core(leech).stats(s.net.now()).wasted, 0);
}

TEST(torrent_swarm, a_lone_corrupt_seeder_never_makes_the_download_complete) {
    const content c = make_content(200'000, 16384, 5);
    swarm s(c);
    const std::size_t bad = s.seed(1);
    s.net.storage(bad).corrupt_piece = 2;
    const std::size_t leech = s.leecher(2);
    s.connect(leech, 1);
    EXPECT_TRUE(s.net.run_until([&] { return s.count<torrent_events::peer_banned>(leech) == 1; },
                                std::chrono::seconds(60)));
    EXPECT_FALSE(s.net.core(leech).complete());
    EXPECT_FALSE(s.net.core(leech).have().test(2));
}

TEST(torrent_swarm, checking_finds_what_is_on_disk) {
    const content c = make_content(300'000, 16384, 6);
    swarm s(c);
    std::string partial = c.bytes;
    partial[5 * 16384 + 7] ^= 1;  // piece 5 is damaged
    const std::size_t node = s.net.add(
        std::make_unique<torrent>(c.meta, peer_id(9), config_for(9), 9, s.net.now(), std::nullopt, true),
        std::make_unique<test::memory_storage>(c.meta, partial), address(9));
    EXPECT_TRUE(s.net.core(node).checking());
    ASSERT_TRUE(s.net.run_until([&] { return s.count<torrent_events::checking_done>(node) == 1; },
                                std::chrono::seconds(10)));
    EXPECT_EQ(s.net.core(node).have().count(), c.meta.piece_count() - 1);
    EXPECT_FALSE(s.net.core(node).have().test(5));
    // It then fetches the damaged piece from a seed.
    s.seed(1);
    s.connect(node, 1);
    ASSERT_TRUE(s.net.run_until([&] { return s.net.core(node).complete(); }, std::chrono::seconds(30)));
    EXPECT_EQ(s.net.storage(node).content(), c.bytes);
    EXPECT_EQ(s.net.core(node).stats(s.net.now()).downloaded, 16384);
}

TEST(torrent_swarm, resume_data_is_trusted_and_only_the_rest_is_fetched) {
    const content c = make_content(400'000, 16384, 7);
    swarm s(c);
    s.seed(1);
    bitfield have(c.meta.piece_count());
    std::string start(c.bytes.size(), '\0');
    for (piece_index p = 0; p < 10; ++p) {
        have.set(p);
        std::copy_n(c.bytes.begin() + p * 16384, 16384, start.begin() + p * 16384);
    }
    const std::size_t leech = s.leecher(2, have, start);
    s.connect(leech, 1);
    ASSERT_TRUE(s.net.run_until([&] { return s.net.core(leech).complete(); }, std::chrono::seconds(60)));
    EXPECT_EQ(s.net.storage(leech).content(), c.bytes);
    EXPECT_EQ(s.net.core(leech).stats(s.net.now()).downloaded, c.meta.total_size - 10 * 16384);
}

TEST(torrent_swarm, metadata_that_does_not_hash_to_the_info_hash_closes_the_peer) {
    const content real = make_content(100'000, 16384, 8);
    const content other = make_content(100'000, 32768, 8);
    swarm s(real);
    // A peer that claims the real info-hash but serves another info dictionary.
    metainfo liar = other.meta;
    liar.info_hash = real.meta.info_hash;
    s.net.add(std::make_unique<torrent>(liar, peer_id(1), config_for(1), 1, s.net.now(),
                                        bitfield(liar.piece_count(), true), false),
              std::make_unique<test::memory_storage>(liar, other.bytes), address(1));
    const std::size_t leech = s.magnet(2);
    s.connect(leech, 1);
    ASSERT_TRUE(s.net.run_until(
        [&] {
            for (const auto& e : s.net.events(leech)) {
                if (auto* d = std::get_if<torrent_events::peer_disconnected>(&e)) {
                    return d->reason.find("metadata that does not hash to the info-hash") !=
                           std::string::npos;
                }
            }
            return false;
        },
        std::chrono::seconds(30)));
    EXPECT_FALSE(s.net.core(leech).has_metadata());
}

TEST(torrent_swarm, a_peer_that_disappears_mid_transfer_is_replaced) {
    const content c = make_content(2'000'000, 32768, 9);
    swarm s(c);
    const std::size_t first = s.seed(1);
    s.seed(2);
    const std::size_t leech = s.leecher(3);
    s.connect(leech, 1);
    ASSERT_TRUE(
        s.net.run_until([&] { return s.net.core(leech).have().count() >= 5; }, std::chrono::seconds(30)));
    s.net.disconnect(first);
    s.connect(leech, 2);
    ASSERT_TRUE(s.net.run_until([&] { return s.net.core(leech).complete(); }, std::chrono::seconds(120)));
    EXPECT_EQ(s.net.storage(leech).content(), c.bytes);
}

TEST(torrent_swarm, leechers_that_only_know_the_seed_find_each_other_through_pex) {
    const content c = make_content(6'000'000, 65536, 10);
    swarm s(c);
    s.options.upload_bytes_per_second = 100'000;  // slow enough that PEX (every 60 s) matters
    s.seed(1);
    const std::size_t a = s.leecher(2);
    const std::size_t b = s.leecher(3);
    s.connect(a, 1);
    s.connect(b, 1);
    const auto knows = [&](std::size_t node, int other) {
        for (const auto& e : s.net.events(node)) {
            if (auto* pc = std::get_if<torrent_events::peer_connected>(&e);
                pc && pc->remote.address == address(other).address) {
                return true;
            }
        }
        return false;
    };
    ASSERT_TRUE(s.net.run_until([&] { return knows(a, 3) || knows(b, 2); }, std::chrono::seconds(180)))
        << describe(s.net.events(a));
}

TEST(torrent_swarm, private_torrents_send_no_pex) {
    content c = make_content(6'000'000, 65536, 10);
    c.meta.is_private = true;
    swarm s(c);
    s.options.upload_bytes_per_second = 100'000;
    s.seed(1);
    const std::size_t a = s.leecher(2);
    const std::size_t b = s.leecher(3);
    s.connect(a, 1);
    s.connect(b, 1);
    s.net.run_until([] { return false; }, std::chrono::seconds(150));
    for (const auto& e : s.net.events(a)) {
        if (auto* pc = std::get_if<torrent_events::peer_connected>(&e)) {
            EXPECT_EQ(pc->remote.address, address(1).address) << "only the seed, as no PEX names others";
        }
    }
}

TEST(torrent_swarm, download_and_upload_limits_hold) {
    const content c = make_content(1'000'000, 32768, 12);
    for (const bool limit_upload : {false, true}) {
        test::swarm_harness net(3);
        torrent_config seed_config = config_for(1);
        torrent_config leech_config = config_for(2);
        (limit_upload ? seed_config.upload_rate_max : leech_config.download_rate_max) = 100'000;
        net.add(std::make_unique<torrent>(c.meta, peer_id(1), seed_config, 1, net.now(),
                                          bitfield(c.meta.piece_count(), true), false),
                std::make_unique<test::memory_storage>(c.meta, c.bytes), address(1));
        const std::size_t leech = net.add(
            std::make_unique<torrent>(c.meta, peer_id(2), leech_config, 2, net.now(), std::nullopt, false),
            std::make_unique<test::memory_storage>(c.meta, std::string(c.bytes.size(), '\0')), address(2));
        net.core(leech).add_peers(net.now(), {address(1)}, peer_source::manual);
        ASSERT_TRUE(net.run_until([&] { return net.core(leech).complete(); }, std::chrono::seconds(60)));
        const double seconds = std::chrono::duration<double>(net.now().time_since_epoch()).count();
        // 1 MB at 100 kB/s, less the first burst of 100 kB: at least 8.5 s, and not much more than 10 s.
        EXPECT_GE(seconds, 8.5) << (limit_upload ? "upload" : "download");
        EXPECT_LE(seconds, 12.0) << (limit_upload ? "upload" : "download");
    }
}

TEST(torrent_swarm, a_seed_still_checking_keeps_its_peers_and_serves_them_when_done) {
    const content c = make_content(2'000'000, 16384, 13);
    swarm s(c);
    s.options.disk_latency = std::chrono::milliseconds(20);  // checking 123 pieces takes a while
    // No resume data: every piece is hashed before it is served.
    const std::size_t seed = s.net.add(
        std::make_unique<torrent>(c.meta, peer_id(1), config_for(1), 1, s.net.now(), std::nullopt, true),
        std::make_unique<test::memory_storage>(c.meta, c.bytes), address(1), s.options);
    const std::size_t leech = s.leecher(2);
    s.connect(leech, 1);
    ASSERT_TRUE(s.net.core(seed).checking());
    ASSERT_TRUE(s.net.run_until([&] { return s.net.core(leech).complete(); }, std::chrono::seconds(60)));
    for (const auto& e : s.net.events(leech)) {
        if (auto* d = std::get_if<torrent_events::peer_disconnected>(&e)) {
            EXPECT_EQ(d->reason, "both sides are seeds")
                << "the one connection lasts until the download is done";
        }
    }
    // No reconnection back-off: done soon after the check (about 123 x 20 ms / 8 in parallel).
    EXPECT_LT(s.net.now().time_since_epoch(), std::chrono::seconds(3));
}

}  // namespace
}  // namespace hyphae::bittorrent
