// Hyphae against real BitTorrent clients on 127.0.0.1: libtorrent 2.0 (python3-libtorrent, TCP
// only) and Transmission 3.00. Every peer is started by the test and stopped by its PID; every
// download is compared byte for byte. scripts/setup.sh installs the clients.

#include <filesystem>

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

void require(const std::string& program) {
    ASSERT_TRUE(test::have_program(program)) << program << " is missing: run scripts/setup.sh build test";
}

// A folder of three files with sizes that straddle pieces, and its torrent.
struct shared_content : test::interop_content {
    explicit shared_content(std::size_t scale = 1, std::int64_t piece = 32768)
        : interop_content(HYPHAE_BIN,
                          {{"one.bin", 1'000'003 * scale, 1},
                           {"sub/two.bin", 2'500'001 * scale, 2},
                           {"three.txt", 77 * scale, 3}},
                          piece) {}
};

std::uint16_t port_from(const std::optional<std::string>& line) {
    if (!line) {
        return 0;
    }
    return static_cast<std::uint16_t>(std::stoi(
        line->substr(line->rfind(':') != std::string::npos && line->find("listening on") != std::string::npos
                         ? line->rfind(':') + 1
                         : line->rfind(' ') + 1)));
}

std::unique_ptr<test::background_process> hyphae_seed(const shared_content& c, std::uint16_t& port) {
    auto p = std::make_unique<test::background_process>(std::vector<std::string>{
        HYPHAE_BIN, "seed", c.torrent, "--data", c.dir / "seed", "--port", "0", "--bind", "127.0.0.1"});
    port = port_from(p->wait_for_line("listening on", 20s));
    EXPECT_NE(port, 0) << "hyphae seed did not start";
    EXPECT_TRUE(p->wait_for_line("checked:", 60s)) << "hyphae seed did not verify its data";
    return p;
}

std::unique_ptr<test::background_process> libtorrent_peer(const std::vector<std::string>& args,
                                                          std::uint16_t& port) {
    std::vector<std::string> argv = {python, lt_peer};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = std::make_unique<test::background_process>(argv);
    port = port_from(p->wait_for_line("listening", 20s));
    EXPECT_NE(port, 0) << "libtorrent did not start";
    return p;
}

TEST(libtorrent, downloads_from_hyphae) {
    require(python);
    shared_content c;
    std::uint16_t seed_port = 0;
    auto seed = hyphae_seed(c, seed_port);
    std::uint16_t lt_port = 0;
    auto leech = libtorrent_peer({"get", c.torrent, c.dir / "lt", "--port", "0", "--connect",
                                  "127.0.0.1:" + std::to_string(seed_port)},
                                 lt_port);
    auto code = leech->wait(120s);
    ASSERT_TRUE(code) << "libtorrent did not finish\n" << leech->output() << seed->output();
    EXPECT_EQ(*code, 0);
    c.expect_same(c.dir / "lt");
    EXPECT_EQ(seed->stop(), 0) << "hyphae seed exits cleanly on SIGTERM\n" << seed->output();
}

TEST(libtorrent, seeds_to_hyphae) {
    require(python);
    shared_content c;
    std::uint16_t lt_port = 0;
    auto seed = libtorrent_peer({"seed", c.torrent, c.dir / "seed", "--port", "0"}, lt_port);
    auto get = test::run({HYPHAE_BIN, "get", c.torrent, "-o", c.dir / "hy", "--peer",
                          "127.0.0.1:" + std::to_string(lt_port), "--port", "0", "--bind", "127.0.0.1"},
                         120s);
    ASSERT_EQ(get.exit_code, 0) << get.err << "\n" << seed->output();
    EXPECT_NE(get.err.find("complete:"), std::string::npos);
    c.expect_same(c.dir / "hy");
}

TEST(libtorrent, is_the_only_metadata_source_for_a_magnet_download) {
    require(python);
    shared_content c;
    std::uint16_t lt_port = 0;
    auto seed = libtorrent_peer({"seed", c.torrent, c.dir / "seed", "--port", "0"}, lt_port);
    const std::string magnet = "magnet:?xt=urn:btih:" + c.info_hash + "&dn=content";
    auto get = test::run({HYPHAE_BIN, "get", magnet, "-o", c.dir / "hy", "--peer",
                          "127.0.0.1:" + std::to_string(lt_port), "--port", "0", "--bind", "127.0.0.1"},
                         120s);
    ASSERT_EQ(get.exit_code, 0) << get.err;
    EXPECT_NE(get.err.find("metadata received"), std::string::npos);
    c.expect_same(c.dir / "hy");
}

TEST(libtorrent, a_corrupt_libtorrent_seeder_is_banned_and_hyphae_finishes_from_an_honest_one) {
    require(python);
    shared_content c;
    // libtorrent seeds without checking (seed mode): damage one piece of its copy.
    std::filesystem::copy(c.dir.path() / "seed", c.dir.path() / "bad",
                          std::filesystem::copy_options::recursive);
    {
        std::string bytes = test::read_file(c.dir / "bad/content/one.bin");
        bytes[100000] ^= 0x5a;
        c.dir.write("bad/content/one.bin", bytes);
    }
    std::uint16_t bad_port = 0;
    auto bad = libtorrent_peer({"seed", c.torrent, c.dir / "bad", "--port", "0"}, bad_port);
    std::uint16_t good_port = 0;
    auto good = hyphae_seed(c, good_port);
    auto get = test::run(
        {HYPHAE_BIN, "get", c.torrent, "-o", c.dir / "hy", "--peer", "127.0.0.1:" + std::to_string(bad_port),
         "--peer", "127.0.0.1:" + std::to_string(good_port), "--port", "0", "--bind", "127.0.0.1"},
        120s);
    ASSERT_EQ(get.exit_code, 0) << get.err;
    c.expect_same(c.dir / "hy");
    // The damaged piece may have come from the honest seed first; if the bad one sent it, it is gone.
    if (get.err.find("banned") != std::string::npos) {
        EXPECT_NE(get.err.find("banned 127.0.0.1:" + std::to_string(bad_port)), std::string::npos) << get.err;
    }
}

