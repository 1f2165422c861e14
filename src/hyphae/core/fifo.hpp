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
    using iterator = typename std::vector<T>::iterator;
    using const_iterator = typename std::vector<T>::const_iterator;

    void push(T value) { items_.push_back(std::move(value)); }
    void push_back(T value) { items_.push_back(std::move(value)); }
    std::optional<T> pop() {
        if (head_ == items_.size()) {
            return std::nullopt;
        }
        std::optional<T> out(std::move(items_[head_++]));
        reclaim();
        return out;
    }
    void pop_front() {
        ++head_;
        reclaim();
    }
    T& front() { return items_[head_]; }
    const T& front() const { return items_[head_]; }
    T& back() { return items_.back(); }
    bool empty() const { return head_ == items_.size(); }
    std::size_t size() const { return items_.size() - head_; }
    std::size_t capacity() const { return items_.capacity(); }
    void clear() {
        items_.clear();
        head_ = 0;
    }
    // The queued items, oldest first.
    iterator begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
    iterator end() { return items_.end(); }
    const_iterator begin() const { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
    const_iterator end() const { return items_.end(); }
    iterator erase(iterator at) {
        const auto offset = at - items_.begin();
        items_.erase(at);
        return items_.begin() + offset;
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
    // Drained: start over. A queue that never drains gives back its taken half now and then, so
    // that a steady stream does not grow it without end.
    void reclaim() {
        if (head_ == items_.size()) {
            items_.clear();
            head_ = 0;
        } else if (head_ >= 64 && head_ * 2 >= items_.size()) {
            items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
            head_ = 0;
        }
    }

    std::vector<T> items_;
    std::size_t head_ = 0;
};

}  // namespace hyphae
