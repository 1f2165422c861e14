#pragma once
// Hashes every piece of content on disk, on all cores: the slow part of making a torrent and of
// checking one. Workers claim runs of consecutive pieces, so each reads the disk sequentially.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "hyphae/core/error.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/proto/bittorrent/file_layout.hpp"

namespace hyphae {

// Shared with the thread that shows progress; it may set `cancel` to stop the work early.
struct hash_progress {
    std::atomic<std::int64_t> bytes_done{0};
    std::atomic<bool> cancel{false};
};

struct hash_options {
    unsigned threads = 0;  // 0: one a core
};

// `paths[i]` is where the layout's file i is; every file must still have its layout size.
result<std::vector<sha1_hash>> hash_pieces(const std::vector<std::string>& paths,
                                           const bittorrent::file_layout& layout, hash_progress& progress,
                                           const hash_options& options = {});

}  // namespace hyphae
