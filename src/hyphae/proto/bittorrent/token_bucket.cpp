#include "hyphae/proto/bittorrent/token_bucket.hpp"

#include <algorithm>

namespace hyphae::bittorrent {

namespace {

__extension__ using int128 = __int128;

constexpr std::int64_t nanos_per_second = 1'000'000'000;

}  // namespace

token_bucket::token_bucket(std::int64_t rate_bytes_per_s, std::int64_t burst_bytes)
    : rate_(std::max<std::int64_t>(rate_bytes_per_s, 0)), burst_(std::max<std::int64_t>(burst_bytes, 0)) {}

token_bucket::level token_bucket::level_at(time_point now) const {
    if (!last_ || rate_ == 0) {
        return {burst_, 0};
    }
    const std::int64_t elapsed = std::max<std::int64_t>((now - *last_).count(), 0);
    // In 128 bits: an hour at 10 GB/s is 3.6e22 byte-nanoseconds.
    const int128 earned = static_cast<int128>(elapsed) * rate_ + fraction_;
    const int128 filled = static_cast<int128>(tokens_) + earned / nanos_per_second;
    if (filled >= burst_) {
        return {burst_, 0};
    }
    return {static_cast<std::int64_t>(filled), static_cast<std::int64_t>(earned % nanos_per_second)};
}

std::int64_t token_bucket::grant(time_point now, std::int64_t wanted) {
    if (wanted <= 0) {
        return 0;
    }
    if (rate_ == 0) {
        return wanted;
    }
    const level current = level_at(now);
    const std::int64_t granted = std::min(wanted, current.tokens);
    tokens_ = current.tokens - granted;
    fraction_ = current.fraction;
    if (!last_ || now > *last_) {
        last_ = now;
    }
    return granted;
}

std::optional<time_point> token_bucket::when_available(time_point now, std::int64_t bytes) const {
    if (rate_ == 0 || bytes <= 0) {
        return now;
    }
    if (bytes > burst_) {
        return std::nullopt;
    }
    const level current = level_at(now);
    if (current.tokens >= bytes) {
        return now;
    }
    // Nanoseconds until the missing bytes are earned, rounded up; measured from the last refill
    // when `now` is earlier (level_at counted no time for it).
    const int128 missing = static_cast<int128>(bytes - current.tokens) * nanos_per_second - current.fraction;
    const int128 wait = (missing + rate_ - 1) / rate_;
    const time_point from = last_ && *last_ > now ? *last_ : now;
    if (wait > (time_point::max() - from).count()) {
        return time_point::max();
    }
    return from + duration(static_cast<std::int64_t>(wait));
}

void token_bucket::set_limits(time_point now, std::int64_t rate_bytes_per_s, std::int64_t burst_bytes) {
    const level current = level_at(now);
    const bool was_unlimited = rate_ == 0;
    rate_ = std::max<std::int64_t>(rate_bytes_per_s, 0);
    burst_ = std::max<std::int64_t>(burst_bytes, 0);
    tokens_ = was_unlimited ? burst_ : std::min(current.tokens, burst_);
    fraction_ = tokens_ == burst_ ? 0 : current.fraction;
    if (!last_ || now > *last_) {
        last_ = now;
    }
}

}  // namespace hyphae::bittorrent
