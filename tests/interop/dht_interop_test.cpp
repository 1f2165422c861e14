// Hyphae's DHT against libtorrent 2.0.8's on 127.0.0.1: a network of libtorrent nodes
// (tests/interop/lt_dht.py) and Hyphae nodes (`hyphae dht run`) bootstrapped off each other. A
// peer announced by one kind is found by the other, both ways; BEP 44 immutable and mutable
// items put by one are got by the other, both ways. Every node is started here and stopped by
// PID at the end; nothing waits for a fixed time.

#include <algorithm>
#include <chrono>
#include <fstream>

#include "hyphae_dht.hpp"
#include "interop_content.hpp"
#include "lt_dht_node.hpp"
#include "temp_dir.hpp"
#include <gtest/gtest.h>

#include "hyphae/core/ed25519.hpp"
#include "hyphae/core/encoding.hpp"

namespace hyphae {
namespace {

using namespace std::chrono_literals;
using test::hyphae_dht_node;
using test::lines_of;
using test::lt_dht_node;
using test::run_dht_command;

// Three libtorrent nodes and three Hyphae nodes, each kind told of the other.
class dht_interop : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(lt_dht_node::available()) << lt_dht_node::unavailable_reason();
        lt_ = test::start_lt_dht_mesh(3, 30s);
        std::vector<std::string> lt_endpoints;
        for (const auto& n : lt_) {
            lt_endpoints.push_back(n->endpoint());
        }
        for (int i = 0; i < 3; ++i) {
            auto boot = lt_endpoints;
            for (const auto& h : hy_) {
                boot.push_back(h->endpoint());
            }
            hy_.push_back(
                std::make_unique<hyphae_dht_node>(HYPHAE_BIN, boot, std::vector<std::string>{"-v"}));
            ASSERT_TRUE(hy_.back()->ready()) << hy_.back()->output();
        }
        for (const auto& l : lt_) {
            for (const auto& h : hy_) {
                ASSERT_TRUE(l->add_node(h->endpoint())) << l->last_answer();
            }
        }
        // Every Hyphae node has joined once libtorrent's nodes know them all.
        for (const auto& h : hy_) {
            ASSERT_TRUE(h->process().wait_for_line("dht: bootstrapped", 20s)) << h->output();
        }
        for (const auto& l : lt_) {
            const auto deadline = std::chrono::steady_clock::now() + 20s;
            while (l->node_count().value_or(0) < 5 && std::chrono::steady_clock::now() < deadline) {
            }
        }
    }

    // One-shot commands join through one Hyphae node and one libtorrent node.
    std::vector<std::string> bootstrap(std::size_t i) const {
        return {hy_[i]->endpoint(), lt_[i]->endpoint()};
    }

    std::vector<std::unique_ptr<lt_dht_node>> lt_;
    std::vector<std::unique_ptr<hyphae_dht_node>> hy_;
};

bool has_line(const std::string& text, const std::string& line) {
    const auto lines = lines_of(text);
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

TEST_F(dht_interop, hyphae_finds_a_peer_libtorrent_announced) {
    const std::string ih = "a1b2c3d4e5f60718293a4b5c6d7e8f9011223344";
    const auto announced = lt_[0]->announce(ih, 30s);
    ASSERT_TRUE(announced) << lt_[0]->last_answer() << "\n" << lt_[0]->output();
    ASSERT_GE(announced->nodes, 1);
    // libtorrent announces with implied_port: its own port.
    const auto found = run_dht_command(HYPHAE_BIN, {"lookup", ih}, bootstrap(2));
    ASSERT_EQ(found.exit_code, 0) << found.err;
    EXPECT_TRUE(has_line(found.out, lt_[0]->endpoint())) << found.out << "\n" << found.err;
}

TEST_F(dht_interop, libtorrent_finds_a_peer_hyphae_announced) {
    const std::string ih = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c";
    const auto announced = run_dht_command(HYPHAE_BIN, {"announce", ih, "--peer-port", "6543"}, bootstrap(0));
    ASSERT_EQ(announced.exit_code, 0) << announced.err;
    // Did it reach libtorrent's nodes too?
    std::optional<test::lt_dht_peers> peers;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
        peers = lt_[2]->get_peers(ih, 10s);
        if (peers &&
            std::find(peers->peers.begin(), peers->peers.end(), "127.0.0.1:6543") != peers->peers.end()) {
            break;
        }
    }
    ASSERT_TRUE(peers) << lt_[2]->last_answer();
    EXPECT_NE(std::find(peers->peers.begin(), peers->peers.end(), "127.0.0.1:6543"), peers->peers.end())
        << lt_[2]->output();
}

