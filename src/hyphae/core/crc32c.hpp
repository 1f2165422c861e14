#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82f63b78, as in iSCSI and SSE 4.2's crc32
// instruction), the hash BEP 42 ties DHT node ids to addresses with. Table-driven, one byte a
// step: BEP 42 hashes 4 or 8 bytes, so a faster form would buy nothing. A pure function: cores
// may call it.

#include <cstdint>

#include "hyphae/core/bytes.hpp"

namespace hyphae {

// The CRC of `data`; pass the CRC of what came before as `previous` to continue a message in
// pieces (crc32c(b, crc32c(a)) == crc32c(a then b)).
std::uint32_t crc32c(byte_view data, std::uint32_t previous = 0);

}  // namespace hyphae
