// Cross-checks with the tools BitTorrent users have: the same tree and piece size give
// mktorrent's info-hash; torrents made by mktorrent, transmission-create and libtorrent parse,
// and report the info-hash libtorrent reports. scripts/setup.sh installs the tools.

#include "subprocess.hpp"
#include "temp_dir.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hyphae {
namespace {

const std::string debian_python = "/usr/bin/python3";
const std::string lt_tool = std::string(HYPHAE_SOURCE_DIR) + "/tests/interop/lt_tool.py";

void require(const std::string& program) {
    ASSERT_TRUE(test::have_program(program)) << program << " is missing: run scripts/setup.sh build test";
}

test::run_result run_ok(const std::vector<std::string>& args, const std::string& cwd = {}) {
    auto r = test::run(args, std::chrono::seconds(120), cwd);
    EXPECT_EQ(r.exit_code, 0) << testing::PrintToString(args) << "\nstdout: " << r.out
                              << "\nstderr: " << r.err;
    return r;
}

nlohmann::json hyphae_info(const std::string& torrent) {
    auto r = run_ok({HYPHAE_BIN, "info", "--json", torrent});
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json{};
}

nlohmann::json libtorrent_info(const std::string& torrent) {
    auto r = run_ok({debian_python, lt_tool, "info", torrent});
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json{};
}

// Trees that catch ordering and edge cases: names that sort differently byte-wise and
// component-wise, empty files, hidden files, deep folders, UTF-8 names, one piece-straddling file.
void make_tree(const test::temp_dir& dir, const std::string& root) {
    dir.write(root + "/a/x.bin", test::pseudo_random_bytes(70000, 1));
    dir.write(root + "/a-b/y.bin", test::pseudo_random_bytes(33333, 2));
    dir.write(root + "/a.txt", "a text file\n");
    dir.write(root + "/B/upper", test::pseudo_random_bytes(16384, 3));
    dir.write(root + "/empty", "");
    dir.write(root + "/.hidden/z", "z");
    dir.write(root + "/deep/er/and/deeper/leaf", test::pseudo_random_bytes(1, 4));
    dir.write(root + "/\xc3\xa9t\xc3\xa9.txt", "utf-8 name");
    dir.write(root + "/zz-large.bin", test::pseudo_random_bytes(1 << 21, 5));
}

TEST(mktorrent, same_tree_and_piece_size_give_the_same_info_hash) {
    require("mktorrent");
    test::temp_dir dir;
    make_tree(dir, "tree");
    dir.write("single.bin", test::pseudo_random_bytes(300001, 6));
    for (const std::string target : {"tree", "single.bin"}) {
        for (int log2 : {15, 16, 18, 20}) {
            const std::string m = dir / (target + std::to_string(log2) + ".m.torrent");
            const std::string h = dir / (target + std::to_string(log2) + ".h.torrent");
            run_ok({"mktorrent", "-l", std::to_string(log2), "-a", "http://127.0.0.1:1/announce", "-o", m,
                    target},
                   dir.path().string());
            run_ok({HYPHAE_BIN, "create", target, "-o", h, "--piece-size", std::to_string(1 << log2),
                    "--tracker", "http://127.0.0.1:1/announce"},
                   dir.path().string());
            const auto from_mktorrent = hyphae_info(m);
            const auto from_hyphae = hyphae_info(h);
            EXPECT_EQ(from_hyphae["info_hash"], from_mktorrent["info_hash"]) << target << " 2^" << log2;
            EXPECT_EQ(from_hyphae["files"], from_mktorrent["files"]) << target;
        }
    }
}

TEST(mktorrent, private_torrents_match_too) {
    require("mktorrent");
    test::temp_dir dir;
    make_tree(dir, "tree");
    run_ok({"mktorrent", "-p", "-l", "16", "-a", "http://t/a", "-o", dir / "m.torrent", "tree"},
           dir.path().string());
    run_ok({HYPHAE_BIN, "create", "tree", "--private", "--piece-size", "64K", "-o", dir / "h.torrent"},
           dir.path().string());
    EXPECT_EQ(hyphae_info(dir / "h.torrent")["info_hash"], hyphae_info(dir / "m.torrent")["info_hash"]);
    EXPECT_EQ(hyphae_info(dir / "h.torrent")["private"], true);
}

TEST(libtorrent, reports_the_info_hash_hyphae_reports_for_mktorrent_transmission_and_hyphae_torrents) {
    require("mktorrent");
    require("transmission-create");
    require(debian_python);
    test::temp_dir dir;
    make_tree(dir, "tree");
    run_ok({"mktorrent", "-l", "16", "-a", "http://t/a", "-o", dir / "mk.torrent", "tree"},
           dir.path().string());
    run_ok({"transmission-create", "-s", "64", "-t", "http://t/a", "-o", dir / "tr.torrent", "tree"},
           dir.path().string());
    run_ok({HYPHAE_BIN, "create", "tree", "-o", dir / "hy.torrent"}, dir.path().string());
    for (const char* name : {"mk.torrent", "tr.torrent", "hy.torrent"}) {
        const auto ours = hyphae_info(dir / name);
        const auto theirs = libtorrent_info(dir / name);
        EXPECT_EQ(ours["info_hash"], theirs["v1"]) << name;
        EXPECT_EQ(ours["total_size"], theirs["total_size"]) << name;
        EXPECT_EQ(ours["piece_count"], theirs["num_pieces"]) << name;
        EXPECT_EQ(ours["name"], theirs["name"]) << name;
    }
}

TEST(libtorrent, v1_and_hybrid_torrents_it_makes_parse_with_its_info_hashes) {
    require(debian_python);
    test::temp_dir dir;
    make_tree(dir, "tree");
    dir.write("one.bin", test::pseudo_random_bytes(100000, 9));
    for (const std::string target : {"tree", "one.bin"}) {
        for (const std::string mode : {"v1", "hybrid"}) {
            const std::string torrent = dir / (target + "." + mode + ".torrent");
            run_ok({debian_python, lt_tool, "create", dir / target, torrent, "16384", mode});
            const auto ours = hyphae_info(torrent);
            const auto theirs = libtorrent_info(torrent);
            EXPECT_EQ(ours["info_hash"], theirs["v1"]) << target << " " << mode;
            EXPECT_EQ(ours["format"], mode) << target;
            if (mode == "hybrid") {
                EXPECT_EQ(ours["info_hash_v2"], theirs["v2"]) << target;
            }
            std::vector<std::string> our_files;
            for (const auto& f : ours["files"]) {
                if (!f["pad"].get<bool>()) {
                    our_files.push_back(f["path"]);
                }
            }
            std::vector<std::string> their_files = theirs["files"];
            EXPECT_EQ(our_files, their_files) << target << " " << mode;
        }
    }
}

TEST(libtorrent, v2_only_torrents_are_refused_with_their_v2_info_hash) {
    require(debian_python);
    test::temp_dir dir;
    make_tree(dir, "tree");
    const std::string torrent = dir / "v2.torrent";
    run_ok({debian_python, lt_tool, "create", dir / "tree", torrent, "16384", "v2"});
    const auto theirs = libtorrent_info(torrent);
    ASSERT_TRUE(theirs["v2"].is_string());
    auto r = test::run({HYPHAE_BIN, "info", torrent});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("v2-only torrent (BEP 52) is not supported; its v2 info-hash is " +
                         theirs["v2"].get<std::string>()),
              std::string::npos)
        << r.err;
}

}  // namespace
}  // namespace hyphae
