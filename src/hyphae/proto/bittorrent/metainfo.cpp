#include "hyphae/proto/bittorrent/metainfo.hpp"

#include <unordered_set>

#include "hyphae/proto/bittorrent/path_check.hpp"

namespace hyphae::bittorrent {
namespace {

constexpr std::string_view torrent_where = "torrent file";

tl::unexpected<error> info_error(std::string field, std::string what, errc code = errc::invalid_input) {
    return fail(code, std::string(torrent_where) + ": info" + (field.empty() ? "" : "." + field),
                std::move(what));
}

std::string type_mismatch(btype expected, bnode got) {
    return "expected " + std::string(to_string(expected)) + ", got " +
           (got.valid() ? std::string(to_string(got.type())) : std::string("nothing"));
}

result<std::string> joined_path(bnode path, const std::string& field, const metainfo_limits& limits) {
    if (!path.is_list()) {
        return info_error(field, type_mismatch(btype::list, path));
    }
    if (path.size() == 0) {
        return info_error(field, "empty path");
    }
    if (path.size() > limits.path_depth_max) {
        return info_error(field, "more than " + std::to_string(limits.path_depth_max) + " path components",
                          errc::limit_exceeded);
    }
    std::string joined;
    std::size_t i = 0;
    for (bnode component : path.list_items()) {
        auto text = component.as_string();
        const std::string where = field + "[" + std::to_string(i++) + "]";
        if (!text) {
            return info_error(where, type_mismatch(btype::string, component));
        }
        if (auto why = unsafe_path_component(*text)) {
            return info_error(where, *why);
        }
        joined += '/';
        joined += *text;
    }
    return joined;
}

void apply_attributes(file_entry& file, std::string_view attr) {
    file.pad = attr.find('p') != std::string_view::npos;
    file.executable = attr.find('x') != std::string_view::npos;
    file.hidden = attr.find('h') != std::string_view::npos;
    file.symlink = attr.find('l') != std::string_view::npos;
}

// Two files with one path, or a file where another needs a directory, would overwrite each other.
result<void> check_paths_distinct(const std::vector<file_entry>& files) {
    std::unordered_set<std::string_view> file_paths;
    std::unordered_set<std::string_view> dir_paths;
    for (const file_entry& f : files) {
        if (f.pad) {
            continue;  // never written; libtorrent names them by size, so they repeat
        }
        if (!file_paths.insert(f.path).second) {
            return info_error("files", "two files have the path '" + f.path + "'");
        }
        for (std::size_t slash = f.path.find('/'); slash != std::string::npos;
             slash = f.path.find('/', slash + 1)) {
            dir_paths.insert(std::string_view(f.path).substr(0, slash));
        }
    }
    for (const file_entry& f : files) {
        if (!f.pad && dir_paths.count(f.path) != 0) {
            return info_error("files", "'" + f.path + "' is both a file and a directory");
        }
    }
    return {};
}

result<metainfo> parse_info(bnode info, const metainfo_limits& limits) {
    metainfo m;
    if (!info.is_dict()) {
        return info_error("", type_mismatch(btype::dict, info));
    }
    m.info_hash = sha1(info.raw());
    m.info_bytes = std::string(as_chars(info.raw()));

    const bnode meta_version = info.find("meta version");
    const bool has_pieces = info.find("pieces").valid();
    if (meta_version.valid()) {
        const auto version = meta_version.as_int();
        if (!version) {
            return info_error("meta version", type_mismatch(btype::integer, meta_version));
        }
        if (*version != 1 && *version != 2) {
            return info_error("meta version", "version " + std::to_string(*version) + " is not supported",
                              errc::unsupported);
        }
        if (*version == 2) {
            if (!has_pieces) {
                return info_error("",
                                  "v2-only torrent (BEP 52) is not supported; its v2 info-hash is " +
                                      sha256(info.raw()).to_hex(),
                                  errc::unsupported);
            }
            m.format = torrent_format::hybrid;
            m.info_hash_v2 = sha256(info.raw());
        }
    }

    const bnode name = info.find("name");
    if (!name.is_string()) {
        return info_error("name", type_mismatch(btype::string, name));
    }
    m.name = std::string(*name.as_string());
    if (auto why = unsafe_path_component(m.name)) {
        return info_error("name", *why);
    }

    const bnode piece_length = info.find("piece length");
    if (!piece_length.is_int()) {
        return info_error("piece length", type_mismatch(btype::integer, piece_length));
    }
    m.piece_length = *piece_length.as_int();
    if (m.piece_length <= 0) {
        return info_error("piece length", "must be positive, is " + std::to_string(m.piece_length));
    }
    if (m.piece_length > limits.piece_length_max) {
        return info_error("piece length",
                          std::to_string(m.piece_length) + " is over the limit of " +
                              std::to_string(limits.piece_length_max),
                          errc::limit_exceeded);
    }

    if (const bnode priv = info.find("private"); priv.valid()) {
        if (!priv.is_int()) {
            return info_error("private", type_mismatch(btype::integer, priv));
        }
        m.is_private = *priv.as_int() == 1;
    }

    const bnode length = info.find("length");
    const bnode files = info.find("files");
    if (length.valid() && files.valid()) {
        return info_error("", "has both 'length' (single file) and 'files' (multi-file)");
    }
    if (length.valid()) {
        if (!length.is_int()) {
            return info_error("length", type_mismatch(btype::integer, length));
        }
        if (*length.as_int() < 0) {
            return info_error("length", "negative length " + std::to_string(*length.as_int()));
        }
        file_entry f;
        f.path = m.name;
        f.size = *length.as_int();
        if (auto attr = info.find_string("attr")) {
            apply_attributes(f, *attr);
        }
        m.files.push_back(std::move(f));
    } else if (files.valid()) {
        if (!files.is_list()) {
            return info_error("files", type_mismatch(btype::list, files));
        }
        if (files.size() == 0) {
            return info_error("files", "empty file list");
        }
        if (files.size() > limits.file_count_max) {
            return info_error("files",
                              std::to_string(files.size()) + " files is over the limit of " +
                                  std::to_string(limits.file_count_max),
                              errc::limit_exceeded);
        }
        m.multi_file = true;
        m.files.reserve(files.size());
        std::size_t i = 0;
        for (bnode entry : files.list_items()) {
            const std::string field = "files[" + std::to_string(i++) + "]";
            if (!entry.is_dict()) {
                return info_error(field, type_mismatch(btype::dict, entry));
            }
            const bnode file_length = entry.find("length");
            if (!file_length.is_int()) {
                return info_error(field + ".length", type_mismatch(btype::integer, file_length));
            }
            if (*file_length.as_int() < 0) {
                return info_error(field + ".length",
                                  "negative length " + std::to_string(*file_length.as_int()));
            }
            auto path = joined_path(entry.find("path"), field + ".path", limits);
            if (!path) {
                return tl::unexpected(path.error());
            }
            file_entry f;
            f.path = m.name + *path;
            f.size = *file_length.as_int();
            if (auto attr = entry.find_string("attr")) {
                apply_attributes(f, *attr);
            }
            m.files.push_back(std::move(f));
        }
        if (auto distinct = check_paths_distinct(m.files); !distinct) {
            return tl::unexpected(distinct.error());
        }
    } else {
        return info_error("", "has neither 'length' (single file) nor 'files' (multi-file)");
    }

    std::vector<std::int64_t> sizes;
    sizes.reserve(m.files.size());
    for (const file_entry& f : m.files) {
        sizes.push_back(f.size);
    }
    auto layout = file_layout::create(std::move(sizes), m.piece_length);
    if (!layout) {
        return info_error("files", layout.error().what, layout.error().code);
    }
    for (std::size_t i = 0; i < m.files.size(); ++i) {
        m.files[i].offset = layout->file_offset(i);
    }
    m.total_size = layout->total_size();
    if (m.total_size == 0) {
        return info_error("", "no content: the total size is 0");
    }

    const bnode pieces = info.find("pieces");
    if (!pieces.is_string()) {
        return info_error("pieces", type_mismatch(btype::string, pieces));
    }
    m.piece_hashes = std::string(*pieces.as_string());
    const std::size_t expected = static_cast<std::size_t>(layout->piece_count()) * 20;
    if (m.piece_hashes.size() != expected) {
        return info_error("pieces", "holds " + std::to_string(m.piece_hashes.size()) + " bytes; " +
                                        std::to_string(layout->piece_count()) + " pieces need " +
                                        std::to_string(expected));
    }
    return m;
}

void read_trackers(bnode root, metainfo& m) {
    if (const bnode list = root.find("announce-list"); list.valid()) {
        if (!list.is_list()) {
            m.warnings.push_back("announce-list is not a list; ignored");
        }
        for (bnode tier : list.list_items()) {
            if (!tier.is_list()) {
                m.warnings.push_back("an announce-list tier is not a list; ignored");
                continue;
            }
            std::vector<std::string> urls;
            for (bnode url : tier.list_items()) {
                if (auto text = url.as_string(); text && !text->empty()) {
                    urls.emplace_back(*text);
                } else {
                    m.warnings.push_back("an announce-list entry is not a URL; ignored");
                }
            }
            if (!urls.empty()) {
                m.trackers.push_back(std::move(urls));
            }
        }
    }
    // BEP 12: with an announce-list, `announce` is only for clients that do not know it.
    if (m.trackers.empty()) {
        if (const bnode announce = root.find("announce"); announce.valid()) {
            if (auto text = announce.as_string(); text && !text->empty()) {
                m.trackers.push_back({std::string(*text)});
            } else {
                m.warnings.push_back("announce is not a URL; ignored");
            }
        }
    }
}

void read_optional_fields(bnode root, metainfo& m) {
    read_trackers(root, m);
    if (const bnode urls = root.find("url-list"); urls.valid()) {
        if (auto one = urls.as_string()) {
            if (!one->empty()) {
                m.web_seeds.emplace_back(*one);
            }
        } else if (urls.is_list()) {
            for (bnode url : urls.list_items()) {
                if (auto text = url.as_string(); text && !text->empty()) {
                    m.web_seeds.emplace_back(*text);
                } else {
                    m.warnings.push_back("a url-list entry is not a URL; ignored");
                }
            }
        } else {
            m.warnings.push_back("url-list is neither a URL nor a list; ignored");
        }
    }
    const auto text_field = [&](std::string_view key, std::string& out) {
        if (const bnode v = root.find(key); v.valid()) {
            if (auto text = v.as_string()) {
                out = std::string(*text);
            } else {
                m.warnings.push_back(std::string(key) + " is not a string; ignored");
            }
        }
    };
    text_field("comment", m.comment);
    text_field("created by", m.created_by);
    if (const bnode date = root.find("creation date"); date.valid()) {
        if (auto seconds = date.as_int()) {
            m.creation_date = *seconds;
        } else {
            m.warnings.push_back("creation date is not an integer; ignored");
        }
    }
}

tl::unexpected<error> bencode_failure(const bdecode_error& e) {
    return fail(e.code == bdecode_errc::too_many_values || e.code == bdecode_errc::depth_exceeded ||
                        e.code == bdecode_errc::string_too_long
                    ? errc::limit_exceeded
                    : errc::invalid_input,
                std::string(torrent_where), "bencode: " + e.message());
}

}  // namespace

sha1_hash metainfo::piece_hash(piece_index piece) const {
    return *sha1_hash::from_bytes(std::string_view(piece_hashes).substr(std::size_t{piece} * 20, 20));
}

std::int64_t metainfo::piece_size(piece_index piece) const {
    const std::int64_t start = static_cast<std::int64_t>(piece) * piece_length;
    return std::min(piece_length, total_size - start);
}

file_layout metainfo::layout() const {
    std::vector<std::int64_t> sizes;
    sizes.reserve(files.size());
    for (const file_entry& f : files) {
        sizes.push_back(f.size);
    }
    // Validated when parsed.
    return *file_layout::create(std::move(sizes), piece_length);
}

result<metainfo> parse_metainfo(byte_view torrent_file, const metainfo_limits& limits) {
    auto doc = bdecode(torrent_file, limits.bencode);
    if (!doc) {
        return bencode_failure(doc.error());
    }
    const bnode root = doc->root();
    if (!root.is_dict()) {
        return fail(errc::invalid_input, std::string(torrent_where), "top level is not a dictionary");
    }
    const bnode info = root.find("info");
    if (!info.valid()) {
        return fail(errc::invalid_input, std::string(torrent_where), "no 'info' dictionary");
    }
    auto m = parse_info(info, limits);
    if (m) {
        read_optional_fields(root, *m);
    }
    return m;
}

result<metainfo> parse_info_dictionary(byte_view info, const metainfo_limits& limits) {
    auto doc = bdecode(info, limits.bencode);
    if (!doc) {
        return bencode_failure(doc.error());
    }
    return parse_info(doc->root(), limits);
}

}  // namespace hyphae::bittorrent
