// `hyphae dht`, the built binary, over real UDP sockets on 127.0.0.1: a few nodes run, and the
// one-shot commands announce, look up, put and get through them; the state file keeps a node's
// id across a restart; bad command lines and bad datagrams are refused without harm.

#include <algorithm>
#include <filesystem>

#include "hyphae_dht.hpp"
#include "loopback_client.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"
#include <gtest/gtest.h>

#include "hyphae/core/sha.hpp"

namespace hyphae {
using namespace hyphae::http;
namespace {

using namespace std::chrono_literals;
using test::hyphae_dht_node;
using test::lines_of;
using test::run_dht_command;

// Three nodes joined through the first.
struct dht_network {
    std::unique_ptr<hyphae_dht_node> first;
    std::vector<std::unique_ptr<hyphae_dht_node>> others;

    dht_network() {
        first = std::make_unique<hyphae_dht_node>(HYPHAE_BIN, std::vector<std::string>{});
        for (int i = 0; i < 3; ++i) {
            others.push_back(
                std::make_unique<hyphae_dht_node>(HYPHAE_BIN, std::vector<std::string>{first->endpoint()}));
        }
    }
    bool ready() const {
        return first->ready() &&
               std::all_of(others.begin(), others.end(), [](const auto& n) { return n->ready(); });
    }
    std::vector<std::string> bootstrap() const { return {others[1]->endpoint()}; }
};

bool contains_line(const std::string& text, const std::string& line) {
    auto lines = lines_of(text);
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

TEST(dht_cli, announce_then_lookup_finds_the_peer) {
    dht_network net;
    ASSERT_TRUE(net.ready()) << net.first->output();
    const std::string ih = "0123456789abcdef0123456789abcdef01234567";
    auto announced = run_dht_command(HYPHAE_BIN, {"announce", ih, "--peer-port", "7777"}, net.bootstrap());
    ASSERT_EQ(announced.exit_code, 0) << announced.err;
    EXPECT_NE(announced.err.find("stored at"), std::string::npos) << announced.err;

    auto found = run_dht_command(HYPHAE_BIN, {"lookup", ih}, {net.others[2]->endpoint()});
    ASSERT_EQ(found.exit_code, 0) << found.err;
    EXPECT_TRUE(contains_line(found.out, "127.0.0.1:7777")) << found.out;
    EXPECT_NE(found.err.find("nodes queried"), std::string::npos) << found.err;
    EXPECT_NE(found.err.find("hops"), std::string::npos) << found.err;
}

TEST(dht_cli, announce_defaults_to_the_nodes_own_port) {
    dht_network net;
    ASSERT_TRUE(net.ready());
    const std::string ih = "1111111111111111111111111111111111111111";
    auto announced = run_dht_command(HYPHAE_BIN, {"announce", ih, "--port", "0"}, net.bootstrap());
    ASSERT_EQ(announced.exit_code, 0) << announced.err;
    auto found = run_dht_command(HYPHAE_BIN, {"lookup", ih}, net.bootstrap());
    ASSERT_EQ(found.exit_code, 0) << found.err;
    // The announcing process's own UDP port, which lookup cannot know: any one peer will do.
    ASSERT_EQ(lines_of(found.out).size(), 1u) << found.out;
    EXPECT_EQ(lines_of(found.out)[0].rfind("127.0.0.1:", 0), 0u);
}

TEST(dht_cli, immutable_put_prints_the_target_and_get_prints_the_value) {
    dht_network net;
    ASSERT_TRUE(net.ready());
    auto put = run_dht_command(HYPHAE_BIN, {"put", "Hello World!"}, net.bootstrap());
    ASSERT_EQ(put.exit_code, 0) << put.err;
    // BEP 44's own test vector: the target of "12:Hello World!".
    EXPECT_EQ(lines_of(put.out), std::vector<std::string>{"e5f96f6f38320f0f33959cb4d3d656452117aadb"});
    auto get = run_dht_command(HYPHAE_BIN, {"get", "e5f96f6f38320f0f33959cb4d3d656452117aadb"},
                               {net.others[0]->endpoint()});
    ASSERT_EQ(get.exit_code, 0) << get.err;
    EXPECT_EQ(lines_of(get.out), std::vector<std::string>{"Hello World!"});

    auto missing =
        run_dht_command(HYPHAE_BIN, {"get", "00000000000000000000000000000000000000aa"}, net.bootstrap());
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.err.find("no node holds the item"), std::string::npos) << missing.err;
}

TEST(dht_cli, mutable_put_and_get_with_a_key_file_and_salt) {
    dht_network net;
    ASSERT_TRUE(net.ready());
    test::temp_dir dir;
    const std::string key = (dir.path() / "key").string();
    auto first = run_dht_command(HYPHAE_BIN, {"put", "--key", key, "--salt", "s1", "first"}, net.bootstrap());
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_TRUE(std::filesystem::exists(key));
    EXPECT_NE(first.err.find("made a new key"), std::string::npos);
    const auto at = first.err.find("public key ");
    ASSERT_NE(at, std::string::npos) << first.err;
    const std::string pubkey = first.err.substr(at + 11, 64);

    auto second =
        run_dht_command(HYPHAE_BIN, {"put", "--key", key, "--salt", "s1", "second"}, net.bootstrap());
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_NE(second.err.find("seq 2"), std::string::npos) << second.err;
    EXPECT_EQ(lines_of(first.out), lines_of(second.out));  // one target

    auto got =
        run_dht_command(HYPHAE_BIN, {"get", "--pubkey", pubkey, "--salt", "s1"}, {net.others[2]->endpoint()});
    ASSERT_EQ(got.exit_code, 0) << got.err;
    EXPECT_EQ(lines_of(got.out), std::vector<std::string>{"second"});
    EXPECT_NE(got.err.find("seq 2"), std::string::npos) << got.err;
}

TEST(dht_cli, state_file_keeps_the_node_id_across_a_restart) {
    test::temp_dir dir;
    const std::string state = (dir.path() / "dht.state").string();
    hyphae_dht_node peer(HYPHAE_BIN, {});
    ASSERT_TRUE(peer.ready());
    std::string id;
    {
        hyphae_dht_node node(HYPHAE_BIN, {peer.endpoint()}, {"--state", state});
        ASSERT_TRUE(node.ready());
        id = node.node_id_hex();
        ASSERT_TRUE(node.process().wait_for_line("dht: bootstrapped", 20s)) << node.output();
        EXPECT_EQ(node.process().stop(), 0) << node.output();
    }
    ASSERT_TRUE(std::filesystem::exists(state));
    hyphae_dht_node again(HYPHAE_BIN, {}, {"--state", state});
    ASSERT_TRUE(again.ready());
    EXPECT_EQ(again.node_id_hex(), id);
    // The saved table is enough to join again without a bootstrap node.
    EXPECT_TRUE(again.process().wait_for_line("dht: bootstrapped, 1 nodes", 20s)) << again.output();
}

TEST(dht_cli, refuses_bad_command_lines) {
    auto bad_hash = run_dht_command(HYPHAE_BIN, {"lookup", "xyz"}, {});
    EXPECT_EQ(bad_hash.exit_code, 2);
    EXPECT_NE(bad_hash.err.find("40-digit hex"), std::string::npos) << bad_hash.err;
    auto no_target = run_dht_command(HYPHAE_BIN, {"get"}, {});
    EXPECT_EQ(no_target.exit_code, 2);
    auto salt_alone = run_dht_command(HYPHAE_BIN, {"put", "--salt", "x", "v"}, {});
    EXPECT_EQ(salt_alone.exit_code, 2);
    auto too_big = run_dht_command(HYPHAE_BIN, {"put", std::string(1000, 'x')}, {});
    EXPECT_EQ(too_big.exit_code, 2);
    EXPECT_NE(too_big.err.find("BEP 44"), std::string::npos);
    auto nobody = run_dht_command(HYPHAE_BIN, {"lookup", std::string(40, 'a')}, {});
    EXPECT_EQ(nobody.exit_code, 1);
    EXPECT_NE(nobody.err.find("nobody to ask"), std::string::npos) << nobody.err;
    auto bad_bootstrap = run_dht_command(HYPHAE_BIN, {"lookup", std::string(40, 'a')}, {"nowhere"});
    EXPECT_EQ(bad_bootstrap.exit_code, 1);
    EXPECT_NE(bad_bootstrap.err.find("HOST:PORT"), std::string::npos) << bad_bootstrap.err;
}

TEST(dht_cli, a_lookup_with_nobody_to_ask_times_out_cleanly) {
    test::udp_client silent;  // a bootstrap "node" that never answers
    auto lonely = run_dht_command(HYPHAE_BIN, {"lookup", std::string(40, 'b'), "--timeout", "2"},
                                  {"127.0.0.1:" + std::to_string(silent.local_port())});
    // The lookup ends on its own (the only node timed out) or on the deadline: either way with
    // a clear message and no crash.
    EXPECT_TRUE(lonely.exit_code == 0 || lonely.exit_code == 1) << lonely.err;
    EXPECT_FALSE(lonely.timed_out);
}

TEST(dht_cli, garbage_datagrams_do_not_stop_a_node) {
    hyphae_dht_node node(HYPHAE_BIN, {});
    ASSERT_TRUE(node.ready());
    test::udp_client client;
    for (std::string_view junk : {"", "garbage", "d1:t2:aa1:y1:qe", "d1:ad2:id3:abce1:q4:ping1:t2:xy1:y1:qe",
                                  "li1ei2ei3ee", "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re"}) {
        client.send(node.port(), as_bytes(junk));
    }
    // Some junk deserves an answer (error 203 to a query with a transaction id): read replies until
    // the one a request asked for.
    const auto reply_to = [&](std::string_view request, std::string_view tid) -> std::string {
        client.send(node.port(), as_bytes(request));
        while (auto reply = client.receive(5s)) {
            std::string text(as_chars(*reply));
            if (text.find(std::string("1:t2:") + std::string(tid)) != std::string::npos) {
                return text;
            }
        }
        return {};
    };
    EXPECT_NE(reply_to("d1:ad2:id3:abce1:q4:ping1:t2:zz1:y1:qe", "zz").find("i203e"), std::string::npos);
    // And a good ping is still answered.
    const std::string pong = reply_to("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:pp1:y1:qe", "pp");
    EXPECT_NE(pong.find("1:y1:r"), std::string::npos) << pong;
    EXPECT_TRUE(node.process().running());
}

}  // namespace
}  // namespace hyphae
