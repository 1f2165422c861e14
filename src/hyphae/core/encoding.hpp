#pragma once
// Hex (RFC 4648 base16, lower case out, either case in) and base32 (RFC 4648 alphabet, upper case
// out, either case in, no padding): the two forms info-hashes take in magnet links.

#include <optional>
#include <string>
#include <string_view>

#include "hyphae/core/bytes.hpp"

namespace hyphae {

// 0-15 for a hex digit of either case, -1 for anything else.
int hex_digit_value(char c);

std::string to_hex(byte_view bytes);
// Empty optional on an odd length or a non-hex character.
std::optional<byte_buffer> from_hex(std::string_view text);

std::string to_base32(byte_view bytes);
// Empty optional on a character outside the alphabet, on padding, or on non-zero trailing bits.
std::optional<byte_buffer> from_base32(std::string_view text);

// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string percent_encode(std::string_view text);

// How a '+' in a query reads: a space in magnet links (form encoding, as libtorrent reads them);
// itself in tracker queries, whose binary values clients escape byte by byte (as opentracker reads
// them).
enum class plus_sign { space, literal };

// Decodes %XX escapes; empty on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text, plus_sign plus = plus_sign::space);

}  // namespace hyphae
