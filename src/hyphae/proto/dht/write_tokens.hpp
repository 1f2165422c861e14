#pragma once
// BEP 5 write tokens without per-requester state. A get_peers (or BEP 44 get) answer carries a
// token; announce_peer (or put) must bring it back from the same IP address (the port may
// differ: NATs change it, and announces may come from another socket).
//
// A token is 8 bytes of a MAC (keyed SipHash-2-4) of the requester's address and the number of
// the current rotation period (`now` divided by `rotation`, five minutes by default as BEP 5
// suggests). check() accepts the current period and the one before, so a token lives from one to
// two periods (5 to 10 minutes), as BEP 5 asks. Putting the period number in the MAC input does
// what rotating two random secrets does (a token dies two rotations after it was made; tokens
// from different periods are unrelated) with one key, no timer and no state to change: issue()
// and check() are const.
//
// Why 8 bytes: a sender who spoofs an address never sees its tokens and can only guess; with 4
// bytes (libtorrent's size) a flood of 10^5 guesses a second gets one accepted within minutes
// with fair odds, with 8 bytes never. Four more bytes in a get_peers answer are cheap.
//
// IPv4-mapped IPv6 addresses count as the IPv4 address. `now` never goes backwards.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/keyed_hash.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/core/time.hpp"

namespace hyphae::dht {

class write_tokens {
public:
    static constexpr std::size_t token_size = 8;

    // The key is drawn once from `random`. A non-positive rotation counts as one nanosecond.
    explicit write_tokens(rng& random, duration rotation = minutes(5));

    std::string issue(time_point now, const ip_address& requester) const;
    // False for any token not issue()d to this address in this period or the one before,
    // including any of the wrong length.
    bool check(time_point now, const ip_address& requester, std::string_view token) const;

    duration rotation() const { return rotation_; }

private:
    std::int64_t period_of(time_point now) const;
    std::uint64_t mac(std::int64_t period, const ip_address& requester) const;

    keyed_hash key_;
    duration rotation_;
};

}  // namespace hyphae::dht
