#pragma once
// What a download remembers across restarts: the pieces verified and on disk, and the totals.
// Written by the runtime atomically; a piece is only listed once its data was synced, so after a
// crash the next start trusts exactly what was recorded.

#include <cstdint>
#include <string>

#include "hyphae/core/bitfield.hpp"
#include "hyphae/core/error.hpp"
#include "hyphae/core/sha.hpp"

namespace hyphae::bittorrent {

struct resume_data {
    sha1_hash info_hash;
    bitfield pieces;
    std::int64_t uploaded = 0;
    std::int64_t downloaded = 0;
};

std::string encode_resume_data(const resume_data& r);
// Errors unless it is our format, for this info-hash, with a bitfield of `piece_count` pieces.
result<resume_data> parse_resume_data(byte_view bytes, const sha1_hash& info_hash, std::size_t piece_count);

}  // namespace hyphae::bittorrent
