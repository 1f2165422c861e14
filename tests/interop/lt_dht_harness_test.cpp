// The libtorrent side of the DHT interop harness, proven with libtorrent nodes alone: a few
// libtorrent 2.0.8 DHT nodes (tests/interop/lt_dht.py) on 127.0.0.1 that know each other find a
// peer announced by one of them, and store and fetch BEP 44 items. Hyphae's DHT nodes join these
// meshes later. Every node is started by the test and stopped when it ends; nothing waits for a
// fixed time, only for answers within deadlines.

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "lt_dht_node.hpp"
#include <gtest/gtest.h>
#include <signal.h>

namespace hyphae {
namespace {

using namespace std::chrono_literals;
using test::lt_dht_node;

constexpr std::size_t mesh_size = 4;

class lt_dht_harness : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(lt_dht_node::available()) << lt_dht_node::unavailable_reason(); }
};

// Asks `node` for the peers of `info_hash` until `wanted` is among them or the deadline passes.
std::optional<test::lt_dht_peers> find_peer(lt_dht_node& node, const std::string& info_hash,
                                            const std::string& wanted, std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    std::optional<test::lt_dht_peers> last;
    while (std::chrono::steady_clock::now() < end) {
        last = node.get_peers(info_hash, 5s);
        if (last && std::find(last->peers.begin(), last->peers.end(), wanted) != last->peers.end()) {
            return last;
        }
    }
    return std::nullopt;
}

TEST_F(lt_dht_harness, a_peer_announced_by_one_node_is_found_by_another) {
    auto nodes = test::start_lt_dht_mesh(mesh_size, 20s);
    const std::string info_hash = "5a1c0ffee0ddba11ca75bead5a1c0ffee0ddba11";

    const auto announced = nodes[1]->announce(info_hash, 20s);
    ASSERT_TRUE(announced) << nodes[1]->last_answer() << "\n" << nodes[1]->output();
    EXPECT_EQ(announced->port, nodes[1]->port()) << "libtorrent announces its own port";
    EXPECT_GE(announced->nodes, 1);
    EXPECT_GE(announced->stats.queries_sent, announced->nodes) << "get_peers, then announce_peer to each";

    const auto found = find_peer(*nodes[3], info_hash, nodes[1]->endpoint(), 20s);
    ASSERT_TRUE(found) << nodes[3]->last_answer() << "\n" << nodes[3]->output();
    EXPECT_GE(found->stats.queries_sent, 1);
    EXPECT_GE(found->stats.first_result.count(), 0);

    // The announce itself reached the others: each stored node reports it with the port.
    int reached = 0;
    for (std::size_t i : {0u, 2u, 3u}) {
        if (const auto from = nodes[i]->wait_incoming_announce(info_hash, 1s)) {
            EXPECT_EQ(*from, nodes[1]->endpoint());
            ++reached;
        }
    }
    EXPECT_GE(reached, 1);

    // An info-hash nobody announced: the lookup ends, with no peers.
    const auto none = nodes[2]->get_peers("0123456789abcdef0123456789abcdef01234567", 20s);
    ASSERT_TRUE(none) << nodes[2]->last_answer();
    EXPECT_TRUE(none->peers.empty());
    EXPECT_TRUE(none->complete);
}

