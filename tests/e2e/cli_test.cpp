// The built `hyphae` binary, driven the way users and other tools drive it.

#include <algorithm>
#include <sstream>

#include "subprocess.hpp"
#include "temp_dir.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/sha.hpp"

namespace hyphae {
namespace {

test::run_result hyphae(std::vector<std::string> args, const std::string& cwd = {}) {
    args.insert(args.begin(), HYPHAE_BIN);
    return test::run(args, std::chrono::seconds(60), cwd);
}

// The subcommands a CLI11 `--help` lists: the lines under "Subcommands:" that start with two
// spaces and a name (a wrapped description starts further right), up to the first other line.
std::vector<std::string> subcommands_in(const std::string& help) {
    std::vector<std::string> names;
    std::istringstream in(help);
    std::string line;
    bool listing = false;
    while (std::getline(in, line)) {
        if (!listing) {
            listing = line == "Subcommands:";
            continue;
        }
        if (line.rfind("  ", 0) == 0 && line.size() > 2 && line[2] != ' ') {
            names.push_back(line.substr(2, line.find(' ', 2) - 2));
        } else if (line.rfind("   ", 0) != 0) {
            break;
        }
    }
    return names;
}

// The first line of a `--help` that starts with "Usage:", or empty.
std::string usage_line(const std::string& help) {
    std::istringstream in(help);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("Usage:", 0) == 0) {
            return line;
        }
    }
    return {};
}

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const std::string& w : words) {
        out += (out.empty() ? "" : " ") + w;
    }
    return out;
}

// Walks the commands from the binary's own --help down, so that a new command or subcommand is
// covered without a word here.
TEST(cli, every_command_has_help) {
    constexpr std::size_t commands_max = 64;  // a bound on the walk, far above what there is
    std::vector<std::string> found;
    std::vector<std::vector<std::string>> pending = {{}};
    while (!pending.empty()) {
        const std::vector<std::string> path = pending.back();
        pending.pop_back();
        std::vector<std::string> args = path;
        args.push_back("--help");
        const auto r = hyphae(args);
        const std::string name = joined(path);
        EXPECT_EQ(r.exit_code, 0) << "hyphae " << name << " --help\n" << r.err;
        // Its own usage, not its parent's.
        const std::string usage = "Usage: hyphae " + name + (path.empty() ? "" : " ");
        EXPECT_EQ(usage_line(r.out).substr(0, usage.size()), usage) << r.out;
        for (const std::string& sub : subcommands_in(r.out)) {
            std::vector<std::string> longer = path;
            longer.push_back(sub);
            found.push_back(joined(longer));
            pending.push_back(longer);
        }
        ASSERT_LE(found.size(), commands_max) << testing::PrintToString(found);
    }
    // The walk reads the help as it is printed today: at least these are in it.
    for (const char* known : {"create", "info", "get", "seed", "verify", "demo", "tracker", "dht", "dht run",
                              "dht lookup", "dht announce", "dht put", "dht get", "sim"}) {
        EXPECT_TRUE(std::find(found.begin(), found.end(), known) != found.end())
            << known << " is missing from " << testing::PrintToString(found);
    }
    auto version = hyphae({"--version"});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_NE(version.out.find("hyphae"), std::string::npos);
}

TEST(cli, usage_errors_exit_2_with_a_message) {
    for (const std::vector<std::string>& args : {std::vector<std::string>{},
                                                 {"nonsense"},
                                                 {"create"},
                                                 {"create", "x", "--piece-size", "lots"},
                                                 {"create", "x", "--threads", "0"},
                                                 {"info"}}) {
        auto r = hyphae(args);
        EXPECT_EQ(r.exit_code, 2) << testing::PrintToString(args) << r.err;
        EXPECT_FALSE(r.err.empty()) << testing::PrintToString(args);
    }
}

