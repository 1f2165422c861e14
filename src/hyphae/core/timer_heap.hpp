#pragma once
// Deadlines of many timers keyed by small dense integers (service slots, torrent handles), with
// the earliest one at hand: set() and pop_due() cost O(log n), next() O(1), so a driver never
// walks every timer to find the next one.
//
// Moving a deadline leaves the old heap entry behind; such stale entries are skipped when they
// reach the top, and the heap is rebuilt when they outnumber the live ones.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "hyphae/core/time.hpp"

namespace hyphae {

class timer_heap {
public:
    using key = std::uint32_t;

    // Sets the deadline of `k` (none: no deadline).
    void set(key k, std::optional<time_point> at) {
        if (k >= deadlines_.size()) {
            if (!at) {
                return;
            }
            deadlines_.resize(k + 1, never());
        }
        const time_point t = at.value_or(never());
        if (deadlines_[k] == t) {
            return;
        }
        if (deadlines_[k] == never()) {
            ++live_;
        }
        if (t == never()) {
            --live_;
        } else {
            heap_.push_back(entry{t, k});
            std::push_heap(heap_.begin(), heap_.end(), later);
        }
        deadlines_[k] = t;
        settle();
    }

    void erase(key k) { set(k, std::nullopt); }

    std::optional<time_point> deadline(key k) const {
        if (k >= deadlines_.size() || deadlines_[k] == never()) {
            return std::nullopt;
        }
        return deadlines_[k];
    }

    // The earliest deadline of all.
    std::optional<time_point> next() const {
        if (heap_.empty()) {
            return std::nullopt;
        }
        return heap_.front().at;
    }

    // A key whose deadline is at or before `now`, its deadline cleared; earliest first.
    std::optional<key> pop_due(time_point now) {
        if (heap_.empty() || heap_.front().at > now) {
            return std::nullopt;
        }
        const key k = heap_.front().k;
        std::pop_heap(heap_.begin(), heap_.end(), later);
        heap_.pop_back();
        deadlines_[k] = never();
        --live_;
        settle();
        return k;
    }

    std::size_t size() const { return live_; }
    std::size_t heap_entries() const { return heap_.size(); }

private:
    struct entry {
        time_point at;
        key k;
    };
    static constexpr time_point never() { return time_point::max(); }
    static bool later(const entry& a, const entry& b) { return a.at != b.at ? a.at > b.at : a.k > b.k; }

    // Drops stale entries from the top, and rebuilds when they are the majority.
    void settle() {
        while (!heap_.empty() && deadlines_[heap_.front().k] != heap_.front().at) {
            std::pop_heap(heap_.begin(), heap_.end(), later);
            heap_.pop_back();
        }
        if (heap_.size() > 2 * live_ + 16) {
            std::erase_if(heap_, [this](const entry& e) { return deadlines_[e.k] != e.at; });
            std::make_heap(heap_.begin(), heap_.end(), later);
        }
    }

    std::vector<entry> heap_;
    std::vector<time_point> deadlines_;  // per key; never(): none
    std::size_t live_ = 0;
};

}  // namespace hyphae
