#pragma once
// Finds the files a new torrent is made of: a single file, or every regular file under a folder
// (following symbolic links, as mktorrent does, but never around a loop).

#include <cstdint>
#include <string>
#include <vector>

#include "hyphae/core/error.hpp"
#include "hyphae/proto/bittorrent/torrent_builder.hpp"

namespace hyphae {

struct content_tree {
    std::string name;  // the last component of the given path
    std::string root;  // the given path, for building absolute paths
    bool multi_file = false;
    std::vector<bittorrent::source_file> files;  // sorted as mktorrent sorts them
    std::int64_t total_size = 0;
    std::vector<std::string> warnings;  // entries skipped: sockets, FIFOs, devices, broken links

    std::string absolute_path(const bittorrent::source_file& file) const;
};

result<content_tree> scan_content(const std::string& path);

}  // namespace hyphae
