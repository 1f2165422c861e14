#pragma once
// BEP 44's rules for items stored in the DHT, as pure functions: the targets items are stored
// under, the bytes a mutable item's signature covers, the checks a storing node makes on a put,
// and the checks a requesting node makes on what a get returns.
//
// `v` is always the verbatim bencoded value as it appeared in the message (bnode::raw()): BEP 44
// hashes and signs those bytes, and decoding and re-encoding is not an identity. A salt is raw
// bytes; an empty salt is the same as none. Rejections are item_errors, which carry the KRPC
// error code and message the BEP gives, for an error reply as they are.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/ed25519.hpp"
#include "hyphae/core/sha.hpp"

namespace hyphae::dht {

// Storing nodes MAY reject a longer v, and BEP 44 tells putters not to count on more.
inline constexpr std::size_t item_value_size_max = 1000;
// A salt MUST NOT be longer.
inline constexpr std::size_t item_salt_size_max = 64;

// The values are the KRPC error codes.
enum class item_errc : std::uint16_t {
    protocol_error = 203,     // BEP 5's code, for what BEP 44 has none: see item_store
    value_too_big = 205,      // v longer than the storing node accepts
    invalid_signature = 206,  // sig does not verify with k
    salt_too_big = 207,       // salt longer than 64 bytes
    cas_mismatch = 301,       // cas is not the stored seq
    seq_not_newer = 302,      // seq lower than the stored one (or equal, with another v)
};

struct item_error {
    item_errc code;

    int krpc_code() const { return static_cast<int>(code); }
    // BEP 44's text for the code, e.g. "message (v field) too big".
    std::string_view message() const;

    friend bool operator==(const item_error&, const item_error&) = default;
};

template <class T>
using item_result = tl::expected<T, item_error>;

inline tl::unexpected<item_error> item_fail(item_errc code) {
    return tl::unexpected<item_error>(item_error{code});
}

// SHA-1 of v.
sha1_hash immutable_target(byte_view value);
// SHA-1 of k ‖ salt.
sha1_hash mutable_target(const ed25519::public_key& key, byte_view salt);

// What a mutable item's signature covers: "4:salt<len>:<salt>" (only for a non-empty salt), then
// "3:seqi<seq>e1:v" and v.
std::string signature_buffer(byte_view salt, std::int64_t seq, byte_view value);

// 205 for v longer than `value_size_max`, then 207 for a salt longer than 64 bytes.
item_result<void> check_sizes(byte_view salt, byte_view value,
                              std::size_t value_size_max = item_value_size_max);

bool valid_signature(const ed25519::public_key& key, byte_view salt, std::int64_t seq,
                     const ed25519::signature& sig, byte_view value);

// What a put does to a live mutable item that holds `stored_seq`.
enum class mutable_update : std::uint8_t {
    replace,  // seq is newer: store the put's item
    refresh,  // seq and v are the stored ones: keep the item, restart its lifetime
};

// BEP 44's ordering rules, cas first: 301 when cas is given and is not stored_seq (the BEP says
// MUST); 302 when seq is lower than stored_seq, and also when it is equal but v differs (the BEP
// says such a put MUST be rejected and names no code for it; 302 tells the putter the same thing:
// publish a higher seq). The signature is not checked here.
item_result<mutable_update> check_mutable_update(std::int64_t stored_seq, bool same_value, std::int64_t seq,
                                                 std::optional<std::int64_t> cas);

// A mutable item as its publisher holds it, for our own puts: everything a put message carries.
struct mutable_item {
    ed25519::public_key key;
    std::string salt;
    std::int64_t seq = 0;
    ed25519::signature sig;
    std::string value;  // bencoded

    byte_view salt_bytes() const { return as_bytes(salt); }
    byte_view value_bytes() const { return as_bytes(value); }
    sha1_hash target() const { return mutable_target(key, salt_bytes()); }
};

// Signs `value` (bencoded) at `seq` under `salt`. 205 when value is longer than 1000 bytes, 207 for
// the salt, 203 when value is not exactly one bencoded value (it goes into messages as it is).
item_result<mutable_item> make_mutable_item(const ed25519::keypair& keys, std::string salt, std::int64_t seq,
                                            std::string value);

// A requesting node's checks on a get reply (the BEP: MUST verify key and signature, SHOULD verify
// an immutable v): the item hashes to the target looked up, and for a mutable one, `salt` being
// the salt of that lookup, the signature verifies.
bool valid_immutable_reply(const sha1_hash& target, byte_view value);
bool valid_mutable_reply(const sha1_hash& target, byte_view salt, const ed25519::public_key& key,
                         std::int64_t seq, const ed25519::signature& sig, byte_view value);

}  // namespace hyphae::dht
