#pragma once
// A first-in first-out queue on one vector: nothing is allocated until the first push, and the
// storage is reused once drained (std::deque allocates a block even when empty, which a million
// simulated nodes would pay for several times over).

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

namespace hyphae {

template <class T>
class fifo {
public:
    void push(T value) { items_.push_back(std::move(value)); }
    std::optional<T> pop() {
        if (head_ == items_.size()) {
            return std::nullopt;
        }
        std::optional<T> out(std::move(items_[head_++]));
        if (head_ == items_.size()) {
            items_.clear();
            head_ = 0;
        }
        return out;
    }
    T& front() { return items_[head_]; }
    bool empty() const { return head_ == items_.size(); }
    std::size_t size() const { return items_.size() - head_; }
    void clear() {
        items_.clear();
        head_ = 0;
    }
    // Visits the queued items, oldest first (to drop some with remove_if).
    template <class F>
    void remove_if(F&& drop) {
        std::vector<T> kept;
        for (std::size_t i = head_; i < items_.size(); ++i) {
            if (!drop(items_[i])) {
                kept.push_back(std::move(items_[i]));
            }
        }
        items_ = std::move(kept);
        head_ = 0;
    }

private:
    std::vector<T> items_;
    std::size_t head_ = 0;
};

}  // namespace hyphae
