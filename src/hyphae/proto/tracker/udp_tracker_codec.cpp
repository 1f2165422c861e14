#include "hyphae/proto/tracker/udp_tracker_codec.hpp"

#include <algorithm>

namespace hyphae::tracker {
namespace {

constexpr std::string_view where = "udp tracker response";

void put32(byte_buffer& out, std::uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(value >> shift));
    }
}

void put64(byte_buffer& out, std::uint64_t value) {
    put32(out, static_cast<std::uint32_t>(value >> 32));
    put32(out, static_cast<std::uint32_t>(value));
}

std::uint32_t get32(byte_view in, std::size_t at) {
    return static_cast<std::uint32_t>(in[at]) << 24 | static_cast<std::uint32_t>(in[at + 1]) << 16 |
           static_cast<std::uint32_t>(in[at + 2]) << 8 | in[at + 3];
}

std::uint64_t get64(byte_view in, std::size_t at) {
    return static_cast<std::uint64_t>(get32(in, at)) << 32 | get32(in, at + 4);
}

void put_header(byte_buffer& out, std::uint64_t connection_id, udp_tracker_action action,
                std::uint32_t transaction_id) {
    put64(out, connection_id);
    put32(out, static_cast<std::uint32_t>(action));
    put32(out, transaction_id);
}

tl::unexpected<error> wrong_size(std::string_view kind, std::size_t size, std::string_view expected) {
    return fail(errc::invalid_input, std::string(where),
                std::string(kind) + " response of " + std::to_string(size) + " bytes (expected " +
                    std::string(expected) + ")");
}

}  // namespace

byte_buffer encode_udp_connect(std::uint32_t transaction_id) {
    byte_buffer out;
    out.reserve(16);
    put_header(out, udp_tracker_protocol_id, udp_tracker_action::connect, transaction_id);
    return out;
}

byte_buffer encode_udp_announce(std::uint64_t connection_id, std::uint32_t transaction_id,
                                const announce_request& request) {
    byte_buffer out;
    out.reserve(udp_announce_request_size);
    put_header(out, connection_id, udp_tracker_action::announce, transaction_id);
    out.insert(out.end(), request.info_hash.bytes.begin(), request.info_hash.bytes.end());
    out.insert(out.end(), request.peer_id.bytes.begin(), request.peer_id.bytes.end());
    put64(out, static_cast<std::uint64_t>(std::max<std::int64_t>(request.downloaded, 0)));
    put64(out, static_cast<std::uint64_t>(std::max<std::int64_t>(request.left, 0)));
    put64(out, static_cast<std::uint64_t>(std::max<std::int64_t>(request.uploaded, 0)));
    put32(out, static_cast<std::uint32_t>(request.event));
    put32(out, 0);  // ip: the tracker uses the datagram's source address
    put32(out, request.key);
    put32(out, static_cast<std::uint32_t>(request.numwant < 0 ? -1 : request.numwant));
    out.push_back(static_cast<std::uint8_t>(request.port >> 8));
    out.push_back(static_cast<std::uint8_t>(request.port));
    return out;
}

result<byte_buffer> encode_udp_scrape(std::uint64_t connection_id, std::uint32_t transaction_id,
                                      std::span<const sha1_hash> info_hashes) {
    if (info_hashes.empty() || info_hashes.size() > udp_scrape_hashes_max) {
        return fail(errc::invalid_argument, "udp tracker scrape",
                    std::to_string(info_hashes.size()) + " info-hashes, not 1.." +
                        std::to_string(udp_scrape_hashes_max));
    }
    byte_buffer out;
    out.reserve(16 + 20 * info_hashes.size());
    put_header(out, connection_id, udp_tracker_action::scrape, transaction_id);
    for (const sha1_hash& hash : info_hashes) {
        out.insert(out.end(), hash.bytes.begin(), hash.bytes.end());
    }
    return out;
}

udp_tracker_action action_of(const udp_tracker_response& response) {
    return static_cast<udp_tracker_action>(response.index());
}

std::uint32_t transaction_id_of(const udp_tracker_response& response) {
    return std::visit([](const auto& r) { return r.transaction_id; }, response);
}

result<udp_tracker_response> decode_udp_tracker_response(byte_view datagram,
                                                         const udp_tracker_limits& limits) {
    if (datagram.size() < 8) {
        return fail(errc::invalid_input, std::string(where),
                    "datagram of " + std::to_string(datagram.size()) + " bytes is shorter than 8");
    }
    const std::uint32_t action = get32(datagram, 0);
    const std::uint32_t transaction_id = get32(datagram, 4);
    switch (action) {
        case static_cast<std::uint32_t>(udp_tracker_action::connect): {
            if (datagram.size() != 16) {
                return wrong_size("connect", datagram.size(), "16");
            }
            return udp_connect_response{transaction_id, get64(datagram, 8)};
        }
        case static_cast<std::uint32_t>(udp_tracker_action::announce): {
            const std::size_t entry = limits.ipv6_peers ? compact_v6_size : compact_v4_size;
            if (datagram.size() < 20 || (datagram.size() - 20) % entry != 0) {
                return wrong_size("announce", datagram.size(), "20 + " + std::to_string(entry) + " per peer");
            }
            udp_announce_response out;
            out.transaction_id = transaction_id;
            out.interval = std::chrono::seconds(get32(datagram, 8));
            out.leechers = get32(datagram, 12);
            out.seeders = get32(datagram, 16);
            for (std::size_t at = 20; at < datagram.size() && out.peers.size() < limits.peers_max;
                 at += entry) {
                auto peer = parse_compact(datagram.subspan(at, entry));
                if (peer && peer->port != 0) {
                    out.peers.push_back(*peer);
                }
            }
            return out;
        }
        case static_cast<std::uint32_t>(udp_tracker_action::scrape): {
            if ((datagram.size() - 8) % 12 != 0) {
                return wrong_size("scrape", datagram.size(), "8 + 12 per info-hash");
            }
            udp_scrape_response out;
            out.transaction_id = transaction_id;
            for (std::size_t at = 8; at < datagram.size(); at += 12) {
                out.entries.push_back(
                    udp_scrape_entry{get32(datagram, at), get32(datagram, at + 4), get32(datagram, at + 8)});
            }
            return out;
        }
        case static_cast<std::uint32_t>(udp_tracker_action::error):
            return udp_error_response{transaction_id, std::string(as_chars(datagram.subspan(8)))};
        default:
            return fail(errc::invalid_input, std::string(where), "unknown action " + std::to_string(action));
    }
}

