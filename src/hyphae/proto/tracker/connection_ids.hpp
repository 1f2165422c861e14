#pragma once
// BEP 15 connection ids without per-client state: the high 16 bits are the issue time (seconds,
// modulo 2^16) and the low 48 bits a MAC (keyed SipHash) of the full issue time and the client's
// address and port. An id is valid from the address it was issued to, for `lifetime` after it was
// issued (BEP 15 asks trackers to accept one for two minutes); nobody who lacks the key can make
// one, so an announce with a valid id comes from an address that can receive our answers.
//
// Times are seconds on the tracker's clock; `now` never goes backwards and must be at least
// `lifetime` (the tracker's clock starts well above it).

#include <cstdint>

#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/keyed_hash.hpp"

namespace hyphae::tracker {

class connection_ids {
public:
    connection_ids(const keyed_hash& mac, std::uint32_t lifetime_seconds);

    std::uint64_t issue(std::uint32_t now, const endpoint& to) const;
    bool valid(std::uint32_t now, const endpoint& from, std::uint64_t id) const;

private:
    std::uint64_t mac48(std::uint32_t issued, const endpoint& peer) const;

    keyed_hash mac_;
    std::uint32_t lifetime_;
};

}  // namespace hyphae::tracker