TEST_F(lt_dht_harness, an_immutable_item_put_by_one_node_is_got_by_another) {
    auto nodes = test::start_lt_dht_mesh(mesh_size, 20s);

    // BEP 44's test vector: "12:Hello World!" is stored under SHA-1 of its bencoding.
    const auto stored = nodes[0]->put_immutable("12:Hello World!", 20s);
    ASSERT_TRUE(stored) << nodes[0]->last_answer() << "\n" << nodes[0]->output();
    EXPECT_EQ(stored->key_hex, "e5f96f6f38320f0f33959cb4d3d656452117aadb");
    EXPECT_GE(stored->successes, 1);
    const auto item = nodes[2]->get_immutable(stored->key_hex, 20s);
    ASSERT_TRUE(item) << nodes[2]->last_answer() << "\n" << nodes[2]->output();
    EXPECT_EQ(item->value, "12:Hello World!");

    // A value that is not a string, which the binding's alert cannot show: read from the packets.
    const std::string dict = "d4:listli1ei2ee4:name6:hyphae4:sizei-7ee";
    const auto stored_dict = nodes[3]->put_immutable(dict, 20s);
    ASSERT_TRUE(stored_dict) << nodes[3]->last_answer();
    const auto dict_item = nodes[1]->get_immutable(stored_dict->key_hex, 20s);
    ASSERT_TRUE(dict_item) << nodes[1]->last_answer();
    EXPECT_EQ(dict_item->value, dict);

    EXPECT_FALSE(nodes[1]->get_immutable("1111111111111111111111111111111111111111", 20s));
    EXPECT_EQ(nodes[1]->last_answer().rfind("not_found ", 0), 0u) << nodes[1]->last_answer();
}

TEST_F(lt_dht_harness, a_salted_mutable_item_put_by_one_node_is_got_by_another) {
    auto nodes = test::start_lt_dht_mesh(mesh_size, 20s);
    const std::string seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    // RFC 8032's first test key: the driver derives the same public key from the seed.
    const std::string public_key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    const std::string salt = std::string("foo\0bar\xff", 8);  // bytes, not text

    const auto first = nodes[1]->put_mutable(seed, salt, "12:Hello World!", 20s);
    ASSERT_TRUE(first) << nodes[1]->last_answer() << "\n" << nodes[1]->output();
    EXPECT_EQ(first->key_hex, public_key);
    EXPECT_EQ(first->seq, 1) << "libtorrent starts at one above the highest seq it finds";
    EXPECT_GE(first->successes, 1);
    const auto got = nodes[3]->get_mutable(public_key, salt, 20s);
    ASSERT_TRUE(got) << nodes[3]->last_answer() << "\n" << nodes[3]->output();
    EXPECT_EQ(got->value, "12:Hello World!");
    EXPECT_EQ(got->seq, 1);
    EXPECT_TRUE(got->authoritative);

    // A second put from another node with the same key supersedes the first.
    const auto second = nodes[2]->put_mutable(seed, salt, "6:second", 20s);
    ASSERT_TRUE(second) << nodes[2]->last_answer();
    EXPECT_EQ(second->seq, 2);
    const auto got_second = nodes[0]->get_mutable(public_key, salt, 20s);
    ASSERT_TRUE(got_second) << nodes[0]->last_answer();
    EXPECT_EQ(got_second->value, "6:second");
    EXPECT_EQ(got_second->seq, 2);

    // The salt is part of the target: the same key without it names nothing.
    EXPECT_FALSE(nodes[0]->get_mutable(public_key, "", 20s));
    EXPECT_EQ(nodes[0]->last_answer().rfind("not_found ", 0), 0u) << nodes[0]->last_answer();
}

TEST_F(lt_dht_harness, a_node_stops_at_the_end_of_its_input_and_on_sigterm) {
    pid_t pid = 0;
    {
        lt_dht_node node;
        EXPECT_NE(node.port(), 0);
        EXPECT_EQ(node.node_id_hex().size(), 40u) << node.output();
        EXPECT_EQ(node.node_count(), 0);
        EXPECT_FALSE(node.announce("00", 5s));
        EXPECT_EQ(node.last_answer().rfind("error announce", 0), 0u) << node.last_answer();
        pid = node.process().pid();
        node.process().close_stdin();
        EXPECT_EQ(node.process().wait(10s), 0) << node.output();
    }
    EXPECT_EQ(kill(pid, 0), -1);
    EXPECT_EQ(errno, ESRCH);

    lt_dht_node node;
    EXPECT_EQ(node.process().stop(), 0) << node.output();
}

}  // namespace
}  // namespace hyphae
