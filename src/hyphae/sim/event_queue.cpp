#include "hyphae/sim/event_queue.hpp"

#include <algorithm>

namespace hyphae::sim {

namespace {

// A min-heap through std::push_heap's max-heap: "a after b" puts the earliest on top.
bool after(const event& a, const event& b) {
    if (a.at != b.at) {
        return a.at > b.at;
    }
    return a.seq > b.seq;
}

}  // namespace

void event_queue::push(time_point at, event_kind kind, std::uint32_t node, std::uint32_t payload,
                       std::uint8_t tag) {
    heap_.push_back(event{at, next_seq_++, kind, tag, node, payload});
    std::push_heap(heap_.begin(), heap_.end(), after);
}

std::optional<event> event_queue::pop() {
    if (heap_.empty()) {
        return std::nullopt;
    }
    std::pop_heap(heap_.begin(), heap_.end(), after);
    event e = heap_.back();
    heap_.pop_back();
    return e;
}

std::optional<time_point> event_queue::next_time() const {
    if (heap_.empty()) {
        return std::nullopt;
    }
    return heap_.front().at;
}

}  // namespace hyphae::sim
