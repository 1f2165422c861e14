#pragma once
// .torrent files (BEP 3 v1, with BEP 12 announce-list, BEP 19 url-list, BEP 27 private, BEP 47
// file attributes). Hybrid v1+v2 torrents (BEP 52) are read as v1 and also report their v2
// info-hash; v2-only torrents are refused with an error that says so.
//
// The info dictionary is checked strictly (it decides what touches the disk); optional fields
// outside it that are malformed are ignored and listed in `warnings`, as other clients do.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/error.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/proto/bittorrent/file_layout.hpp"

namespace hyphae::bittorrent {

struct file_entry {
    // Relative to the save folder: "<name>" for a single-file torrent, "<name>/<dir>/<file>"
    // otherwise. Every component has passed unsafe_path_component().
    std::string path;
    std::int64_t size = 0;
    std::int64_t offset = 0;  // in the torrent's byte stream
    bool pad = false;         // BEP 47 'p': alignment filler, never written to disk
    bool executable = false;  // 'x'
    bool hidden = false;      // 'h'
    bool symlink = false;     // 'l'
};

enum class torrent_format { v1, hybrid };

struct metainfo {
    sha1_hash info_hash;                      // SHA-1 of the info dictionary's original bytes
    std::optional<sha256_hash> info_hash_v2;  // hybrid torrents: SHA-256 of the same bytes
    torrent_format format = torrent_format::v1;
    std::string name;
    std::int64_t piece_length = 0;
    std::int64_t total_size = 0;
    std::string piece_hashes;  // 20 bytes a piece, in order
    bool multi_file = false;
    std::vector<file_entry> files;
    bool is_private = false;
    std::vector<std::vector<std::string>> trackers;  // tiers; a lone `announce` is one tier
    std::vector<std::string> web_seeds;
    std::string comment;
    std::string created_by;
    std::optional<std::int64_t> creation_date;  // seconds since the Unix epoch
    std::string info_bytes;  // the info dictionary as it was encoded (served to peers over BEP 9)
    std::vector<std::string> warnings;

    piece_index piece_count() const { return static_cast<piece_index>(piece_hashes.size() / 20); }
    sha1_hash piece_hash(piece_index piece) const;
    std::int64_t piece_size(piece_index piece) const;
    file_layout layout() const;
};

struct metainfo_limits {
    std::size_t file_count_max = 1'000'000;
    std::size_t path_depth_max = 64;
    std::int64_t piece_length_max = std::int64_t{1} << 30;
    bdecode_limits bencode{};
};

result<metainfo> parse_metainfo(byte_view torrent_file, const metainfo_limits& limits = {});

// The info dictionary alone, as a magnet download receives it over BEP 9: no trackers or other
// fields from outside it.
result<metainfo> parse_info_dictionary(byte_view info, const metainfo_limits& limits = {});

}  // namespace hyphae::bittorrent
