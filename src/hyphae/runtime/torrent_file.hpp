#pragma once
// Reads and parses a .torrent file; errors name the file rather than "torrent file".

#include <string>

#include "hyphae/core/error.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"

namespace hyphae {

inline constexpr std::size_t torrent_file_size_max = 64u << 20;

result<bittorrent::metainfo> load_torrent_file(const std::string& path);

}  // namespace hyphae
