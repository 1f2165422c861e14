#include "hyphae/runtime/content_scan.hpp"

#include <filesystem>

#include "temp_dir.hpp"
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace hyphae {
using namespace hyphae::bittorrent;
namespace {

std::vector<std::string> paths_of(const content_tree& tree) {
    std::vector<std::string> out;
    for (const auto& f : tree.files) {
        out.push_back(f.path);
    }
    return out;
}

TEST(content_scan, single_file) {
    test::temp_dir dir;
    const std::string path = dir.write("one.bin", "hello");
    auto tree = scan_content(path);
    ASSERT_TRUE(tree) << tree.error().message();
    EXPECT_EQ(tree->name, "one.bin");
    EXPECT_FALSE(tree->multi_file);
    ASSERT_EQ(tree->files.size(), 1u);
    EXPECT_EQ(tree->files[0].size, 5);
    EXPECT_EQ(tree->absolute_path(tree->files[0]), path);
}

TEST(content_scan, folder_in_mktorrent_order_with_hidden_and_empty_files) {
    test::temp_dir dir;
    dir.write("c/a/x", "1");
    dir.write("c/a-b", "22");
    dir.write("c/.hidden", "333");
    dir.write("c/empty", "");
    std::filesystem::create_directories(dir.path() / "c/empty-dir");
    auto tree = scan_content(dir / "c/");
    ASSERT_TRUE(tree) << tree.error().message();
    EXPECT_EQ(tree->name, "c");
    EXPECT_TRUE(tree->multi_file);
    EXPECT_EQ(paths_of(*tree), (std::vector<std::string>{".hidden", "a-b", "a/x", "empty"}));
    EXPECT_EQ(tree->total_size, 6);
    EXPECT_EQ(tree->absolute_path(tree->files[2]), dir / "c/a/x");
}

TEST(content_scan, follows_links_skips_special_files_and_refuses_loops) {
    test::temp_dir dir;
    dir.write("outside/real.txt", "abc");
    dir.write("c/file", "x");
    std::filesystem::create_symlink(dir / "outside", dir.path() / "c/linked");
    std::filesystem::create_symlink(dir / "nowhere", dir.path() / "c/broken");
    ASSERT_EQ(mkfifo((dir / "c/fifo").c_str(), 0600), 0);
    auto tree = scan_content(dir / "c");
    ASSERT_TRUE(tree) << tree.error().message();
    EXPECT_EQ(paths_of(*tree), (std::vector<std::string>{"file", "linked/real.txt"}));
    EXPECT_EQ(tree->warnings.size(), 2u);

    std::filesystem::create_symlink(dir / "c", dir.path() / "c/loop");
    auto looped = scan_content(dir / "c");
    ASSERT_FALSE(looped);
    EXPECT_NE(looped.error().message().find("loop"), std::string::npos);
}

TEST(content_scan, clear_errors_for_missing_empty_and_unreadable) {
    test::temp_dir dir;
    auto missing = scan_content(dir / "nope");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message().find("No such file"), std::string::npos);
    std::filesystem::create_directories(dir.path() / "empty/sub");
    auto empty = scan_content(dir / "empty");
    ASSERT_FALSE(empty);
    EXPECT_NE(empty.error().message().find("holds no files"), std::string::npos);
    if (geteuid() != 0) {  // root reads anything
        dir.write("locked/sub/f", "x");
        std::filesystem::permissions(dir.path() / "locked/sub", std::filesystem::perms::none);
        EXPECT_FALSE(scan_content(dir / "locked"));
        std::filesystem::permissions(dir.path() / "locked/sub", std::filesystem::perms::owner_all);
    }
}

TEST(content_scan, names_dot_after_the_real_folder) {
    test::temp_dir dir;
    dir.write("named/f", "x");
    auto tree = scan_content(dir / "named/.");
    ASSERT_TRUE(tree) << tree.error().message();
    EXPECT_EQ(tree->name, "named");
}

}  // namespace
}  // namespace hyphae
