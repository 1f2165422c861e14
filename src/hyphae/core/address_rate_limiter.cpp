#include "hyphae/core/address_rate_limiter.hpp"

#include <algorithm>
#include <cstring>

namespace hyphae {

std::size_t address_rate_limiter::key_hasher::operator()(const key& k) const {
    std::uint8_t bytes[9];
    std::memcpy(bytes, &k.prefix, 8);
    bytes[8] = k.v6 ? 1 : 0;
    return hash(byte_view(bytes, sizeof bytes));
}

address_rate_limiter::address_rate_limiter(double rate, double burst, std::size_t addresses_max,
                                           const keyed_hash& hash)
    : rate_(std::max(rate, 0.0)),
      burst_(std::max(burst, 1.0)),
      addresses_max_(addresses_max),
      buckets_(16, key_hasher{hash}) {}

double address_rate_limiter::level(const bucket& b, time_point now) const {
    const double elapsed = std::chrono::duration<double>(now - b.refilled).count();
    return std::min(burst_, b.tokens + std::max(elapsed, 0.0) * rate_);
}

bool address_rate_limiter::allow(time_point now, const ip_address& from) {
    if (rate_ <= 0) {
        return true;
    }
    key k;
    k.v6 = from.is_v6();
    const byte_view bytes = from.bytes();
    for (std::size_t i = 0; i < (k.v6 ? 8u : 4u); ++i) {
        k.prefix = k.prefix << 8 | bytes[i];
    }
    auto it = buckets_.find(k);
    if (it == buckets_.end()) {
        if (buckets_.size() >= addresses_max_) {
            // At most one scan a second: a flood of new addresses must not make every request a scan.
            if (now - last_prune_ >= std::chrono::seconds(1)) {
                prune(now);
            }
            if (buckets_.size() >= addresses_max_) {
                ++untracked_;
                return true;
            }
        }
        it = buckets_.emplace(k, bucket{burst_, now}).first;
    }
    bucket& b = it->second;
    b.tokens = level(b, now);
    b.refilled = std::max(b.refilled, now);
    if (b.tokens < 1) {
        return false;
    }
    b.tokens -= 1;
    return true;
}

void address_rate_limiter::prune(time_point now) {
    last_prune_ = now;
    std::erase_if(buckets_, [&](const auto& entry) { return level(entry.second, now) >= burst_; });
}

}  // namespace hyphae
