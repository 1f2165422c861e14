#pragma once
// The soft timeout of a DHT query, from measured round trips: RFC 6298's smoothed RTT and its
// variance over every answer the node gets, timeout = srtt + 4 * rttvar, clamped to
// [timeout_min, timeout_max]. Before the first answer it is `timeout_initial`. A query that passes
// it is not failed, only no longer waited for (see traversal.hpp).

#include "hyphae/core/time.hpp"

namespace hyphae::dht {

struct rtt_config {
    duration timeout_initial = std::chrono::milliseconds(1000);
    duration timeout_min = std::chrono::milliseconds(100);
    duration timeout_max = std::chrono::milliseconds(1500);
};

class rtt_estimator {
public:
    explicit rtt_estimator(const rtt_config& config) : config_(config) {}

    void sample(duration rtt);
    duration timeout() const;
    duration smoothed() const { return srtt_; }
    bool measured() const { return measured_; }

private:
    rtt_config config_;
    duration srtt_{};
    duration rttvar_{};
    bool measured_ = false;
};

}  // namespace hyphae::dht
