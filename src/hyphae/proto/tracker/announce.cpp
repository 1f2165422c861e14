#include "hyphae/proto/tracker/announce.hpp"

#include <array>

#include "hyphae/core/encoding.hpp"
#include "hyphae/proto/tracker/tracker_response.hpp"
#include "hyphae/proto/tracker/tracker_url.hpp"

namespace hyphae::tracker {
namespace {

constexpr std::string_view where = "tracker response";

std::string hex8(std::uint32_t value) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out(8, '0');
    for (int i = 7; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = digits[value & 0xf];
        value >>= 4;
    }
    return out;
}

result<std::optional<std::chrono::seconds>> read_interval(bnode root, std::string_view key) {
    const bnode node = root.find(key);
    if (!node.valid()) {
        return std::optional<std::chrono::seconds>{};
    }
    const auto value = node.as_int();
    if (!value || *value < 0) {
        return fail(errc::invalid_input, std::string(where),
                    "'" + std::string(key) + "' is not a non-negative integer");
    }
    return std::optional<std::chrono::seconds>{std::chrono::seconds(*value)};
}

std::optional<std::int64_t> read_count(bnode root, std::string_view key) {
    const auto value = root.find_int(key);
    return value && *value >= 0 ? value : std::nullopt;
}

// At most `room` peers from a compact string; entries with port 0 are skipped.
result<std::vector<endpoint>> read_compact(std::string_view key, std::string_view bytes,
                                           std::size_t entry_size, std::size_t room) {
    if (bytes.size() % entry_size != 0) {
        return fail(errc::invalid_input, std::string(where),
                    "'" + std::string(key) + "' is " + std::to_string(bytes.size()) +
                        " bytes, not a multiple of " + std::to_string(entry_size));
    }
    std::vector<endpoint> peers;
    for (std::size_t at = 0; at < bytes.size() && peers.size() < room; at += entry_size) {
        auto peer = parse_compact(as_bytes(bytes.substr(at, entry_size)));
        if (peer && peer->port != 0) {
            peers.push_back(*peer);
        }
    }
    return peers;
}

}  // namespace

std::string_view to_string(announce_event event) {
    switch (event) {
        case announce_event::none:
            return "";
        case announce_event::completed:
            return "completed";
        case announce_event::started:
            return "started";
        case announce_event::stopped:
            return "stopped";
    }
    return "";
}

std::string announce_url(std::string_view base, const announce_request& request) {
    std::string query;
    query.reserve(256);
    query += "info_hash=" + percent_encode(request.info_hash.chars());
    query += "&peer_id=" + percent_encode(request.peer_id.chars());
    query += "&port=" + std::to_string(request.port);
    query += "&uploaded=" + std::to_string(std::max<std::int64_t>(request.uploaded, 0));
    query += "&downloaded=" + std::to_string(std::max<std::int64_t>(request.downloaded, 0));
    query += "&left=" + std::to_string(std::max<std::int64_t>(request.left, 0));
    if (request.event != announce_event::none) {
        query += "&event=";
        query += to_string(request.event);
    }
    if (request.numwant >= 0) {
        query += "&numwant=" + std::to_string(request.numwant);
    }
    query += "&key=" + hex8(request.key);
    query += "&compact=1&no_peer_id=1";
    if (!request.tracker_id.empty()) {
        query += "&trackerid=" + percent_encode(request.tracker_id);
    }
    return append_query(base, query);
}

result<announce_response> parse_announce_response(byte_view body, const announce_limits& limits) {
    auto doc = decode_tracker_dictionary(body, limits.bencode, where);
    if (!doc) {
        return tl::unexpected(doc.error());
    }
    const bnode root = doc->root();
    announce_response out;
    auto interval = read_interval(root, "interval");
    if (!interval) {
        return tl::unexpected(interval.error());
    }
    out.interval = *interval;
    auto min_interval = read_interval(root, "min interval");
    if (!min_interval) {
        return tl::unexpected(min_interval.error());
    }
    out.min_interval = *min_interval;
    out.complete = read_count(root, "complete");
    out.incomplete = read_count(root, "incomplete");
    out.downloaded = read_count(root, "downloaded");
    out.tracker_id = std::string(root.find_string("tracker id").value_or(""));
    out.warning_message = std::string(root.find_string("warning message").value_or(""));
    if (auto external = root.find_string("external ip")) {
        if (external->size() == 4) {
            std::array<std::uint8_t, 4> v4{};
            std::copy(external->begin(), external->end(), v4.begin());
            out.external_ip = ip_address::v4(v4);
        } else if (external->size() == 16) {
            std::array<std::uint8_t, 16> v6{};
            std::copy(external->begin(), external->end(), v6.begin());
            out.external_ip = ip_address::v6(v6);
        }
    }

    const bnode peers = root.find("peers");
    if (peers.is_string()) {
        auto read = read_compact("peers", *peers.as_string(), compact_v4_size, limits.peers_max);
        if (!read) {
            return tl::unexpected(read.error());
        }
        out.peers = std::move(*read);
    } else if (peers.is_list()) {
        std::size_t index = 0;
        for (const bnode entry : peers.list_items()) {
            if (!entry.is_dict()) {
                return fail(errc::invalid_input, std::string(where),
                            "'peers[" + std::to_string(index) + "]' is not a dictionary");
            }
            ++index;
            const auto ip = entry.find_string("ip");
            const auto port = entry.find_int("port");
            auto address = ip ? ip_address::parse(*ip) : std::nullopt;
            // BEP 3 lets 'ip' be a DNS name, which a core cannot resolve: such peers are skipped.
            if (!address || !port || *port <= 0 || *port > 65535) {
                continue;
            }
            if (out.peers.size() < limits.peers_max) {
                out.peers.push_back(endpoint{*address, static_cast<std::uint16_t>(*port)});
            }
        }
    } else if (peers.valid()) {
        return fail(errc::invalid_input, std::string(where), "'peers' is neither a string nor a list");
    }
    const bnode peers6 = root.find("peers6");
    if (peers6.is_string()) {
        auto read =
            read_compact("peers6", *peers6.as_string(), compact_v6_size, limits.peers_max - out.peers.size());
        if (!read) {
            return tl::unexpected(read.error());
        }
        out.peers.insert(out.peers.end(), read->begin(), read->end());
    } else if (peers6.valid()) {
        return fail(errc::invalid_input, std::string(where), "'peers6' is not a string");
    }
    return out;
}

}  // namespace hyphae::tracker
