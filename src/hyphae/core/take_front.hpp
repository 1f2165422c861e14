#pragma once
// The drain step every core's poll_*() shares: the oldest queued output, or nothing.

#include <deque>
#include <optional>
#include <utility>

namespace hyphae {

template <class T>
std::optional<T> take_front(std::deque<T>& queue) {
    if (queue.empty()) {
        return std::nullopt;
    }
    std::optional<T> front(std::move(queue.front()));
    queue.pop_front();
    return front;
}

}  // namespace hyphae
