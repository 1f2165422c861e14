#pragma once
// What `hyphae info` prints about a torrent or a magnet link, as text or as JSON.

#include <cstdio>

#include <nlohmann/json.hpp>

#include "hyphae/proto/bittorrent/magnet.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"

namespace hyphae::cli {

void print_report(std::FILE* out, const bittorrent::metainfo& m, std::size_t files_shown_max);
void print_report(std::FILE* out, const bittorrent::magnet_link& link);
nlohmann::json to_json(const bittorrent::metainfo& m);
nlohmann::json to_json(const bittorrent::magnet_link& link);

}  // namespace hyphae::cli
