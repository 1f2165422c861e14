#include "hyphae/proto/bittorrent/torrent_builder.hpp"

#include <algorithm>
#include <bit>

#include "hyphae/core/bencode_writer.hpp"
#include "hyphae/proto/bittorrent/path_check.hpp"

namespace hyphae::bittorrent {
namespace {

constexpr std::int64_t target_pieces_max = 2000;
constexpr std::string_view builder_where = "new torrent";

}  // namespace

std::int64_t choose_piece_length(std::int64_t total_size) {
    std::int64_t length = piece_length_min;
    while (length < piece_length_max_default && total_size > length * target_pieces_max) {
        length *= 2;
    }
    return length;
}

void sort_like_mktorrent(std::vector<source_file>& files) {
    std::sort(files.begin(), files.end(),
              [](const source_file& a, const source_file& b) { return a.path < b.path; });
}

result<file_layout> validate(const torrent_spec& spec) {
    const std::string where(builder_where);
    if (auto why = unsafe_path_component(spec.name)) {
        return fail(errc::invalid_argument, where + ": name", *why);
    }
    if (spec.piece_length < piece_length_min || spec.piece_length > piece_length_max_allowed ||
        !std::has_single_bit(static_cast<std::uint64_t>(spec.piece_length))) {
        return fail(errc::invalid_argument, where + ": piece size",
                    std::to_string(spec.piece_length) + " is not a power of two from 16 KiB to 1 GiB");
    }
    if (spec.files.empty()) {
        return fail(errc::invalid_argument, where, "no files");
    }
    if (!spec.multi_file && (spec.files.size() != 1 || !spec.files.front().path.empty())) {
        return fail(errc::invalid_argument, where,
                    "a single-file torrent holds exactly one file without a path");
    }
    std::vector<std::int64_t> sizes;
    sizes.reserve(spec.files.size());
    for (const source_file& f : spec.files) {
        if (spec.multi_file) {
            std::string_view rest = f.path;
            while (true) {
                const std::size_t slash = rest.find('/');
                if (auto why = unsafe_path_component(rest.substr(0, slash))) {
                    return fail(errc::invalid_argument, where + ": file '" + f.path + "'", *why);
                }
                if (slash == std::string_view::npos) {
                    break;
                }
                rest = rest.substr(slash + 1);
            }
        }
        sizes.push_back(f.size);
    }
    auto layout = file_layout::create(std::move(sizes), spec.piece_length);
    if (!layout) {
        return fail(layout.error().code, where, layout.error().what);
    }
    if (layout->total_size() == 0) {
        return fail(errc::invalid_argument, where, "no content: every file is empty");
    }
    return layout;
}

std::string encode_info_dictionary(const torrent_spec& spec, std::span<const sha1_hash> pieces) {
    std::string out;
    out.reserve(pieces.size() * 20 + spec.files.size() * 64 + 128);
    bencode_writer w(out);
    w.begin_dict();
    if (spec.multi_file) {
        w.key("files").begin_list();
        for (const source_file& f : spec.files) {
            w.begin_dict().key("length").integer(f.size).key("path").begin_list();
            std::string_view rest = f.path;
            while (true) {
                const std::size_t slash = rest.find('/');
                w.string(rest.substr(0, slash));
                if (slash == std::string_view::npos) {
                    break;
                }
                rest = rest.substr(slash + 1);
            }
            w.end().end();
        }
        w.end();
    } else {
        w.key("length").integer(spec.files.front().size);
    }
    w.key("name").string(spec.name);
    w.key("piece length").integer(spec.piece_length);
    w.key("pieces");
    out += std::to_string(pieces.size() * 20);
    out.push_back(':');
    for (const sha1_hash& h : pieces) {
        out.append(h.chars());
    }
    if (spec.is_private) {
        w.key("private").integer(1);
    }
    w.end();
    return out;
}

std::string encode_torrent_file(const torrent_spec& spec, std::string_view info_dictionary) {
    std::string out;
    out.reserve(info_dictionary.size() + 512);
    bencode_writer w(out);
    w.begin_dict();
    std::size_t tracker_count = 0;
    for (const auto& tier : spec.trackers) {
        tracker_count += tier.size();
    }
    if (tracker_count > 0) {
        const auto first_tier = std::find_if(spec.trackers.begin(), spec.trackers.end(),
                                             [](const auto& tier) { return !tier.empty(); });
        w.key("announce").string(first_tier->front());
    }
    if (tracker_count > 1) {
        w.key("announce-list").begin_list();
        for (const auto& tier : spec.trackers) {
            if (tier.empty()) {
                continue;
            }
            w.begin_list();
            for (const std::string& url : tier) {
                w.string(url);
            }
            w.end();
        }
        w.end();
    }
    if (!spec.comment.empty()) {
        w.key("comment").string(spec.comment);
    }
    if (!spec.created_by.empty()) {
        w.key("created by").string(spec.created_by);
    }
    if (spec.creation_date) {
        w.key("creation date").integer(*spec.creation_date);
    }
    w.key("info").raw(info_dictionary);
    if (spec.web_seeds.size() == 1) {
        w.key("url-list").string(spec.web_seeds.front());
    } else if (!spec.web_seeds.empty()) {
        w.key("url-list").begin_list();
        for (const std::string& url : spec.web_seeds) {
            w.string(url);
        }
        w.end();
    }
    w.end();
    return out;
}

}  // namespace hyphae::bittorrent
