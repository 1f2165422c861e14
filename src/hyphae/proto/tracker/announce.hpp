#pragma once
// HTTP tracker announces (BEP 3, with BEP 7 peers6, BEP 23 compact peers, BEP 24 external ip).
//
// announce_url() builds the GET URL: the binary info-hash and peer id percent-encoded, the query
// added after '?' or, when the base has one already (passkeys), after '&'.
// parse_announce_response() reads the bencoded body. A 'failure reason' is an error whose `what`
// is the tracker's text. Peers come from a compact 'peers' string (6 bytes each), a list of
// {ip, port} dictionaries, and a compact 'peers6' string (18 bytes each); a compact string of the
// wrong length is an error, list entries whose ip is not an address literal (a DNS name) or whose
// port is 0 or out of range are skipped, and peers beyond limits.peers_max are dropped.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/bytes.hpp"
#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/error.hpp"
#include "hyphae/core/sha.hpp"

namespace hyphae::tracker {

// Numbered as in the BEP 15 announce packet.
enum class announce_event : std::uint32_t { none = 0, completed = 1, started = 2, stopped = 3 };

std::string_view to_string(announce_event event);  // "", "completed", "started", "stopped"

struct announce_request {
    sha1_hash info_hash;
    id160 peer_id;
    std::uint16_t port = 0;
    std::int64_t uploaded = 0;
    std::int64_t downloaded = 0;
    std::int64_t left = 0;
    announce_event event = announce_event::none;
    std::int32_t numwant = 50;  // negative: let the tracker choose (omitted / -1 over UDP)
    std::uint32_t key = 0;      // lets the tracker recognise us across address changes
    std::string tracker_id;     // the 'tracker id' a tracker gave us, echoed as 'trackerid'
};

// `base` is the tracker's announce URL as written in the torrent.
std::string announce_url(std::string_view base, const announce_request& request);

struct announce_response {
    std::optional<std::chrono::seconds> interval;
    std::optional<std::chrono::seconds> min_interval;
    std::optional<std::int64_t> complete;    // seeders
    std::optional<std::int64_t> incomplete;  // leechers
    std::optional<std::int64_t> downloaded;  // completed downloads, when the tracker says
    std::string tracker_id;
    std::string warning_message;
    std::optional<ip_address> external_ip;  // BEP 24: our address as the tracker sees it
    std::vector<endpoint> peers;            // IPv4 then IPv6, each in the order received
};

struct announce_limits {
    std::size_t peers_max = 2000;
    // Some trackers write dictionary keys out of order, so sorted keys are not required.
    bdecode_limits bencode{
        .depth_max = 8, .values_max = 100'000, .string_length_max = 1u << 20, .sorted_keys_required = false};
};

result<announce_response> parse_announce_response(byte_view body, const announce_limits& limits = {});

}  // namespace hyphae::tracker