TEST(transmission, seeds_to_hyphae) {
    require("transmission-daemon");
    require("transmission-remote");
    shared_content c;
    test::transmission_daemon daemon(c.dir / "transmission");
    ASSERT_TRUE(daemon.add(c.torrent, c.dir / "seed"));
    ASSERT_TRUE(daemon.wait_complete(60s)) << daemon.info();
    auto get =
        test::run({HYPHAE_BIN, "get", c.torrent, "-o", c.dir / "hy", "--peer",
                   "127.0.0.1:" + std::to_string(daemon.peer_port()), "--port", "0", "--bind", "127.0.0.1"},
                  120s);
    ASSERT_EQ(get.exit_code, 0) << get.err << "\n" << daemon.info();
    c.expect_same(c.dir / "hy");
}

TEST(mixed_swarm, one_hyphae_seed_and_libtorrent_hyphae_libtorrent_leechers) {
    require(python);
    shared_content c(2);
    std::uint16_t seed_port = 0;
    auto seed = hyphae_seed(c, seed_port);
    const std::string seed_at = "127.0.0.1:" + std::to_string(seed_port);
    std::uint16_t lt1_port = 0;
    auto lt1 = libtorrent_peer(
        {"get", c.torrent, c.dir / "lt1", "--port", "0", "--connect", seed_at, "--seed-after"}, lt1_port);
    const std::string lt1_at = "127.0.0.1:" + std::to_string(lt1_port);
    auto hy = std::make_unique<test::background_process>(std::vector<std::string>{
        HYPHAE_BIN, "get", c.torrent, "-o", c.dir / "hy", "--peer", seed_at, "--peer", lt1_at, "--port", "0",
        "--bind", "127.0.0.1", "--seed-ratio", "100"});
    const std::uint16_t hy_port = port_from(hy->wait_for_line("listening on", 20s));
    std::uint16_t lt2_port = 0;
    auto lt2 = libtorrent_peer({"get", c.torrent, c.dir / "lt2", "--port", "0", "--connect", seed_at,
                                "--connect", "127.0.0.1:" + std::to_string(hy_port), "--connect", lt1_at},
                               lt2_port);
    ASSERT_TRUE(hy->wait_for_line("complete:", 120s)) << hy->output();
    ASSERT_TRUE(lt1->wait_for_line("finished", 120s)) << lt1->output();
    auto code = lt2->wait(120s);
    ASSERT_TRUE(code) << lt2->output();
    EXPECT_EQ(*code, 0);
    c.expect_same(c.dir / "hy");
    c.expect_same(c.dir / "lt1");
    c.expect_same(c.dir / "lt2");
}

TEST(crash, kill_9_during_a_download_then_restart_finishes_and_keeps_what_was_verified) {
    require(python);
    shared_content c(8, 65536);  // about 28 MB
    std::uint16_t lt_port = 0;
    // 4 MB/s: the download takes several seconds, time to kill it half way.
    auto seed = libtorrent_peer(
        {"seed", c.torrent, c.dir / "seed", "--port", "0", "--upload-limit", "4000000"}, lt_port);
    const std::string seed_at = "127.0.0.1:" + std::to_string(lt_port);
    const std::vector<std::string> get = {HYPHAE_BIN, "get",    c.torrent, "-o",     c.dir / "hy", "--peer",
                                          seed_at,    "--port", "0",       "--bind", "127.0.0.1"};
    {
        test::background_process first(get);
        ASSERT_TRUE(first.wait_for_line("listening on", 20s));
        // Wait until a good part is verified, then crash it.
        const auto far_enough = first.wait_for_line(
            [](const std::string& line) {
                return line.find('%') != std::string::npos && std::atof(line.c_str()) >= 30.0;
            },
            120s);
        ASSERT_TRUE(far_enough) << first.output();
        ASSERT_LT(std::atof(far_enough->c_str()), 90.0)
            << "the crash must come in the middle of the download";
        first.kill_now();
    }
    auto second = test::run(get, 120s);
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_NE(second.err.find("checked:"), std::string::npos)
        << "the restart checks what resume data does not vouch for";
    c.expect_same(c.dir / "hy");
    auto verify = test::run({HYPHAE_BIN, "verify", c.torrent, "--data", c.dir / "hy"}, 60s);
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    seed->stop();
    // Bytes the seed sent in all, against the size: what the crash cost.
    std::int64_t uploaded = 0;
    for (const std::string& line : seed->lines()) {
        if (line.rfind("uploaded ", 0) == 0) {
            uploaded = std::stoll(line.substr(9));
        }
    }
    std::int64_t total = 0;
    for (const char* f : {"one.bin", "sub/two.bin", "three.txt"}) {
        total += static_cast<std::int64_t>(std::filesystem::file_size(c.dir.path() / "seed/content" / f));
    }
    EXPECT_GE(uploaded, total);
    std::printf("[ crash    ] %lld of %lld bytes fetched twice (%.1f %%)\n",
                static_cast<long long>(uploaded - total), static_cast<long long>(total),
                100.0 * static_cast<double>(uploaded - total) / static_cast<double>(total));
}

}  // namespace
}  // namespace hyphae
