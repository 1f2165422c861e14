#include "hyphae/proto/bittorrent/resume_data.hpp"

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/bencode_writer.hpp"

namespace hyphae::bittorrent {
namespace {
constexpr std::string_view format_name = "hyphae resume data";
constexpr std::int64_t format_version = 1;
}  // namespace

std::string encode_resume_data(const resume_data& r) {
    std::string out;
    bencode_writer w(out);
    w.begin_dict()
        .key("downloaded")
        .integer(r.downloaded)
        .key("format")
        .string(format_name)
        .key("info-hash")
        .string(r.info_hash.view())
        .key("piece-count")
        .integer(static_cast<std::int64_t>(r.pieces.size()))
        .key("pieces")
        .string(r.pieces.wire())
        .key("uploaded")
        .integer(r.uploaded)
        .key("version")
        .integer(format_version)
        .end();
    return out;
}

result<resume_data> parse_resume_data(byte_view bytes, const sha1_hash& info_hash, std::size_t piece_count) {
    const std::string where = "resume data";
    auto doc = bdecode(bytes);
    if (!doc) {
        return fail(errc::invalid_input, where, "bencode: " + doc.error().message());
    }
    const bnode root = doc->root();
    if (root.find_string("format") != format_name || root.find_int("version") != format_version) {
        return fail(errc::invalid_input, where, "not hyphae resume data of version 1");
    }
    const auto hash = root.find_string("info-hash");
    if (!hash || sha1_hash::from_bytes(*hash) != info_hash) {
        return fail(errc::invalid_input, where, "for another torrent");
    }
    const auto count = root.find_int("piece-count");
    const auto pieces = root.find_string("pieces");
    if (!count || *count != static_cast<std::int64_t>(piece_count) || !pieces) {
        return fail(errc::invalid_input, where, "piece count differs from the torrent's");
    }
    auto bits = bitfield::from_wire(as_bytes(*pieces), piece_count);
    if (!bits) {
        return fail(errc::invalid_input, where, "malformed piece bitfield");
    }
    resume_data r;
    r.info_hash = info_hash;
    r.pieces = std::move(*bits);
    r.uploaded = std::max<std::int64_t>(0, root.find_int("uploaded").value_or(0));
    r.downloaded = std::max<std::int64_t>(0, root.find_int("downloaded").value_or(0));
    return r;
}

}  // namespace hyphae::bittorrent
