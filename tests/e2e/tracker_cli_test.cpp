// `hyphae tracker`, the built binary, over real sockets on 127.0.0.1: HTTP and UDP announces on
// one swarm state, the allow-list and its reload, the state file across a restart, and bad input.

#include <csignal>
#include <fstream>
#include <set>

#include "hyphae_tracker.hpp"
#include "loopback_client.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "hyphae/core/encoding.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/proto/tracker/announce.hpp"
#include "hyphae/proto/tracker/scrape.hpp"
#include "hyphae/proto/tracker/udp_tracker_codec.hpp"

namespace hyphae {
using namespace hyphae::tracker;
using namespace hyphae::http;
namespace {

using namespace std::chrono_literals;

sha1_hash hash_of(int n) {
    sha1_hash h;
    h.bytes.fill(static_cast<std::uint8_t>(n));
    return h;
}

announce_request peer(int swarm, int n, std::int64_t left = 1000) {
    announce_request r;
    r.info_hash = hash_of(swarm);
    r.peer_id.bytes.fill(static_cast<std::uint8_t>(n));
    r.port = static_cast<std::uint16_t>(7000 + n);
    r.left = left;
    r.numwant = 50;
    return r;
}

// The tracker under test, with the requests real clients make.
struct tracker_process {
    test::hyphae_tracker tracker;
    test::background_process* process;
    std::uint16_t http;
    std::uint16_t udp;

    explicit tracker_process(const std::vector<std::string>& extra = {})
        : tracker(HYPHAE_BIN, extra),
          process(&tracker.process()),
          http(tracker.http_port()),
          udp(tracker.udp_port()) {}

    bool ready() const { return tracker.ready(); }
    std::string output() const { return tracker.output(); }
    nlohmann::json stats() const { return tracker.stats(); }

    result<announce_response> http_announce(const announce_request& r) const {
        const std::string url = announce_url("http://127.0.0.1/announce", r);
        auto response = test::http_get(http, url.substr(url.find("/announce")));
        if (!response) {
            return fail(errc::io, "test", "no HTTP answer");
        }
        return parse_announce_response(as_bytes(response->body));
    }

    std::optional<udp_tracker_response> udp_announce(test::udp_client& client,
                                                     const announce_request& r) const {
        auto connected = client.exchange(udp, encode_udp_connect(1));
        if (!connected) {
            return std::nullopt;
        }
        auto c = decode_udp_tracker_response(*connected);
        if (!c || action_of(*c) != udp_tracker_action::connect) {
            return std::nullopt;
        }
        auto answer =
            client.exchange(udp, encode_udp_announce(std::get<udp_connect_response>(*c).connection_id, 2, r));
        if (!answer) {
            return std::nullopt;
        }
        auto decoded = decode_udp_tracker_response(*answer);
        return decoded ? std::optional(*decoded) : std::nullopt;
    }
};

TEST(tracker_cli, http_and_udp_peers_share_one_swarm_state) {
    tracker_process t;
    ASSERT_TRUE(t.ready()) << t.output();
    auto a = t.http_announce(peer(1, 1));
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_TRUE(a->peers.empty());

    test::udp_client client;
    auto b = t.udp_announce(client, peer(1, 2, 0));
    ASSERT_TRUE(b);
    const auto& announce = std::get<udp_announce_response>(*b);
    EXPECT_EQ(announce.seeders, 1u);
    EXPECT_EQ(announce.leechers, 1u);
    EXPECT_EQ(announce.peers, std::vector<endpoint>{*endpoint::parse("127.0.0.1:7001")});

    auto c = t.http_announce(peer(1, 3));
    ASSERT_TRUE(c);
    EXPECT_EQ(std::set<endpoint>(c->peers.begin(), c->peers.end()),
              (std::set<endpoint>{*endpoint::parse("127.0.0.1:7001"), *endpoint::parse("127.0.0.1:7002")}));

    auto scrape = test::http_get(t.http, "/scrape?info_hash=" + percent_encode(hash_of(1).chars()));
    ASSERT_TRUE(scrape);
    auto files = parse_scrape_response(as_bytes(scrape->body));
    ASSERT_TRUE(files) << scrape->body;
    ASSERT_EQ(files->files.size(), 1u);
    EXPECT_EQ(files->files[0].complete, 1);
    EXPECT_EQ(files->files[0].incomplete, 2);

    const auto stats = t.stats();
    EXPECT_EQ(stats["swarms"], 1);
    EXPECT_EQ(stats["peers"], 3);
    EXPECT_EQ(stats["udp"]["announces"], 1);
    EXPECT_EQ(stats["http"]["announces"], 2);
    EXPECT_GT(stats["resident_bytes"].get<std::uint64_t>(), 0u);
    auto metrics = test::http_get(t.http, "/metrics");
    ASSERT_TRUE(metrics);
    EXPECT_NE(metrics->body.find("hyphae_tracker_peers 3\n"), std::string::npos);

    EXPECT_EQ(t.process->stop(), 0);
    EXPECT_NE(t.output().find("tracker: stopped"), std::string::npos);
}

TEST(tracker_cli, allow_list_is_enforced_and_reloaded_on_sighup) {
    test::temp_dir dir;
    const std::string list = dir.write("allow.txt", "# test\n" + hash_of(1).to_hex() + "\n");
    tracker_process t({"--allow", list});
    ASSERT_TRUE(t.ready()) << t.output();
    EXPECT_TRUE(t.http_announce(peer(1, 1)));
    auto refused = t.http_announce(peer(2, 1));
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message().find("unregistered torrent"), std::string::npos);
    test::udp_client client;
    auto udp_refused = t.udp_announce(client, peer(2, 1));
    ASSERT_TRUE(udp_refused);
    EXPECT_EQ(std::get<udp_error_response>(*udp_refused).message, "unregistered torrent");

