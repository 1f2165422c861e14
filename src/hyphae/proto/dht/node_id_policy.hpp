#pragma once
// BEP 42: node ids bound to the node's external address, so that nobody can place many nodes next
// to an info-hash of their choice without owning many addresses.
//
// The prefix of an address is crc32c((ip & 0x030f3fff) | (r << 29)) for IPv4 and
// crc32c((ip64 & 0x0103070f1f3f7fff) | (r << 61)) for IPv6 (ip64: the high 64 bits), the masked
// value hashed as 4 or 8 big-endian bytes, r in [0, 7]. A valid id has the prefix's first 21 bits
// as its first 21 bits, and a last byte whose low 3 bits are r; every other bit is free. (The
// BEP's test vectors give the whole last byte as "rand": r is its low 3 bits.)
//
// Enforcement is the caller's: BEP 42 asks only that nodes whose id fails verification get no
// stored data (their get_peers token is ignored, and they do not count toward a lookup's "closest
// answered"); their queries are still served. Addresses on local networks are exempt, since
// their owner cannot know an external address: 10/8, 172.16/12, 192.168/16, 169.254/16 and 127/8
// as the BEP lists them, and, our choice for IPv6, ::1, fc00::/7 (unique local) and fe80::/10
// (link-local). IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are treated as the IPv4 address.

#include <cstdint>

#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/proto/dht/node_contact.hpp"

namespace hyphae::dht {

// The CRC-32C of the masked address and r (only r's low 3 bits count).
std::uint32_t node_id_prefix(const ip_address& address, std::uint8_t r);

// A valid id for `external`: the prefix's 21 bits, then random bits, then `last_byte` (whose low
// 3 bits are the r hashed).
node_id make_node_id(const ip_address& external, std::uint8_t last_byte, rng& random);
// The same with a random last byte.
node_id make_node_id(const ip_address& external, rng& random);

// True when the id is valid for the address, or the address is exempt.
bool verify_node_id(const node_id& id, const ip_address& address);

// Loopback, private and link-local addresses, which BEP 42 does not check.
bool is_exempt(const ip_address& address);

}  // namespace hyphae::dht
