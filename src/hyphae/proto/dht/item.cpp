#include "hyphae/proto/dht/item.hpp"

#include <charconv>
#include <utility>

#include "hyphae/core/bencode.hpp"

namespace hyphae::dht {
namespace {

void append_decimal(std::string& out, std::int64_t value) {
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
    (void)ec;  // 24 characters hold any int64
    out.append(digits, end);
}

}  // namespace

std::string_view item_error::message() const {
    switch (code) {
        case item_errc::protocol_error:
            return "Protocol Error";
        case item_errc::value_too_big:
            return "message (v field) too big";
        case item_errc::invalid_signature:
            return "invalid signature";
        case item_errc::salt_too_big:
            return "salt (salt field) too big";
        case item_errc::cas_mismatch:
            return "the CAS hash mismatched, re-read value and try again";
        case item_errc::seq_not_newer:
            return "sequence number less than current";
    }
    return "unknown error";
}

sha1_hash immutable_target(byte_view value) {
    return sha1(value);
}

sha1_hash mutable_target(const ed25519::public_key& key, byte_view salt) {
    if (salt.empty()) {
        return sha1(key.view());
    }
    sha1_hasher hasher;
    hasher.update(key.view());
    hasher.update(salt);
    return hasher.finish();
}

std::string signature_buffer(byte_view salt, std::int64_t seq, byte_view value) {
    std::string out;
    out.reserve(salt.size() + value.size() + 48);
    if (!salt.empty()) {
        out += "4:salt";
        append_decimal(out, static_cast<std::int64_t>(salt.size()));
        out += ':';
        out += as_chars(salt);
    }
    out += "3:seqi";
    append_decimal(out, seq);
    out += "e1:v";
    out += as_chars(value);
    return out;
}

item_result<void> check_sizes(byte_view salt, byte_view value, std::size_t value_size_max) {
    if (value.size() > value_size_max) {
        return item_fail(item_errc::value_too_big);
    }
    if (salt.size() > item_salt_size_max) {
        return item_fail(item_errc::salt_too_big);
    }
    return {};
}

bool valid_signature(const ed25519::public_key& key, byte_view salt, std::int64_t seq,
                     const ed25519::signature& sig, byte_view value) {
    return ed25519::verify(as_bytes(signature_buffer(salt, seq, value)), sig, key);
}

item_result<mutable_update> check_mutable_update(std::int64_t stored_seq, bool same_value, std::int64_t seq,
                                                 std::optional<std::int64_t> cas) {
    if (cas && *cas != stored_seq) {
        return item_fail(item_errc::cas_mismatch);
    }
    if (seq < stored_seq || (seq == stored_seq && !same_value)) {
        return item_fail(item_errc::seq_not_newer);
    }
    return seq == stored_seq ? mutable_update::refresh : mutable_update::replace;
}

item_result<mutable_item> make_mutable_item(const ed25519::keypair& keys, std::string salt, std::int64_t seq,
                                            std::string value) {
    if (auto sizes = check_sizes(as_bytes(salt), as_bytes(value)); !sizes) {
        return tl::unexpected(sizes.error());
    }
    if (!bdecode(as_bytes(value))) {
        return item_fail(item_errc::protocol_error);
    }
    mutable_item item{keys.key, std::move(salt), seq, {}, std::move(value)};
    item.sig = ed25519::sign(as_bytes(signature_buffer(item.salt_bytes(), seq, item.value_bytes())), keys);
    return item;
}

bool valid_immutable_reply(const sha1_hash& target, byte_view value) {
    return immutable_target(value) == target;
}

bool valid_mutable_reply(const sha1_hash& target, byte_view salt, const ed25519::public_key& key,
                         std::int64_t seq, const ed25519::signature& sig, byte_view value) {
    return mutable_target(key, salt) == target && valid_signature(key, salt, seq, sig, value);
}

}  // namespace hyphae::dht
