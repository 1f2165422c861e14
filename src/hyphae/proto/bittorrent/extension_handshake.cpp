#include "hyphae/proto/bittorrent/extension_handshake.hpp"

#include <algorithm>

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/bencode_writer.hpp"

namespace hyphae::bittorrent::wire {
namespace {

constexpr std::string_view where = "extension handshake";

bdecode_limits handshake_limits() {
    bdecode_limits limits;
    limits.depth_max = 8;
    limits.values_max = 2000;
    limits.string_length_max = 4096;
    limits.sorted_keys_required = false;
    return limits;
}

}  // namespace

std::uint8_t extension_handshake::id_of(std::string_view name) const {
    const auto it = messages.find(name);
    return it == messages.end() ? 0 : it->second;
}

result<extension_handshake> parse_extension_handshake(byte_view payload) {
    auto doc = bdecode(payload, handshake_limits());
    if (!doc) {
        return fail(errc::invalid_input, std::string(where), "bencode: " + doc.error().message());
    }
    const bnode root = doc->root();
    if (!root.is_dict()) {
        return fail(errc::invalid_input, std::string(where), "not a dictionary");
    }
    extension_handshake h;
    if (const bnode m = root.find("m"); m.valid()) {
        if (!m.is_dict()) {
            return fail(errc::invalid_input, std::string(where) + ": m", "not a dictionary");
        }
        for (auto [name, id] : m.dict_items()) {
            const auto value = id.as_int();
            if (!value || *value < 0 || *value > 255) {
                return fail(errc::invalid_input, std::string(where) + ": m." + std::string(name),
                            "message id is not an integer from 0 to 255");
            }
            h.messages.emplace(std::string(name), static_cast<std::uint8_t>(*value));
        }
    }
    if (auto p = root.find_int("p"); p && *p > 0 && *p <= 65535) {
        h.listen_port = static_cast<std::uint16_t>(*p);
    }
    if (auto v = root.find_string("v")) {
        h.client = std::string(v->substr(0, 100));
    }
    if (auto q = root.find_int("reqq"); q && *q > 0) {
        h.request_queue = static_cast<std::uint32_t>(std::min<std::int64_t>(*q, 1 << 16));
    }
    if (const bnode size = root.find("metadata_size"); size.valid()) {
        const auto value = size.as_int();
        if (!value || *value <= 0 || *value > metadata_size_max) {
            return fail(errc::invalid_input, std::string(where) + ": metadata_size",
                        "not a size from 1 byte to " + std::to_string(metadata_size_max));
        }
        h.metadata_size = *value;
    }
    if (auto ip = root.find_string("yourip")) {
        if (ip->size() == 4) {
            h.your_ip = ip_address::v4(std::array<std::uint8_t, 4>{
                static_cast<std::uint8_t>((*ip)[0]), static_cast<std::uint8_t>((*ip)[1]),
                static_cast<std::uint8_t>((*ip)[2]), static_cast<std::uint8_t>((*ip)[3])});
        } else if (ip->size() == 16) {
            std::array<std::uint8_t, 16> bytes{};
            std::copy(ip->begin(), ip->end(), bytes.begin());
            h.your_ip = ip_address::v6(bytes);
        }
    }
    if (auto upload_only = root.find_int("upload_only")) {
        h.upload_only = *upload_only != 0;
    }
    return h;
}

std::string encode_extension_handshake(const extension_handshake& h) {
    std::string out;
    bencode_writer w(out);
    w.begin_dict();
    w.key("m").begin_dict();
    for (const auto& [name, id] : h.messages) {
        w.key(name).integer(id);
    }
    w.end();
    if (h.metadata_size) {
        w.key("metadata_size").integer(*h.metadata_size);
    }
    if (h.listen_port) {
        w.key("p").integer(*h.listen_port);
    }
    if (h.request_queue) {
        w.key("reqq").integer(*h.request_queue);
    }
    if (h.upload_only) {
        w.key("upload_only").integer(1);
    }
    if (!h.client.empty()) {
        w.key("v").string(h.client);
    }
    if (h.your_ip) {
        w.key("yourip").string(h.your_ip->bytes());
    }
    w.end();
    return out;
}

}  // namespace hyphae::bittorrent::wire