    dir.write("allow.txt", hash_of(2).to_hex() + "\n");
    ::kill(t.process->pid(), SIGHUP);
    ASSERT_TRUE(t.process->wait_for_line("allow-list reloaded: 1 info-hashes, 1 swarms dropped", 10s))
        << t.output();
    EXPECT_TRUE(t.http_announce(peer(2, 1)));
    EXPECT_FALSE(t.http_announce(peer(1, 1)));

    // A list with a typo is refused whole; the previous one stays.
    dir.write("allow.txt", hash_of(1).to_hex() + "\nnot a hash\n");
    ::kill(t.process->pid(), SIGHUP);
    ASSERT_TRUE(t.process->wait_for_line("allow-list not reloaded, keeping the previous one", 10s))
        << t.output();
    EXPECT_NE(t.output().find("allow.txt: allow-list line 2"), std::string::npos) << t.output();
    EXPECT_TRUE(t.http_announce(peer(2, 2)));
    EXPECT_EQ(t.process->stop(), 0);
}

TEST(tracker_cli, state_survives_a_restart) {
    test::temp_dir dir;
    const std::string state = dir / "tracker.state";
    {
        tracker_process t({"--state", state});
        ASSERT_TRUE(t.ready()) << t.output();
        EXPECT_NE(t.output().find("none yet, starting empty"), std::string::npos);
        ASSERT_TRUE(t.http_announce(peer(1, 1, 0)));
        ASSERT_TRUE(t.http_announce(peer(1, 2)));
        ASSERT_EQ(t.process->stop(), 0);
        EXPECT_NE(t.output().find("state saved to " + state + " (1 swarms, 2 peers"), std::string::npos)
            << t.output();
    }
    {
        tracker_process t({"--state", state});
        ASSERT_TRUE(t.ready()) << t.output();
        EXPECT_NE(t.output().find("restored 1 swarms and 2 peers"), std::string::npos) << t.output();
        auto again = t.http_announce(peer(1, 3));
        ASSERT_TRUE(again);
        EXPECT_EQ(again->complete, 1);
        EXPECT_EQ(again->incomplete, 2);
        EXPECT_EQ(again->peers.size(), 2u);
        ASSERT_EQ(t.process->stop(), 0);
    }
    // A damaged file is set aside, not lost, and the tracker starts empty.
    std::string bytes = test::read_file(state);
    bytes[bytes.size() / 2] ^= 1;
    dir.write("tracker.state", bytes);
    tracker_process t({"--state", state});
    ASSERT_TRUE(t.ready()) << t.output();
    EXPECT_NE(t.output().find("not restored (tracker state: checksum mismatch"), std::string::npos)
        << t.output();
    EXPECT_EQ(test::read_file(state + ".unreadable"), bytes);
    EXPECT_EQ(t.stats()["swarms"], 0);
}

TEST(tracker_cli, bad_input_is_refused_and_the_tracker_keeps_serving) {
    tracker_process t({"--rate-limit", "20", "-v"});
    ASSERT_TRUE(t.ready()) << t.output();
    // Malformed HTTP: 400, then the connection closes.
    for (const std::string& junk :
         {std::string("GARBAGE\r\n\r\n"), std::string("GET /announce HTTP/1.1\r\n\r\n"),
          "GET /" + std::string(10000, 'a') + " HTTP/1.1\r\n",
          std::string("GET /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\n")}) {
        test::tcp_client c(t.http);
        c.send(junk);
        auto r = c.read_response();
        ASSERT_TRUE(r) << junk.substr(0, 40);
        EXPECT_EQ(r->status, 400) << junk.substr(0, 40);
        EXPECT_TRUE(c.closed_by_server()) << junk.substr(0, 40);
    }
    // Unknown paths, bad parameters.
    EXPECT_EQ(test::http_get(t.http, "/nowhere")->status, 404);
    EXPECT_NE(test::http_get(t.http, "/announce?info_hash=%zz")->body.find("malformed percent-encoding"),
              std::string::npos);
    // UDP junk from another address: short datagrams get nothing, others an error no larger than themselves.
    test::udp_client junk("127.0.0.2");
    rng random(1);
    for (int i = 0; i < 300; ++i) {
        byte_buffer datagram(random.uniform(200));
        for (auto& b : datagram) {
            b = static_cast<std::uint8_t>(random());
        }
        junk.send(t.udp, datagram);
    }
    while (auto reply = junk.receive(500ms)) {
        EXPECT_LE(reply->size(), 200u);
    }
    // A flood from one address is cut off; another address is still served.
    test::udp_client flood("127.0.0.3");
    for (int i = 0; i < 500; ++i) {
        flood.send(t.udp, encode_udp_connect(static_cast<std::uint32_t>(i)));
    }
    int answered = 0;
    while (flood.receive(500ms)) {
        ++answered;
    }
    EXPECT_GE(answered, 80);  // the burst (4 x 20) and what refilled meanwhile
    EXPECT_LT(answered, 400);
    test::udp_client honest("127.0.0.4");
    auto ok = t.udp_announce(honest, peer(1, 1));
    ASSERT_TRUE(ok);
    EXPECT_EQ(action_of(*ok), udp_tracker_action::announce);
    const auto stats = t.stats();
    EXPECT_GT(stats["rate_limited"].get<int>(), 0);
    EXPECT_GT(stats["udp"]["malformed"].get<int>() + stats["udp"]["bad_connection_ids"].get<int>(), 0);
    EXPECT_EQ(stats["http"]["malformed"], 4);
    EXPECT_EQ(t.process->stop(), 0);
    EXPECT_NE(t.output().find("tracker: http 127.0.0.1:"), std::string::npos) << "-v prints refusals";
}

TEST(tracker_cli, refuses_a_bad_command_line_or_allow_list_or_port_clearly) {
    auto bad_port = test::run({HYPHAE_BIN, "tracker", "--http", "70000"});
    EXPECT_EQ(bad_port.exit_code, 2) << bad_port.err;
    test::temp_dir dir;
    auto missing = test::run({HYPHAE_BIN, "tracker", "--http", "0", "--allow", dir / "missing.txt"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.err.find("missing.txt"), std::string::npos) << missing.err;
    auto bad_list = test::run({HYPHAE_BIN, "tracker", "--http", "0", "--allow", dir.write("l.txt", "xyz\n")});
    EXPECT_EQ(bad_list.exit_code, 1);
    EXPECT_NE(bad_list.err.find("l.txt: allow-list line 1: 'xyz' is not a 40-digit hex info-hash"),
              std::string::npos)
        << bad_list.err;
    tracker_process t;
    ASSERT_TRUE(t.ready());
    auto taken = test::run({HYPHAE_BIN, "tracker", "--bind", "127.0.0.1", "--udp", std::to_string(t.udp)});
    EXPECT_EQ(taken.exit_code, 1);
    EXPECT_NE(taken.err.find("udp on 127.0.0.1:" + std::to_string(t.udp)), std::string::npos) << taken.err;
}

}  // namespace
}  // namespace hyphae
