#pragma once
// HTTP tracker scrapes (BEP 48).
//
// scrape_url() derives the scrape URL from an announce URL by the convention every tracker
// follows: the last path component must start with "announce", which becomes "scrape"
// ("/x/announce.php?passkey=k" -> "/x/scrape.php?passkey=k"). Other URLs cannot be scraped.
// parse_scrape_response() reads the 'files' dictionary, keyed by raw 20-byte info-hashes.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/bytes.hpp"
#include "hyphae/core/error.hpp"
#include "hyphae/core/sha.hpp"

namespace hyphae::tracker {

// Empty when the announce URL does not follow the convention.
std::optional<std::string> scrape_url(std::string_view announce_url);

// The GET URL asking about `info_hashes` (one 'info_hash' parameter each).
std::string scrape_request_url(std::string_view scrape_url, std::span<const sha1_hash> info_hashes);

struct scrape_entry {
    sha1_hash info_hash;
    std::int64_t complete = 0;    // seeders
    std::int64_t downloaded = 0;  // completed downloads
    std::int64_t incomplete = 0;  // leechers
};

struct scrape_response {
    std::vector<scrape_entry> files;  // in the order received
};

struct scrape_limits {
    std::size_t files_max = 1000;  // more is an error: we only ever ask about a few
    bdecode_limits bencode{
        .depth_max = 8, .values_max = 100'000, .string_length_max = 1u << 20, .sorted_keys_required = false};
};

result<scrape_response> parse_scrape_response(byte_view body, const scrape_limits& limits = {});

}  // namespace hyphae::tracker
