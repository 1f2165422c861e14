// Peers that find each other through a tracker alone (opentracker, HTTP and UDP), with Hyphae on
// one side and libtorrent or Transmission on the other. No --peer, no --connect.

#include "interop_content.hpp"
#include "opentracker.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"
#include "transmission.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hyphae {
namespace {

using namespace std::chrono_literals;

const std::string python = "/usr/bin/python3";
const std::string lt_peer = std::string(HYPHAE_SOURCE_DIR) + "/tests/interop/lt_peer.py";

// Content whose info-hash the tracker knows (opentracker tracks only listed info-hashes).
struct tracked_content : test::interop_content {
    std::unique_ptr<test::opentracker> tracker;

    tracked_content()
        : interop_content(HYPHAE_BIN, {{"a.bin", 1'500'007, 11}, {"b/c.bin", 700'001, 12}}, 32768),
          tracker(std::make_unique<test::opentracker>(dir.path().string(),
                                                      std::vector<std::string>{info_hash})) {}
};

std::unique_ptr<test::background_process> hyphae_seed(tracked_content& c, const std::string& torrent) {
    auto p = std::make_unique<test::background_process>(std::vector<std::string>{
        HYPHAE_BIN, "seed", torrent, "--data", c.dir / "seed", "--port", "0", "--bind", "127.0.0.1", "-v"});
    EXPECT_TRUE(p->wait_for_line("announced", 30s)) << "hyphae seed did not announce";
    return p;
}

// Transmission 3.00 never dials loopback peers a tracker lists (127/8 is "martian" to it), but
// accepts them: so it announces first, and the Hyphae seed, finding it through the tracker,
// dials it.
TEST(tracker, transmission_downloads_from_a_hyphae_seed_found_through_an_http_tracker) {
    ASSERT_TRUE(test::have_program("transmission-daemon") && test::have_program("opentracker"));
    tracked_content c;
    const std::string torrent = c.torrent_for(c.tracker->http_url(), "http.torrent");
    test::transmission_daemon daemon(c.dir / "transmission");
    ASSERT_TRUE(daemon.add(torrent, c.dir / "tr"));
    ASSERT_TRUE(daemon.wait_announced(120s)) << daemon.trackers();
    auto seed = hyphae_seed(c, torrent);
    ASSERT_TRUE(daemon.wait_complete(120s)) << daemon.info() << daemon.trackers() << seed->output();
    c.expect_same(c.dir / "tr");
    EXPECT_EQ(seed->stop(), 0);
}

TEST(tracker, libtorrent_finds_a_hyphae_seed_through_a_udp_tracker) {
    ASSERT_TRUE(test::have_program(python) && test::have_program("opentracker"));
    tracked_content c;
    const std::string torrent = c.torrent_for(c.tracker->udp_url(), "udp.torrent");
    auto seed = hyphae_seed(c, torrent);
    test::background_process leech({python, lt_peer, "get", torrent, c.dir / "lt", "--port", "0"});
    auto code = leech.wait(120s);
    ASSERT_TRUE(code) << leech.output() << seed->output();
    EXPECT_EQ(*code, 0);
    c.expect_same(c.dir / "lt");
}

TEST(tracker, hyphae_finds_a_libtorrent_seed_through_an_http_tracker_and_says_stopped) {
    ASSERT_TRUE(test::have_program(python) && test::have_program("opentracker"));
    tracked_content c;
    const std::string torrent = c.torrent_for(c.tracker->http_url(), "http.torrent");
    test::background_process seed({python, lt_peer, "seed", torrent, c.dir / "seed", "--port", "0"});
    ASSERT_TRUE(seed.wait_for_line("listening", 20s));
    // libtorrent announces on its own schedule: hyphae retries the tracker until it lists a peer.
    auto get = test::run(
        {HYPHAE_BIN, "get", torrent, "-o", c.dir / "hy", "--port", "0", "--bind", "127.0.0.1", "-v"}, 180s);
    ASSERT_EQ(get.exit_code, 0) << get.err;
    EXPECT_NE(get.err.find("announced"), std::string::npos);
    c.expect_same(c.dir / "hy");
}

}  // namespace
}  // namespace hyphae