std::optional<udp_request_header> read_udp_request_header(byte_view datagram) {
    if (datagram.size() < udp_request_header_size) {
        return std::nullopt;
    }
    return udp_request_header{get64(datagram, 0), get32(datagram, 8), get32(datagram, 12)};
}

result<udp_announce_fields> decode_udp_announce_request(byte_view datagram) {
    constexpr std::string_view request_where = "udp tracker announce";
    if (datagram.size() < udp_announce_request_size) {
        return fail(errc::invalid_input, std::string(request_where),
                    "request of " + std::to_string(datagram.size()) + " bytes is shorter than 98");
    }
    const std::uint32_t event = get32(datagram, 80);
    if (event > static_cast<std::uint32_t>(announce_event::stopped)) {
        return fail(errc::invalid_input, std::string(request_where),
                    "unknown event " + std::to_string(event));
    }
    udp_announce_fields out;
    announce_request& r = out.request;
    r.info_hash = *sha1_hash::from_bytes(datagram.subspan(16, 20));
    r.peer_id = *id160::from_bytes(datagram.subspan(36, 20));
    // Counters beyond INT64_MAX are nonsense; reading them as the maximum keeps them non-negative.
    auto counter = [&](std::size_t at) {
        return static_cast<std::int64_t>(std::min<std::uint64_t>(get64(datagram, at), INT64_MAX));
    };
    r.downloaded = counter(56);
    r.left = counter(64);
    r.uploaded = counter(72);
    r.event = static_cast<announce_event>(event);
    out.ip = get32(datagram, 84);
    r.key = get32(datagram, 88);
    r.numwant = static_cast<std::int32_t>(get32(datagram, 92));
    r.port = static_cast<std::uint16_t>(datagram[96] << 8 | datagram[97]);
    return out;
}

result<std::vector<sha1_hash>> decode_udp_scrape_request(byte_view datagram, std::size_t hashes_max) {
    const std::size_t body = datagram.size() < 16 ? 0 : datagram.size() - 16;
    if (datagram.size() < 16 + 20 || body % 20 != 0 || body / 20 > hashes_max) {
        return fail(errc::invalid_input, "udp tracker scrape",
                    "request of " + std::to_string(datagram.size()) +
                        " bytes (expected 16 + 20 per info-hash, 1.." + std::to_string(hashes_max) +
                        " of them)");
    }
    std::vector<sha1_hash> out;
    out.reserve(body / 20);
    for (std::size_t at = 16; at < datagram.size(); at += 20) {
        out.push_back(*sha1_hash::from_bytes(datagram.subspan(at, 20)));
    }
    return out;
}

byte_buffer encode_udp_connect_response(std::uint32_t transaction_id, std::uint64_t connection_id) {
    byte_buffer out;
    out.reserve(16);
    put32(out, static_cast<std::uint32_t>(udp_tracker_action::connect));
    put32(out, transaction_id);
    put64(out, connection_id);
    return out;
}

byte_buffer encode_udp_announce_response(std::uint32_t transaction_id, std::chrono::seconds interval,
                                         std::uint32_t leechers, std::uint32_t seeders,
                                         std::span<const endpoint> peers, bool ipv6) {
    byte_buffer out;
    out.reserve(20 + peers.size() * (ipv6 ? compact_v6_size : compact_v4_size));
    put32(out, static_cast<std::uint32_t>(udp_tracker_action::announce));
    put32(out, transaction_id);
    put32(out, static_cast<std::uint32_t>(std::clamp<std::int64_t>(interval.count(), 0, UINT32_MAX)));
    put32(out, leechers);
    put32(out, seeders);
    for (const endpoint& peer : peers) {
        if (peer.address.is_v6() != ipv6) {
            continue;
        }
        const byte_view address = peer.address.bytes();
        out.insert(out.end(), address.begin(), address.end());
        out.push_back(static_cast<std::uint8_t>(peer.port >> 8));
        out.push_back(static_cast<std::uint8_t>(peer.port));
    }
    return out;
}

byte_buffer encode_udp_scrape_response(std::uint32_t transaction_id,
                                       std::span<const udp_scrape_entry> entries) {
    byte_buffer out;
    out.reserve(8 + 12 * entries.size());
    put32(out, static_cast<std::uint32_t>(udp_tracker_action::scrape));
    put32(out, transaction_id);
    for (const udp_scrape_entry& e : entries) {
        put32(out, e.seeders);
        put32(out, e.completed);
        put32(out, e.leechers);
    }
    return out;
}

byte_buffer encode_udp_error_response(std::uint32_t transaction_id, std::string_view message) {
    byte_buffer out;
    out.reserve(8 + message.size());
    put32(out, static_cast<std::uint32_t>(udp_tracker_action::error));
    put32(out, transaction_id);
    out.insert(out.end(), message.begin(), message.end());
    return out;
}

}  // namespace hyphae::tracker
