#include "interop_content.hpp"

#include "subprocess.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hyphae::test {

interop_content::interop_content(std::string hyphae, std::vector<file> files, std::int64_t piece_size)
    : hyphae_(std::move(hyphae)), files_(std::move(files)), piece_size_(piece_size) {
    for (const file& f : files_) {
        dir.write("seed/content/" + f.path, pseudo_random_bytes(f.size, f.seed));
    }
    torrent = dir / "content.torrent";
    auto made = run({hyphae_, "create", dir / "seed/content", "-o", torrent, "--piece-size",
                     std::to_string(piece_size_)});
    EXPECT_EQ(made.exit_code, 0) << made.err;
    auto info = run({hyphae_, "info", "--json", torrent});
    info_hash = nlohmann::json::parse(info.out, nullptr, false).value("info_hash", "");
    EXPECT_EQ(info_hash.size(), 40u) << info.out << info.err;
}

std::string interop_content::torrent_for(const std::string& tracker_url, const std::string& name) const {
    const std::string path = dir / name;
    auto made = run({hyphae_, "create", dir / "seed/content", "-o", path, "--piece-size",
                     std::to_string(piece_size_), "--tracker", tracker_url});
    EXPECT_EQ(made.exit_code, 0) << made.err;
    return path;
}

void interop_content::expect_same(const std::string& folder) const {
    for (const file& f : files_) {
        EXPECT_EQ(read_file(folder + "/content/" + f.path), read_file(dir / ("seed/content/" + f.path)))
            << f.path << " differs in " << folder;
    }
}

}  // namespace hyphae::test
