#pragma once
// KRPC (BEP 5): bencoded dictionaries over UDP, one message a datagram. decode_krpc() turns a
// datagram into a krpc_message of plain fields and never throws; encode_krpc() writes one back
// with its keys in the sorted order bencode requires. The same structs carry both directions, so
// a round trip is the codec's own test.
//
// Methods: BEP 5 (ping, find_node, get_peers, announce_peer), BEP 32 (nodes6, want), BEP 42 (ip),
// BEP 43 (ro), BEP 44 (get, put), BEP 51 (sample_infohashes). An unknown method still decodes
// (method == unknown, name kept) so the node can answer 204; other arguments are checked only for
// the methods that use them.
//
// A datagram that fails to decode yields a krpc_decode_error carrying the transaction id when one
// could be read: BEP 5 says a malformed query is answered with error 203, and an answer needs
// the id. Without one there is nobody to answer and the datagram is dropped.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/endpoint.hpp"
#include "hyphae/proto/dht/node_contact.hpp"

namespace hyphae::dht {

enum class krpc_method : std::uint8_t {
    ping,
    find_node,
    get_peers,
    announce_peer,
    get,
    put,
    sample_infohashes,
    unknown,
};

std::string_view to_string(krpc_method method);

// KRPC error codes: BEP 5 (201-204) and BEP 44 (205-207, 301, 302).
namespace krpc_errc {
inline constexpr int generic = 201;
inline constexpr int server = 202;
inline constexpr int protocol = 203;
inline constexpr int method_unknown = 204;
inline constexpr int value_too_big = 205;
inline constexpr int bad_signature = 206;
inline constexpr int salt_too_big = 207;
inline constexpr int cas_mismatch = 301;
inline constexpr int sequence_too_old = 302;
}  // namespace krpc_errc

// Limits a decoder applies to what arrives from the network.
inline constexpr std::size_t krpc_datagram_max = 1500 * 2;  // IPv6 jumbo answers are not a thing here
inline constexpr std::size_t transaction_id_max = 16;       // ours are 2-4 bytes; others' up to this

struct krpc_query {
    krpc_method method = krpc_method::ping;
    std::string method_name;  // as received, for unknown methods
    node_id id;
    std::optional<node_id> target;      // find_node, get, sample_infohashes
    std::optional<id160> info_hash;     // get_peers, announce_peer
    std::optional<std::uint16_t> port;  // announce_peer
    bool implied_port = false;          // announce_peer: use the datagram's source port
    bool seed = false;                  // announce_peer (BEP 33)
    std::string token;                  // announce_peer, put
    bool want_v4 = false;               // BEP 32 "want": n4
    bool want_v6 = false;               // BEP 32 "want": n6
    bool read_only = false;             // BEP 43 "ro": do not add the sender to a routing table
    // BEP 44
    std::optional<std::string> value;      // put: v, as its bencoded bytes
    std::optional<std::string> key;        // put: k, 32 bytes
    std::optional<std::string> signature;  // put: sig, 64 bytes
    std::string salt;                      // put; get does not carry it
    std::optional<std::int64_t> seq;       // put: the item's; get: the newest the asker has
    std::optional<std::int64_t> cas;       // put: compare-and-swap
};

struct krpc_response {
    node_id id;
    std::vector<node_contact> nodes;   // "nodes"
    std::vector<node_contact> nodes6;  // "nodes6"
    std::vector<endpoint> values;      // get_peers: peers
    std::optional<std::string> token;
    // BEP 44 get
    std::optional<std::string> value;  // v, bencoded
    std::optional<std::string> key;
    std::optional<std::string> signature;
    std::optional<std::int64_t> seq;
    // BEP 51
    std::optional<std::vector<id160>> samples;
    std::optional<std::int64_t> num;
    std::optional<std::int64_t> interval;
};

struct krpc_error_body {
    int code = krpc_errc::generic;
    std::string message;
};

struct krpc_message {
    enum class kind : std::uint8_t { query, response, error };
    kind type = kind::query;
    std::string transaction_id;
    std::string version;                // "v", the client's name and version (BEP 20 style)
    std::optional<endpoint> requester;  // BEP 42 "ip": the address the sender saw us at
    krpc_query query;                   // type == query
    krpc_response response;             // type == response
    krpc_error_body error;              // type == error
};

struct krpc_decode_error {
    std::string transaction_id;  // empty when none could be read
    bool is_query = false;       // the datagram said y = "q": it deserves a 203 answer
    std::string message;         // what is wrong and where, e.g. "a.info_hash: not 20 bytes"
};

tl::expected<krpc_message, krpc_decode_error> decode_krpc(byte_view datagram);

// Appends the encoded message to `out` (which the caller may reuse between messages).
void encode_krpc(std::string& out, const krpc_message& message);
std::string encode_krpc(const krpc_message& message);

}  // namespace hyphae::dht
