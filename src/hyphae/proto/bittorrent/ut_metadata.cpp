#include "hyphae/proto/bittorrent/ut_metadata.hpp"

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/bencode_writer.hpp"
#include "hyphae/proto/bittorrent/extension_handshake.hpp"

namespace hyphae::bittorrent::wire {
namespace {

constexpr std::string_view where = "ut_metadata";

std::string header(metadata_type type, std::uint32_t piece, std::optional<std::int64_t> total_size) {
    std::string out;
    bencode_writer w(out);
    w.begin_dict().key("msg_type").integer(static_cast<int>(type)).key("piece").integer(piece);
    if (total_size) {
        w.key("total_size").integer(*total_size);
    }
    w.end();
    return out;
}

}  // namespace

result<metadata_message> parse_metadata_message(byte_view payload) {
    bdecode_limits limits;
    limits.depth_max = 4;
    limits.values_max = 64;
    limits.string_length_max = 1024;
    limits.sorted_keys_required = false;
    auto doc = bdecode_prefix(payload, limits);
    if (!doc) {
        return fail(errc::invalid_input, std::string(where), "bencode: " + doc.error().message());
    }
    const bnode root = doc->root();
    const auto type = root.find_int("msg_type");
    const auto piece = root.find_int("piece");
    if (!type || *type < 0 || *type > 2) {
        return fail(errc::invalid_input, std::string(where), "msg_type missing or not 0, 1 or 2");
    }
    const std::int64_t pieces_max = metadata_size_max / static_cast<std::int64_t>(metadata_piece_size);
    if (!piece || *piece < 0 || *piece >= pieces_max) {
        return fail(errc::invalid_input, std::string(where), "piece missing or out of range");
    }
    metadata_message m;
    m.type = static_cast<metadata_type>(*type);
    m.piece = static_cast<std::uint32_t>(*piece);
    const byte_view rest = payload.subspan(root.raw().size());
    if (m.type == metadata_type::data) {
        const auto total = root.find_int("total_size");
        if (!total || *total <= 0 || *total > metadata_size_max) {
            return fail(errc::invalid_input, std::string(where), "data without a valid total_size");
        }
        if (rest.size() > metadata_piece_size) {
            return fail(errc::invalid_input, std::string(where), "data piece larger than 16 KiB");
        }
        m.total_size = *total;
        m.data = rest;
    } else if (!rest.empty()) {
        return fail(errc::invalid_input, std::string(where), "bytes after a request or reject");
    }
    return m;
}

std::string encode_metadata_request(std::uint32_t piece) {
    return header(metadata_type::request, piece, {});
}

std::string encode_metadata_reject(std::uint32_t piece) {
    return header(metadata_type::reject, piece, {});
}

std::string encode_metadata_data(std::uint32_t piece, std::int64_t total_size, byte_view data) {
    std::string out = header(metadata_type::data, piece, total_size);
    out.append(as_chars(data));
    return out;
}

}  // namespace hyphae::bittorrent::wire
