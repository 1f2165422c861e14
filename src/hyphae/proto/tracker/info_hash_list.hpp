#pragma once
// The tracker's allow-list file: one info-hash a line, 40 hex digits (opentracker's -w format).
// Blank lines and lines starting with '#' are skipped; spaces, tabs and a CR around a hash are
// trimmed. Anything else is an error naming its line, so that a typo never drops a torrent
// silently. The result is sorted, without repeats.

#include <string_view>
#include <vector>

#include "hyphae/core/error.hpp"
#include "hyphae/core/sha.hpp"

namespace hyphae::tracker {

result<std::vector<sha1_hash>> parse_info_hash_list(std::string_view text);

}  // namespace hyphae::tracker
