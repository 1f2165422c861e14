#include "torrent_report.hpp"

#include <ctime>

#include "human_units.hpp"
#include <fmt/chrono.h>
#include <fmt/format.h>

namespace hyphae::cli {
using namespace hyphae::bittorrent;
namespace {

std::string utc_date(std::int64_t seconds) {
    const auto t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    if (gmtime_r(&t, &tm) == nullptr) {
        return std::to_string(seconds);
    }
    return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", tm);
}

void print_list(std::FILE* out, const char* title, const std::vector<std::string>& items) {
    if (items.empty()) {
        return;
    }
    fmt::print(out, "{}\n", title);
    for (const std::string& item : items) {
        fmt::print(out, "  {}\n", item);
    }
}

}  // namespace

void print_report(std::FILE* out, const metainfo& m, std::size_t files_shown_max) {
    fmt::print(out, "name:        {}\n", m.name);
    fmt::print(out, "info-hash:   {}\n", m.info_hash.to_hex());
    if (m.info_hash_v2) {
        fmt::print(out, "format:      hybrid v1+v2 (v2 info-hash {})\n", m.info_hash_v2->to_hex());
    }
    fmt::print(out, "size:        {} ({} bytes)\n", format_bytes(m.total_size), m.total_size);
    fmt::print(out, "pieces:      {} x {} ({} bytes)\n", m.piece_count(), format_bytes(m.piece_length),
               m.piece_length);
    fmt::print(out, "private:     {}\n", m.is_private ? "yes" : "no");
    if (!m.created_by.empty()) {
        fmt::print(out, "created by:  {}\n", m.created_by);
    }
    if (m.creation_date) {
        fmt::print(out, "created:     {}\n", utc_date(*m.creation_date));
    }
    if (!m.comment.empty()) {
        fmt::print(out, "comment:     {}\n", m.comment);
    }
    if (!m.trackers.empty()) {
        fmt::print(out, "trackers:\n");
        for (std::size_t tier = 0; tier < m.trackers.size(); ++tier) {
            for (const std::string& url : m.trackers[tier]) {
                fmt::print(out, "  tier {}: {}\n", tier + 1, url);
            }
        }
    }
    print_list(out, "web seeds:", m.web_seeds);
    std::size_t pad_files = 0;
    for (const file_entry& f : m.files) {
        pad_files += f.pad ? 1 : 0;
    }
    fmt::print(out, "files:       {}{}\n", m.files.size() - pad_files,
               pad_files != 0 ? fmt::format(" (and {} pad files)", pad_files) : "");
    std::size_t shown = 0;
    for (const file_entry& f : m.files) {
        if (f.pad) {
            continue;
        }
        if (shown++ == files_shown_max) {
            fmt::print(out, "  ... {} more (--all-files lists them)\n",
                       m.files.size() - pad_files - files_shown_max);
            break;
        }
        fmt::print(out, "  {:>14}  {}\n", f.size, f.path);
    }
    for (const std::string& w : m.warnings) {
        fmt::print(out, "warning:     {}\n", w);
    }
}

void print_report(std::FILE* out, const magnet_link& link) {
    if (!link.name.empty()) {
        fmt::print(out, "name:        {}\n", link.name);
    }
    fmt::print(out, "info-hash:   {}\n", link.info_hash.to_hex());
    if (link.info_hash_v2) {
        fmt::print(out, "format:      hybrid v1+v2 (v2 info-hash {})\n", link.info_hash_v2->to_hex());
    }
    fmt::print(out, "size:        unknown until the metadata is fetched from peers\n");
    if (!link.trackers.empty()) {
        fmt::print(out, "trackers:\n");
        for (const std::string& url : link.trackers) {
            fmt::print(out, "  {}\n", url);
        }
    }
    print_list(out, "web seeds:", link.web_seeds);
    print_list(out, "peers:", link.peers);
}

nlohmann::json to_json(const metainfo& m) {
    nlohmann::json j;
    j["kind"] = "torrent";
    j["name"] = m.name;
    j["info_hash"] = m.info_hash.to_hex();
    j["info_hash_v2"] = m.info_hash_v2 ? nlohmann::json(m.info_hash_v2->to_hex()) : nlohmann::json();
    j["format"] = m.format == torrent_format::hybrid ? "hybrid" : "v1";
    j["total_size"] = m.total_size;
    j["piece_length"] = m.piece_length;
    j["piece_count"] = m.piece_count();
    j["private"] = m.is_private;
    j["trackers"] = m.trackers;
    j["web_seeds"] = m.web_seeds;
    j["comment"] = m.comment;
    j["created_by"] = m.created_by;
    j["creation_date"] = m.creation_date ? nlohmann::json(*m.creation_date) : nlohmann::json();
    auto& files = j["files"] = nlohmann::json::array();
    for (const file_entry& f : m.files) {
        files.push_back({{"path", f.path}, {"size", f.size}, {"offset", f.offset}, {"pad", f.pad}});
    }
    j["warnings"] = m.warnings;
    return j;
}

nlohmann::json to_json(const magnet_link& link) {
    nlohmann::json j;
    j["kind"] = "magnet";
    j["name"] = link.name;
    j["info_hash"] = link.info_hash.to_hex();
    j["info_hash_v2"] = link.info_hash_v2 ? nlohmann::json(link.info_hash_v2->to_hex()) : nlohmann::json();
    j["trackers"] = link.trackers;
    j["web_seeds"] = link.web_seeds;
    j["peers"] = link.peers;
    j["magnet"] = format_magnet(link);
    return j;
}

}  // namespace hyphae::cli
