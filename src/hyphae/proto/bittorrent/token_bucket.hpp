#pragma once
// A token bucket for rate limiting: tokens (bytes) refill at `rate` per second up to `burst`, and
// a transfer may go when the bucket holds its bytes. Sans-I/O: every call takes `now` from the
// driver, and `now` never goes backwards (an earlier `now` counts as no time passing). The bucket
// starts full at the first call. A rate of 0 means unlimited: every grant is whole.
//
// Bytes refill with nanosecond precision and no drift: the fraction of a byte earned so far is
// carried to the next refill, so N grants over a second give exactly `rate` bytes, however small
// the steps.

#include <cstdint>
#include <optional>

#include "hyphae/core/time.hpp"

namespace hyphae::bittorrent {

class token_bucket {
public:
    // rate_bytes_per_s >= 0 (0 = unlimited), burst_bytes >= 0. A transfer larger than the burst
    // can never go in one grant: size the burst to at least the largest unit you send (a block).
    token_bucket(std::int64_t rate_bytes_per_s, std::int64_t burst_bytes);

    // How many of `wanted` bytes may go now (0..wanted); they are taken from the bucket.
    std::int64_t grant(time_point now, std::int64_t wanted);

    // When `bytes` will be available if nothing else is granted meanwhile: `now` if they are
    // already there, empty if `bytes` exceeds the burst (never, in one grant).
    std::optional<time_point> when_available(time_point now, std::int64_t bytes) const;

    // Changes the limits (a user setting): tokens earned until `now` are kept at the old rate,
    // and those above the new burst are dropped; leaving unlimited starts with a full bucket.
    void set_limits(time_point now, std::int64_t rate_bytes_per_s, std::int64_t burst_bytes);

    std::int64_t rate() const { return rate_; }
    std::int64_t burst() const { return burst_; }
    bool unlimited() const { return rate_ == 0; }

private:
    struct level {
        std::int64_t tokens;
        std::int64_t fraction;  // of the next token, in 1e-9 bytes
    };
    level level_at(time_point now) const;

    std::int64_t rate_;
    std::int64_t burst_;
    std::int64_t tokens_ = 0;
    std::int64_t fraction_ = 0;
    std::optional<time_point> last_;  // of the last refill; empty until the first call
};

}  // namespace hyphae::bittorrent
