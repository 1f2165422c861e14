#pragma once
// What a new .torrent contains, decided without touching the disk: the file order, the piece
// size, and the bencoded result once the runtime has hashed the pieces. Files are ordered as
// mktorrent orders them, so the same tree and piece size give mktorrent's info-hash.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hyphae/core/error.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/proto/bittorrent/file_layout.hpp"

namespace hyphae::bittorrent {

struct source_file {
    std::string path;  // relative to the content root, '/'-separated; empty for a single-file torrent
    std::int64_t size = 0;
};

inline constexpr std::int64_t piece_length_min = 16 * 1024;
inline constexpr std::int64_t piece_length_max_default = 16 * 1024 * 1024;
inline constexpr std::int64_t piece_length_max_allowed = std::int64_t{1} << 30;

// A power of two from 16 KiB to 16 MiB that gives at most 2000 pieces (so 1000-2000 pieces for
// content between 16 MiB and 32 GiB).
std::int64_t choose_piece_length(std::int64_t total_size);

// Byte-wise order of the whole '/'-joined path (strcmp, as mktorrent), so "a-b" sorts before
// "a/b": not the component-wise order a directory walk gives.
void sort_like_mktorrent(std::vector<source_file>& files);

struct torrent_spec {
    std::string name;
    bool multi_file = false;
    std::vector<source_file> files;  // in torrent order
    std::int64_t piece_length = 0;
    std::vector<std::vector<std::string>> trackers;  // tiers
    std::vector<std::string> web_seeds;
    bool is_private = false;
    std::string comment;
    std::string created_by;
    std::optional<std::int64_t> creation_date;
};

// Safe names, a power-of-two piece length from 16 KiB to 1 GiB, content that is not empty.
result<file_layout> validate(const torrent_spec& spec);

// The info dictionary, for `pieces` (one hash per piece of validate()'s layout).
std::string encode_info_dictionary(const torrent_spec& spec, std::span<const sha1_hash> pieces);
// The whole .torrent file around an encoded info dictionary.
std::string encode_torrent_file(const torrent_spec& spec, std::string_view info_dictionary);

}  // namespace hyphae::bittorrent
