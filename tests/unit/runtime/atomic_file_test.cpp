#include "hyphae/runtime/atomic_file.hpp"

#include <filesystem>

#include "temp_dir.hpp"
#include <gtest/gtest.h>

namespace hyphae {
namespace {

TEST(atomic_file, writes_replaces_and_leaves_no_temporary_files) {
    test::temp_dir dir;
    const std::string path = dir / "out.torrent";
    ASSERT_TRUE(write_file_atomically(path, "first", overwrite::refuse));
    EXPECT_EQ(test::read_file(path), "first");
    auto refused = write_file_atomically(path, "second", overwrite::refuse);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().what, "already exists");
    EXPECT_EQ(test::read_file(path), "first");
    ASSERT_TRUE(write_file_atomically(path, "second", overwrite::allow));
    EXPECT_EQ(test::read_file(path), "second");
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

TEST(atomic_file, reports_a_missing_folder) {
    test::temp_dir dir;
    auto r = write_file_atomically(dir / "no/such/folder/f", "x", overwrite::allow);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::io);
}

TEST(read_whole_file, reads_and_bounds_the_size) {
    test::temp_dir dir;
    const std::string path = dir.write("f", std::string(100000, 'x'));
    auto all = read_whole_file(path, 1 << 20);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), 100000u);
    auto bounded = read_whole_file(path, 1000);
    ASSERT_FALSE(bounded);
    EXPECT_EQ(bounded.error().code, errc::limit_exceeded);
    EXPECT_FALSE(read_whole_file(dir / "missing", 10));
}

}  // namespace
}  // namespace hyphae
