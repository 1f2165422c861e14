#include "hyphae/core/timer_heap.hpp"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

#include "hyphae/core/fifo.hpp"
#include "hyphae/core/rng.hpp"

namespace hyphae {
namespace {

using namespace std::chrono_literals;
const time_point t0{};

TEST(timer_heap, gives_the_earliest_deadline_and_pops_due_keys_in_order) {
    timer_heap h;
    h.set(3, t0 + 3s);
    h.set(1, t0 + 1s);
    h.set(2, t0 + 2s);
    EXPECT_EQ(h.next(), t0 + 1s);
    EXPECT_EQ(h.size(), 3u);
    EXPECT_FALSE(h.pop_due(t0 + 500ms));
    EXPECT_EQ(h.pop_due(t0 + 2s), 1u);
    EXPECT_EQ(h.pop_due(t0 + 2s), 2u);
    EXPECT_FALSE(h.pop_due(t0 + 2s));
    EXPECT_EQ(h.next(), t0 + 3s);
    EXPECT_FALSE(h.deadline(1));
    EXPECT_EQ(h.deadline(3), t0 + 3s);
}

TEST(timer_heap, a_moved_or_cleared_deadline_counts_as_set_last) {
    timer_heap h;
    h.set(1, t0 + 1s);
    h.set(2, t0 + 2s);
    h.set(1, t0 + 5s);  // later
    EXPECT_EQ(h.next(), t0 + 2s);
    h.set(2, std::nullopt);
    EXPECT_EQ(h.next(), t0 + 5s);
    h.set(1, t0 + 500ms);  // earlier
    EXPECT_EQ(h.next(), t0 + 500ms);
    EXPECT_EQ(h.pop_due(t0 + 10s), 1u);
    EXPECT_FALSE(h.pop_due(t0 + 10s));
    EXPECT_EQ(h.size(), 0u);
    EXPECT_FALSE(h.next());
}

TEST(timer_heap, stale_entries_stay_bounded_however_often_deadlines_move) {
    timer_heap h;
    rng random(7);
    for (int i = 0; i < 100000; ++i) {
        h.set(static_cast<timer_heap::key>(random() % 10),
              t0 + std::chrono::milliseconds(1000 + random() % 100000));
    }
    EXPECT_EQ(h.size(), 10u);
    EXPECT_LE(h.heap_entries(), 2 * h.size() + 17);
    // Every live deadline comes out once, in order.
    time_point last = t0;
    std::size_t popped = 0;
    while (auto at = h.next()) {
        ASSERT_GE(*at, last);
        last = *at;
        ASSERT_TRUE(h.pop_due(t0 + 1000s));
        ++popped;
    }
    EXPECT_EQ(popped, 10u);
    EXPECT_FALSE(h.next());
}

TEST(fifo, pops_in_order_and_reuses_its_storage) {
    fifo<int> q;
    EXPECT_FALSE(q.pop());
    q.push(1);
    q.push(2);
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(q.pop(), 1);
    q.push(3);
    EXPECT_EQ(q.pop(), 2);
    EXPECT_EQ(q.pop(), 3);
    EXPECT_TRUE(q.empty());
    q.push(4);
    q.push(5);
    q.remove_if([](int x) { return x == 4; });
    EXPECT_EQ(q.pop(), 5);
    EXPECT_FALSE(q.pop());
}

TEST(fifo, a_queue_that_never_drains_stays_as_long_as_what_it_holds) {
    fifo<int> q;
    q.push_back(0);
    std::vector<int> seen;
    for (int i = 1; i < 100'000; ++i) {
        q.push_back(i);
        seen.push_back(q.front());
        q.pop_front();
        ASSERT_LE(q.size(), 1u);
        ASSERT_LE(q.capacity(), 256u);
    }
    EXPECT_EQ(seen.back(), 99'998);
    // Reading the whole queue, and taking from its middle, as a request queue does.
    for (int i = 0; i < 5; ++i) {
        q.push_back(100 + i);
    }
    EXPECT_EQ(q.back(), 104);
    q.erase(std::find(q.begin(), q.end(), 102));
    EXPECT_EQ(std::vector<int>(q.begin(), q.end()), (std::vector<int>{99'999, 100, 101, 103, 104}));
}

}  // namespace
}  // namespace hyphae
