#pragma once
// UDP tracker packets (BEP 15), all integers big-endian.
//
//   connect request   16 bytes: protocol id 0x41727101980, action 0, transaction id
//   announce request  98 bytes: connection id, action 1, transaction id, info-hash, peer id,
//                     downloaded, left, uploaded, event, ip (0), key, num_want, port
//   scrape request    16 + 20 n bytes: connection id, action 2, transaction id, info-hashes
//
// decode_udp_tracker_response() reads the four kinds of response, checking each one's exact size:
//   connect (0)   16 bytes: action, transaction id, connection id
//   announce (1)  20 + 6 n bytes (18 n when the tracker is reached over IPv6): action,
//                 transaction id, interval, leechers, seeders, peers
//   scrape (2)    8 + 12 n bytes: action, transaction id, (seeders, completed, leechers) per hash
//   error (3)     8 + n bytes: action, transaction id, message
// Whether the transaction id and action are the ones awaited is for the caller (tracker_client).
//
// The tracker's side reads requests and writes the same four responses. An announce request may be
// longer than 98 bytes (BEP 41 options follow); the options are ignored.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/error.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/proto/tracker/announce.hpp"

namespace hyphae::tracker {

inline constexpr std::uint64_t udp_tracker_protocol_id = 0x41727101980;
inline constexpr std::size_t udp_announce_request_size = 98;
// 16 + 20 * 74 + IP and UDP headers stay under the common 1500-byte MTU; BEP 15 gives the number.
inline constexpr std::size_t udp_scrape_hashes_max = 74;

enum class udp_tracker_action : std::uint32_t { connect = 0, announce = 1, scrape = 2, error = 3 };

byte_buffer encode_udp_connect(std::uint32_t transaction_id);
byte_buffer encode_udp_announce(std::uint64_t connection_id, std::uint32_t transaction_id,
                                const announce_request& request);
// Between 1 and udp_scrape_hashes_max hashes, or an error.
result<byte_buffer> encode_udp_scrape(std::uint64_t connection_id, std::uint32_t transaction_id,
                                      std::span<const sha1_hash> info_hashes);

struct udp_connect_response {
    std::uint32_t transaction_id = 0;
    std::uint64_t connection_id = 0;
};

struct udp_announce_response {
    std::uint32_t transaction_id = 0;
    std::chrono::seconds interval{0};
    std::uint32_t leechers = 0;
    std::uint32_t seeders = 0;
    std::vector<endpoint> peers;  // in the order received; port-0 entries skipped
};

struct udp_scrape_entry {
    std::uint32_t seeders = 0;
    std::uint32_t completed = 0;
    std::uint32_t leechers = 0;
};

struct udp_scrape_response {
    std::uint32_t transaction_id = 0;
    std::vector<udp_scrape_entry> entries;  // in the order the hashes were asked
};

struct udp_error_response {
    std::uint32_t transaction_id = 0;
    std::string message;
};

using udp_tracker_response =
    std::variant<udp_connect_response, udp_announce_response, udp_scrape_response, udp_error_response>;

udp_tracker_action action_of(const udp_tracker_response& response);
std::uint32_t transaction_id_of(const udp_tracker_response& response);

struct udp_tracker_limits {
    std::size_t peers_max = 2000;  // more are dropped
    bool ipv6_peers = false;       // the tracker was reached over IPv6: peers are 18 bytes
};

result<udp_tracker_response> decode_udp_tracker_response(byte_view datagram,
                                                         const udp_tracker_limits& limits = {});

// The tracker's side.

inline constexpr std::size_t udp_request_header_size = 16;

struct udp_request_header {
    std::uint64_t connection_id = 0;  // the protocol id in a connect request
    std::uint32_t action = 0;         // raw: it may be none of udp_tracker_action
    std::uint32_t transaction_id = 0;
};

// Empty for a datagram shorter than 16 bytes (too short to answer).
std::optional<udp_request_header> read_udp_request_header(byte_view datagram);

struct udp_announce_fields {
    announce_request request;  // numwant is negative when the client leaves it to the tracker
    std::uint32_t ip = 0;      // the 'ip' field, host order; 0: the datagram's source address
};

// An announce request (action 1) of at least 98 bytes with an event of 0..3.
result<udp_announce_fields> decode_udp_announce_request(byte_view datagram);
// A scrape request (action 2) of 16 + 20 n bytes, 1 <= n <= hashes_max.
result<std::vector<sha1_hash>> decode_udp_scrape_request(byte_view datagram,
                                                         std::size_t hashes_max = udp_scrape_hashes_max);

byte_buffer encode_udp_connect_response(std::uint32_t transaction_id, std::uint64_t connection_id);
// Peers of the requester's family only: 6 bytes each over IPv4, 18 over IPv6 (`ipv6`); peers of
// the other family are skipped.
byte_buffer encode_udp_announce_response(std::uint32_t transaction_id, std::chrono::seconds interval,
                                         std::uint32_t leechers, std::uint32_t seeders,
                                         std::span<const endpoint> peers, bool ipv6);
byte_buffer encode_udp_scrape_response(std::uint32_t transaction_id,
                                       std::span<const udp_scrape_entry> entries);
byte_buffer encode_udp_error_response(std::uint32_t transaction_id, std::string_view message);

}  // namespace hyphae::tracker
