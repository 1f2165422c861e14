// Real clients that find each other through a Hyphae tracker alone: libtorrent 2.0 and
// Transmission 3.00 announce to `hyphae tracker` over HTTP and over UDP on 127.0.0.1 and complete
// a swarm. No --connect, no peer given by hand.

#include <thread>

#include "hyphae_tracker.hpp"
#include "interop_content.hpp"
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

// Content and a Hyphae tracker that tracks it alone, as a private tracker would.
struct tracked_swarm : test::interop_content {
    std::unique_ptr<test::hyphae_tracker> tracker;

    tracked_swarm()
        : interop_content(HYPHAE_BIN, {{"a.bin", 2'000'003, 21}, {"b/c.bin", 500'001, 22}}, 65536) {
        const std::string allow = dir.write("allow.txt", info_hash + "\n");
        tracker = std::make_unique<test::hyphae_tracker>(HYPHAE_BIN,
                                                         std::vector<std::string>{"--allow", allow, "-v"});
        EXPECT_TRUE(tracker->ready()) << tracker->output();
    }

    // Waits until the tracker's figure at `path` reaches `value`.
    bool wait_stat(const std::string& key, int value, std::chrono::seconds deadline) {
        const auto end = std::chrono::steady_clock::now() + deadline;
        while (std::chrono::steady_clock::now() < end) {
            const auto stats = tracker->stats();
            if (stats.is_object() && stats.value(key, 0) >= value) {
                return true;
            }
            std::this_thread::sleep_for(100ms);  // polling an HTTP figure: there is no event to wait on
        }
        return false;
    }
};

// Transmission 3.00 never dials 127/8 peers that a tracker lists (they are "martian" to it) but
// accepts them: it joins first, and libtorrent's seed, learning of it from the tracker, dials it.
TEST(hyphae_tracker, transmission_downloads_from_libtorrent_found_through_http) {
    ASSERT_TRUE(test::have_program("transmission-daemon") && test::have_program(python));
    tracked_swarm s;
    ASSERT_TRUE(s.tracker->ready());
    const std::string torrent = s.torrent_for(s.tracker->http_url(), "http.torrent");
    test::transmission_daemon daemon(s.dir / "transmission");
    ASSERT_TRUE(daemon.add(torrent, s.dir / "tr"));
    ASSERT_TRUE(daemon.wait_announced(120s)) << daemon.trackers() << s.tracker->output();
    test::background_process seed({python, lt_peer, "seed", torrent, s.dir / "seed", "--port", "0"});
    ASSERT_TRUE(seed.wait_for_line("listening", 20s)) << seed.output();
    ASSERT_TRUE(daemon.wait_complete(120s))
        << daemon.info() << daemon.trackers() << s.tracker->output() << seed.output();
    s.expect_same(s.dir / "tr");
    const auto stats = s.tracker->stats();
    EXPECT_EQ(stats["swarms"], 1) << stats.dump();
    EXPECT_GE(stats["http"]["announces"].get<int>(), 2) << stats.dump();
    EXPECT_TRUE(s.wait_stat("completed", 1, 60s)) << s.tracker->stats().dump();
    EXPECT_EQ(seed.stop(), 0);
    EXPECT_EQ(s.tracker->process().stop(), 0);
}

TEST(hyphae_tracker, libtorrent_downloads_from_transmission_found_through_udp) {
    ASSERT_TRUE(test::have_program("transmission-daemon") && test::have_program(python));
    tracked_swarm s;
    ASSERT_TRUE(s.tracker->ready());
    const std::string torrent = s.torrent_for(s.tracker->udp_url(), "udp.torrent");
    test::transmission_daemon daemon(s.dir / "transmission");
    ASSERT_TRUE(daemon.add(torrent, s.dir / "seed"));
    ASSERT_TRUE(daemon.wait_complete(60s)) << daemon.info();  // its check of the data it seeds
    ASSERT_TRUE(daemon.wait_announced(120s)) << daemon.trackers() << s.tracker->output();
    ASSERT_TRUE(s.wait_stat("seeders", 1, 60s)) << s.tracker->stats().dump();
    test::background_process leech({python, lt_peer, "get", torrent, s.dir / "lt", "--port", "0"});
    auto code = leech.wait(120s);
    ASSERT_TRUE(code) << leech.output() << daemon.info() << s.tracker->output();
    EXPECT_EQ(*code, 0);
    s.expect_same(s.dir / "lt");
    const auto stats = s.tracker->stats();
    EXPECT_GE(stats["udp"]["announces"].get<int>(), 2) << stats.dump();
    EXPECT_GE(stats["udp"]["connects"].get<int>(), 2) << stats.dump();
    EXPECT_EQ(stats["http"]["announces"], 0);
    EXPECT_EQ(s.tracker->process().stop(), 0);
}

// The other two pairings: libtorrent to libtorrent over UDP, with Hyphae downloading too, and the
// unknown torrent refused to a real client.
TEST(hyphae_tracker, libtorrent_and_hyphae_download_from_a_libtorrent_seed_through_udp) {
    ASSERT_TRUE(test::have_program(python));
    tracked_swarm s;
    ASSERT_TRUE(s.tracker->ready());
    const std::string torrent = s.torrent_for(s.tracker->udp_url(), "udp.torrent");
    test::background_process seed({python, lt_peer, "seed", torrent, s.dir / "seed", "--port", "0"});
    ASSERT_TRUE(seed.wait_for_line("listening", 20s)) << seed.output();
    ASSERT_TRUE(s.wait_stat("seeders", 1, 60s)) << s.tracker->stats().dump() << seed.output();
    test::background_process leech({python, lt_peer, "get", torrent, s.dir / "lt", "--port", "0"});
    auto get = test::run(
        {HYPHAE_BIN, "get", torrent, "-o", s.dir / "hy", "--port", "0", "--bind", "127.0.0.1"}, 120s);
    EXPECT_EQ(get.exit_code, 0) << get.err << s.tracker->output();
    auto code = leech.wait(120s);
    ASSERT_TRUE(code) << leech.output();
    EXPECT_EQ(*code, 0);
    s.expect_same(s.dir / "lt");
    s.expect_same(s.dir / "hy");
    EXPECT_EQ(seed.stop(), 0);
}

TEST(hyphae_tracker, a_real_client_is_told_an_unknown_torrent_is_unregistered) {
    ASSERT_TRUE(test::have_program("transmission-daemon"));
    tracked_swarm s;
    ASSERT_TRUE(s.tracker->ready());
    s.dir.write("other/content/x.bin", test::pseudo_random_bytes(100'000, 5));
    const std::string other = s.dir / "other.torrent";
    ASSERT_EQ(test::run({HYPHAE_BIN, "create", s.dir / "other/content", "-o", other, "--tracker",
                         s.tracker->http_url()})
                  .exit_code,
              0);
    test::transmission_daemon daemon(s.dir / "transmission");
    ASSERT_TRUE(daemon.add(other, s.dir / "tr"));
    const auto end = std::chrono::steady_clock::now() + 120s;
    std::string trackers;
    while (std::chrono::steady_clock::now() < end) {
        trackers = daemon.trackers();
        if (trackers.find("unregistered torrent") != std::string::npos) {
            break;
        }
        std::this_thread::sleep_for(200ms);  // Transmission's RPC has no event to wait on
    }
    EXPECT_NE(trackers.find("unregistered torrent"), std::string::npos) << trackers;
    EXPECT_EQ(s.tracker->stats()["swarms"], 0);
}

}  // namespace
}  // namespace hyphae
