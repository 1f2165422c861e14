#pragma once
// Requests per second per source address: one token bucket (`rate` a second, up to `burst`) for
// each IPv4 address and each IPv6 /64 (one host can hold a whole /64, so its addresses count as
// one). At most addresses_max buckets are kept: a bucket that has filled up again is as good as
// none, so prune() drops those; when the table is still full of busy addresses, requests from a
// new address go through untracked (and are counted) rather than being refused.
// Sans-I/O: `now` comes from the caller and never goes backwards. A rate of 0 turns it off.

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/keyed_hash.hpp"
#include "hyphae/core/time.hpp"

namespace hyphae {

class address_rate_limiter {
public:
    address_rate_limiter(double rate, double burst, std::size_t addresses_max, const keyed_hash& hash);

    // True when a request from `from` may be served now (it takes one token).
    bool allow(time_point now, const ip_address& from);
    void prune(time_point now);

    bool enabled() const { return rate_ > 0; }
    std::size_t addresses() const { return buckets_.size(); }
    std::uint64_t untracked() const { return untracked_; }

private:
    struct key {
        std::uint64_t prefix = 0;  // the IPv4 address, or the first 64 bits of an IPv6 one
        bool v6 = false;
        friend bool operator==(const key&, const key&) = default;
    };
    struct key_hasher {
        keyed_hash hash;
        std::size_t operator()(const key& k) const;
    };
    struct bucket {
        double tokens = 0;
        time_point refilled;
    };
    double level(const bucket& b, time_point now) const;

    double rate_;
    double burst_;
    std::size_t addresses_max_;
    std::unordered_map<key, bucket, key_hasher> buckets_;
    time_point last_prune_{};  // scans when full come at most once a second
    std::uint64_t untracked_ = 0;
};

}  // namespace hyphae
