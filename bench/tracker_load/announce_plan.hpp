#pragma once
// Which peer announces next, for both transports. Fill: every peer once, in order, with
// event=started; an announce that timed out is retried first. Steady: peers drawn at random
// (seeded), no event, until the phase's deadline.

#include <cstdint>
#include <deque>

#include "hyphae/core/rng.hpp"

namespace hyphae::bench {

enum class announce_event : std::uint8_t { none = 0, completed = 1, started = 2, stopped = 3 };

struct announce_job {
    std::uint32_t peer;
    announce_event event;
};

class announce_plan {
public:
    announce_plan(std::uint32_t peers, std::uint64_t seed) : peers_{peers}, rng_{seed} {}

    void start_fill() {
        fill_ = true;
        next_ = 0;
        retries_.clear();
    }
    void start_steady() {
        fill_ = false;
        retries_.clear();
    }

    bool is_fill() const { return fill_; }
    // True when the fill phase has handed out every peer (retries included).
    bool exhausted() const { return fill_ && next_ >= peers_ && retries_.empty(); }

    // Callers check exhausted() first.
    announce_job next() {
        if (!fill_) {
            return {static_cast<std::uint32_t>(rng_.uniform(peers_)), announce_event::none};
        }
        if (!retries_.empty()) {
            const std::uint32_t peer = retries_.front();
            retries_.pop_front();
            return {peer, announce_event::started};
        }
        return {next_++, announce_event::started};
    }

    // A fill announce that got no answer, or could not be sent: it goes again. Steady announces
    // are not retried (the next random peer takes the place).
    void give_back(std::uint32_t peer) {
        if (fill_) {
            retries_.push_back(peer);
        }
    }

private:
    std::uint32_t peers_;
    rng rng_;
    bool fill_ = true;
    std::uint32_t next_ = 0;
    std::deque<std::uint32_t> retries_;  // at most the number of requests in flight
};

}  // namespace hyphae::bench
