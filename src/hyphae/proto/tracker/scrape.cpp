#include "hyphae/proto/tracker/scrape.hpp"

#include "hyphae/core/encoding.hpp"
#include "hyphae/proto/tracker/tracker_response.hpp"
#include "hyphae/proto/tracker/tracker_url.hpp"

namespace hyphae::tracker {
namespace {

constexpr std::string_view where = "scrape response";

}  // namespace

std::optional<std::string> scrape_url(std::string_view announce_url) {
    const std::size_t path_end = std::min(announce_url.find_first_of("?#"), announce_url.size());
    const std::size_t scheme_end = announce_url.find("://");
    const std::size_t slash = announce_url.rfind('/', path_end == 0 ? 0 : path_end - 1);
    // The slash must be in the path, not one of the two after the scheme.
    if (slash == std::string_view::npos || (scheme_end != std::string_view::npos && slash < scheme_end + 3)) {
        return std::nullopt;
    }
    if (announce_url.substr(slash + 1, path_end - slash - 1).substr(0, 8) != "announce") {
        return std::nullopt;
    }
    std::string out(announce_url.substr(0, slash + 1));
    out += "scrape";
    out += announce_url.substr(slash + 1 + 8);
    return out;
}

std::string scrape_request_url(std::string_view scrape_url, std::span<const sha1_hash> info_hashes) {
    std::string query;
    for (const sha1_hash& hash : info_hashes) {
        if (!query.empty()) {
            query += '&';
        }
        query += "info_hash=" + percent_encode(hash.chars());
    }
    return append_query(scrape_url, query);
}

result<scrape_response> parse_scrape_response(byte_view body, const scrape_limits& limits) {
    auto doc = decode_tracker_dictionary(body, limits.bencode, where);
    if (!doc) {
        return tl::unexpected(doc.error());
    }
    const bnode files = doc->root().find("files");
    if (!files.valid()) {
        return fail(errc::invalid_input, std::string(where), "'files' is missing");
    }
    if (!files.is_dict()) {
        return fail(errc::invalid_input, std::string(where), "'files' is not a dictionary");
    }
    if (files.size() > limits.files_max) {
        return fail(errc::limit_exceeded, std::string(where),
                    "more than " + std::to_string(limits.files_max) + " entries in 'files'");
    }
    scrape_response out;
    for (const auto& [key, stats] : files.dict_items()) {
        auto hash = sha1_hash::from_bytes(key);
        if (!hash) {
            return fail(
                errc::invalid_input, std::string(where),
                "a key of 'files' is " + std::to_string(key.size()) + " bytes, not a 20-byte info-hash");
        }
        if (!stats.is_dict()) {
            return fail(errc::invalid_input, std::string(where),
                        "the entry for " + hash->to_hex() + " is not a dictionary");
        }
        scrape_entry entry;
        entry.info_hash = *hash;
        entry.complete = std::max<std::int64_t>(stats.find_int("complete").value_or(0), 0);
        entry.downloaded = std::max<std::int64_t>(stats.find_int("downloaded").value_or(0), 0);
        entry.incomplete = std::max<std::int64_t>(stats.find_int("incomplete").value_or(0), 0);
        out.files.push_back(entry);
    }
    return out;
}

}  // namespace hyphae::tracker
