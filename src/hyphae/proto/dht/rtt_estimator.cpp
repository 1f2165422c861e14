#include "hyphae/proto/dht/rtt_estimator.hpp"

#include <algorithm>

namespace hyphae::dht {

void rtt_estimator::sample(duration rtt) {
    rtt = std::max(rtt, duration::zero());
    if (!measured_) {
        srtt_ = rtt;
        rttvar_ = rtt / 2;
        measured_ = true;
        return;
    }
    // RFC 6298: beta = 1/4, alpha = 1/8.
    const duration error = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
    rttvar_ = (rttvar_ * 3 + error) / 4;
    srtt_ = (srtt_ * 7 + rtt) / 8;
}

duration rtt_estimator::timeout() const {
    if (!measured_) {
        return config_.timeout_initial;
    }
    return std::clamp(srtt_ + 4 * rttvar_, config_.timeout_min, config_.timeout_max);
}

}  // namespace hyphae::dht
