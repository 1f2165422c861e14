#pragma once
// Makes a .torrent from content on disk: scan (content_scan), hash on all cores (piece_hasher),
// encode (torrent_builder). The caller writes the bytes where it wants them.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hyphae/core/error.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/runtime/content_scan.hpp"
#include "hyphae/runtime/piece_hasher.hpp"

namespace hyphae {

struct make_options {
    std::int64_t piece_length = 0;  // 0: choose_piece_length()
    std::vector<std::vector<std::string>> trackers;
    std::vector<std::string> web_seeds;
    bool is_private = false;
    std::string comment;
    std::string created_by;
    std::optional<std::int64_t> creation_date;
    unsigned threads = 0;
};

struct made_torrent {
    std::string file;  // the bencoded .torrent
    sha1_hash info_hash;
    std::int64_t piece_length = 0;
    bittorrent::piece_index piece_count = 0;
};

result<made_torrent> make_torrent(const content_tree& content, const make_options& options,
                                  hash_progress& progress);

}  // namespace hyphae
