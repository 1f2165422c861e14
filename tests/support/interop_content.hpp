#pragma once
// Content for tests with real peers: files under DIR/seed/content (sizes that straddle pieces),
// the torrent `hyphae create` makes of them, the same content announced to a tracker, and the
// check that a downloaded copy is the same, file by file.

#include <cstdint>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace hyphae::test {

class interop_content {
public:
    struct file {
        std::string path;  // under content/
        std::size_t size = 0;
        std::uint64_t seed = 0;  // of its pseudo-random bytes
    };

    // `hyphae` is the built binary; test expectations fail if it cannot make the torrent.
    interop_content(std::string hyphae, std::vector<file> files, std::int64_t piece_size);

    // The same content in a torrent announced to `tracker_url` (trackers lie outside the info
    // dictionary: the info-hash stays the same).
    std::string torrent_for(const std::string& tracker_url, const std::string& name) const;
    // The tree under `folder`/content equals the seed's.
    void expect_same(const std::string& folder) const;

    temp_dir dir;
    std::string torrent;  // without trackers
    std::string info_hash;

private:
    std::string hyphae_;
    std::vector<file> files_;
    std::int64_t piece_size_;
};

}  // namespace hyphae::test