TEST_F(dht_interop, immutable_items_cross_both_ways) {
    // libtorrent puts, Hyphae gets.
    const auto stored = lt_[1]->put_immutable("16:from libtorrent!", 30s);
    ASSERT_TRUE(stored) << lt_[1]->last_answer();
    ASSERT_GE(stored->successes, 1);
    const auto got = run_dht_command(HYPHAE_BIN, {"get", stored->key_hex}, bootstrap(2));
    ASSERT_EQ(got.exit_code, 0) << got.err;
    EXPECT_EQ(lines_of(got.out), std::vector<std::string>{"from libtorrent!"});

    // Hyphae puts, libtorrent gets.
    const auto put = run_dht_command(HYPHAE_BIN, {"put", "from hyphae"}, bootstrap(1));
    ASSERT_EQ(put.exit_code, 0) << put.err;
    ASSERT_EQ(lines_of(put.out).size(), 1u);
    const auto item = lt_[2]->get_immutable(lines_of(put.out)[0], 30s);
    ASSERT_TRUE(item) << lt_[2]->last_answer();
    EXPECT_EQ(item->value, "11:from hyphae");
}

TEST_F(dht_interop, mutable_items_cross_both_ways) {
    test::temp_dir dir;
    ed25519::secret_key secret;
    for (std::size_t i = 0; i < secret.seed.size(); ++i) {
        secret.seed[i] = static_cast<std::uint8_t>(i * 7 + 1);
    }
    const std::string seed_hex = to_hex(byte_view(secret.seed.data(), secret.seed.size()));
    const std::string pubkey = ed25519::public_key_of(secret).to_hex();
    {
        std::ofstream key(dir.path() / "key");
        key << seed_hex << "\n";
    }

    // libtorrent puts seq 1 under the key; Hyphae gets it.
    const auto stored = lt_[0]->put_mutable(seed_hex, "salt-a", "13:lt says hello", 30s);
    ASSERT_TRUE(stored) << lt_[0]->last_answer();
    EXPECT_EQ(stored->key_hex, pubkey);
    const auto got =
        run_dht_command(HYPHAE_BIN, {"get", "--pubkey", pubkey, "--salt", "salt-a"}, bootstrap(1));
    ASSERT_EQ(got.exit_code, 0) << got.err;
    EXPECT_EQ(lines_of(got.out), std::vector<std::string>{"lt says hello"});

    // Hyphae puts the next seq with the same key and salt; libtorrent gets the new value.
    const auto put = run_dht_command(
        HYPHAE_BIN, {"put", "--key", (dir.path() / "key").string(), "--salt", "salt-a", "hyphae answers"},
        bootstrap(2));
    ASSERT_EQ(put.exit_code, 0) << put.err;
    EXPECT_NE(put.err.find("seq " + std::to_string(stored->seq + 1)), std::string::npos) << put.err;
    const auto item = lt_[1]->get_mutable(pubkey, "salt-a", 30s);
    ASSERT_TRUE(item) << lt_[1]->last_answer();
    EXPECT_EQ(item->value, "14:hyphae answers");
    EXPECT_EQ(item->seq, stored->seq + 1);
}

// A magnet with no tracker and no peer: Hyphae finds its only peer, a libtorrent seed, through
// the DHT alone, fetches the metadata from it and downloads the content.
TEST(dht_magnet, hyphae_downloads_a_magnet_from_a_libtorrent_seed_found_through_the_dht) {
    ASSERT_TRUE(lt_dht_node::available()) << lt_dht_node::unavailable_reason();
    const std::string python = "/usr/bin/python3";
    const std::string lt_peer = std::string(HYPHAE_SOURCE_DIR) + "/tests/interop/lt_peer.py";
    hyphae_dht_node first(HYPHAE_BIN, {});
    ASSERT_TRUE(first.ready()) << first.output();
    hyphae_dht_node second(HYPHAE_BIN, {first.endpoint()});
    ASSERT_TRUE(second.ready()) << second.output();

    test::interop_content content(HYPHAE_BIN, {{"movie.bin", 1'500'007, 31}, {"extra/notes.txt", 70'001, 32}},
                                  32768);
    test::background_process seed({python, lt_peer, "seed", content.torrent, content.dir / "seed", "--port",
                                   "0", "--dht", first.endpoint(), "--dht", second.endpoint()});
    auto listening = seed.wait_for_line("listening", 20s);
    ASSERT_TRUE(listening) << seed.output();
    const std::string seed_endpoint = "127.0.0.1:" + listening->substr(listening->rfind(' ') + 1);

    // The seed's announce has reached the DHT once a lookup finds it.
    bool announced = false;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!announced && std::chrono::steady_clock::now() < deadline) {
        const auto found = run_dht_command(HYPHAE_BIN, {"lookup", content.info_hash}, {first.endpoint()});
        announced = has_line(found.out, seed_endpoint);
    }
    ASSERT_TRUE(announced) << seed.output() << first.output();

    const std::string magnet = "magnet:?xt=urn:btih:" + content.info_hash;
    auto get = test::run({HYPHAE_BIN, "get", magnet, "-o", content.dir / "hy", "--port", "0", "--bind",
                          "127.0.0.1", "--dht-bootstrap", second.endpoint(), "-v"},
                         120s);
    ASSERT_EQ(get.exit_code, 0) << get.err << seed.output();
    // We dialled the seed's listening port: a peer we learnt of, and the DHT was our only source.
    EXPECT_NE(get.err.find("peer " + seed_endpoint + " connected"), std::string::npos) << get.err;
    content.expect_same(content.dir / "hy");
    EXPECT_EQ(seed.stop(), 0);
}

}  // namespace
}  // namespace hyphae