TEST(cli, create_then_info_reports_what_was_created) {
    test::temp_dir dir;
    dir.write("tree/a/one.bin", test::pseudo_random_bytes(100000, 1));
    dir.write("tree/two.txt", "hello");
    dir.write("tree/empty", "");
    auto created = hyphae({"create", dir / "tree", "-o", dir / "t.torrent", "--tracker",
                           "http://t1/a,http://t2/a", "--tracker", "udp://t3:80", "--web-seed", "http://w/",
                           "--piece-size", "16K", "--private", "--comment", "a comment"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    EXPECT_NE(created.out.find("created " + (dir / "t.torrent")), std::string::npos);
    EXPECT_NE(created.err.find("hashing"), std::string::npos) << "progress is shown";

    auto info = hyphae({"info", "--json", dir / "t.torrent"});
    ASSERT_EQ(info.exit_code, 0) << info.err;
    const auto j = nlohmann::json::parse(info.out);
    EXPECT_EQ(j["name"], "tree");
    EXPECT_EQ(j["total_size"], 100005);
    EXPECT_EQ(j["piece_length"], 16384);
    EXPECT_EQ(j["piece_count"], 7);
    EXPECT_EQ(j["private"], true);
    EXPECT_EQ(j["comment"], "a comment");
    EXPECT_EQ(j["trackers"], nlohmann::json::parse(R"([["http://t1/a","http://t2/a"],["udp://t3:80"]])"));
    EXPECT_EQ(j["web_seeds"], nlohmann::json::parse(R"(["http://w/"])"));
    ASSERT_EQ(j["files"].size(), 3u);
    EXPECT_EQ(j["files"][0]["path"], "tree/a/one.bin");
    EXPECT_EQ(j["files"][1]["path"], "tree/empty");
    EXPECT_NE(created.out.find(j["info_hash"].get<std::string>()), std::string::npos);

    auto text = hyphae({"info", dir / "t.torrent"});
    ASSERT_EQ(text.exit_code, 0);
    for (const char* part : {"name:        tree", "pieces:      7 x 16.0 KiB", "private:     yes",
                             "tier 2: udp://t3:80", "tree/a/one.bin"}) {
        EXPECT_NE(text.out.find(part), std::string::npos) << part << "\n" << text.out;
    }
}

TEST(cli, create_defaults_to_name_dot_torrent_and_refuses_to_overwrite) {
    test::temp_dir dir;
    dir.write("file.iso", test::pseudo_random_bytes(40000, 2));
    auto first = hyphae({"create", "file.iso", "--no-date"}, dir.path().string());
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const std::string torrent = test::read_file(dir / "file.iso.torrent");
    auto doc = bdecode(as_bytes(torrent));
    ASSERT_TRUE(doc);
    EXPECT_FALSE(doc->root().find("creation date").valid());
    EXPECT_EQ(doc->root().find_string("created by")->substr(0, 6), "hyphae");
    // 40000 bytes: the smallest piece size, 16 KiB.
    EXPECT_EQ(doc->root().find("info").find_int("piece length"), 16384);

    auto again = hyphae({"create", "file.iso"}, dir.path().string());
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_NE(again.err.find("already exists (--force replaces it)"), std::string::npos) << again.err;
    auto forced = hyphae({"create", "file.iso", "--force", "--comment", "new"}, dir.path().string());
    EXPECT_EQ(forced.exit_code, 0) << forced.err;
    EXPECT_NE(test::read_file(dir / "file.iso.torrent").find("7:comment3:new"), std::string::npos);
}

TEST(cli, create_fails_clearly) {
    test::temp_dir dir;
    auto missing = hyphae({"create", dir / "missing"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.err.find("No such file or directory"), std::string::npos) << missing.err;
    dir.write("e/empty", "");
    auto empty = hyphae({"create", dir / "e", "-o", dir / "e.torrent"});
    EXPECT_EQ(empty.exit_code, 1);
    EXPECT_NE(empty.err.find("no content"), std::string::npos) << empty.err;
    dir.write("f", "x");
    auto odd_piece = hyphae({"create", dir / "f", "--piece-size", "20000"});
    EXPECT_EQ(odd_piece.exit_code, 1);
    EXPECT_NE(odd_piece.err.find("power of two"), std::string::npos) << odd_piece.err;
}

TEST(cli, info_on_a_magnet_link) {
    const std::string hex = "0123456789abcdef0123456789abcdef01234567";
    auto r = hyphae({"info", "--json",
                     "magnet:?xt=urn:btih:" + hex + "&dn=Some+Name&tr=udp%3A%2F%2Ft%3A1&x.pe=1.2.3.4:5"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["info_hash"], hex);
    EXPECT_EQ(j["name"], "Some Name");
    EXPECT_EQ(j["trackers"][0], "udp://t:1");
    EXPECT_EQ(j["peers"][0], "1.2.3.4:5");
    auto text = hyphae({"info", "magnet:?xt=urn:btih:" + hex});
    EXPECT_EQ(text.exit_code, 0);
    EXPECT_NE(text.out.find("info-hash:   " + hex), std::string::npos);
    auto bad = hyphae({"info", "magnet:?xt=urn:btih:nothex"});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.err.find("magnet link: xt"), std::string::npos) << bad.err;
}

TEST(cli, info_rejects_bad_torrents_with_the_reason) {
    test::temp_dir dir;
    const std::string torrent =
        dir.write("bad.torrent", "d4:infod6:lengthi-1e4:name1:x12:piece lengthi16384e6:pieces0:ee");
    auto r = hyphae({"info", torrent});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(torrent + ": info.length: negative length -1"), std::string::npos) << r.err;
    const std::string garbage = dir.write("garbage.torrent", "not bencode");
    auto g = hyphae({"info", garbage});
    EXPECT_EQ(g.exit_code, 1);
    EXPECT_NE(g.err.find("bencode"), std::string::npos) << g.err;
    auto missing = hyphae({"info", dir / "missing.torrent"});
    EXPECT_EQ(missing.exit_code, 1);
}

TEST(cli, info_lists_the_first_files_unless_asked_for_all) {
    test::temp_dir dir;
    for (int i = 0; i < 25; ++i) {
        dir.write("many/f" + std::to_string(100 + i), "x");
    }
    ASSERT_EQ(hyphae({"create", dir / "many", "-o", dir / "m.torrent"}).exit_code, 0);
    auto some = hyphae({"info", dir / "m.torrent"});
    EXPECT_NE(some.out.find("5 more (--all-files lists them)"), std::string::npos) << some.out;
    auto all = hyphae({"info", "--all-files", dir / "m.torrent"});
    EXPECT_NE(all.out.find("many/f124"), std::string::npos);
}

TEST(cli, demo_runs_a_seeder_and_leechers_that_end_with_identical_copies) {
    test::temp_dir dir;
    auto r = hyphae(
        {"demo", "--dir", dir.path().string(), "--size", "6M", "--leechers", "3", "--seed-rate", "2M"});
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    for (const char* part : {"[1/4]", "[2/4]", "with the demo's Hyphae tracker, udp://127.0.0.1:",
                             "[3/4] 1 seeder", "3 leechers find each other through the tracker",
                             "[4/4] summary", "from 4 peers of 1 swarm; no peer was given an address",
                             "copies identical to the original: yes", "kept"}) {
        EXPECT_NE(r.out.find(part), std::string::npos) << part << "\n" << r.out;
    }
    // The seeder's upload was capped: the leechers must have traded with each other.
    const std::size_t at = r.out.find("the leechers sent each other ");
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(r.out.find("the leechers sent each other 0 B"), std::string::npos) << r.out;
    for (int i = 1; i <= 3; ++i) {
        EXPECT_EQ(test::read_file(dir / ("leecher-" + std::to_string(i) + "/sample/media/clip-1.bin")),
                  test::read_file(dir / "seeder/sample/media/clip-1.bin"));
    }
}

}  // namespace
}  // namespace hyphae
