#pragma once
// BEP 15 connection ids without per-client state: the top bit is set, the next 15 bits are the
// issue time (seconds, modulo 2^15) and the low 48 bits a MAC (keyed SipHash) of the full issue
// time and the client's address and port. An id is valid from the address it was issued to, for
// `lifetime` after it was issued (BEP 15 asks trackers to accept one for two minutes); nobody who
// lacks the key can make one, so an announce with a valid id comes from an address that can
// receive our answers.
//
// Why the top bit: a request starts with its connection id, and the host hands each datagram on
// its one UDP port to the service that claims its first byte. With the top bit set a request to
// us never looks like KRPC ('d'), a BEP 15 answer (00 00 00 0x), a BEP 15 connect (00 00 04 17)
// or uTP (type << 4 | 1, type <= 4), so has_our_mark() is enough to claim it.
//
// Times are seconds on the tracker's clock; `now` never goes backwards and must be at least
// `lifetime` (the tracker's clock starts well above it); `lifetime` is below 2^15 seconds.

#include <cstdint>

#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/keyed_hash.hpp"

namespace hyphae::tracker {

class connection_ids {
public:
    static constexpr std::uint64_t mark = std::uint64_t{1} << 63;

    connection_ids(const keyed_hash& mac, std::uint32_t lifetime_seconds);

    std::uint64_t issue(std::uint32_t now, const endpoint& to) const;
    bool valid(std::uint32_t now, const endpoint& from, std::uint64_t id) const;

    // Whether `id` could be one of ours (every id we issue has the mark; most with it are forged).
    static bool has_our_mark(std::uint64_t id) { return (id & mark) != 0; }

private:
    std::uint64_t mac48(std::uint32_t issued, const endpoint& peer) const;

    keyed_hash mac_;
    std::uint32_t lifetime_;
};

}  // namespace hyphae::tracker
