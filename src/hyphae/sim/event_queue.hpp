#pragma once
// The simulator's one event queue: virtual time, earliest first, and among events at the same
// time the one scheduled first (a sequence number breaks ties), so a run is the same for a seed
// whatever the heap does internally.

#include <cstdint>
#include <optional>
#include <vector>

#include "hyphae/core/time.hpp"

namespace hyphae::sim {

enum class event_kind : std::uint8_t {
    deliver,  // something in flight reaches host `node`; `payload` indexes what is in flight
    timer,    // `node`'s next_timer() has come (stale ones are skipped by the driver)
    user,     // the scenario's own (churn, workload), told apart by `tag`
};

struct event {
    time_point at;
    std::uint64_t seq = 0;
    event_kind kind = event_kind::deliver;
    std::uint8_t tag = 0;
    std::uint32_t node = 0;
    std::uint32_t payload = 0;
};

class event_queue {
public:
    void push(time_point at, event_kind kind, std::uint32_t node, std::uint32_t payload = 0,
              std::uint8_t tag = 0);
    std::optional<event> pop();
    std::optional<time_point> next_time() const;
    std::size_t size() const { return heap_.size(); }
    bool empty() const { return heap_.empty(); }
    std::uint64_t pushed() const { return next_seq_; }
    void reserve(std::size_t n) { heap_.reserve(n); }

private:
    std::vector<event> heap_;
    std::uint64_t next_seq_ = 0;
};

}  // namespace hyphae::sim
