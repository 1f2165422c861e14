#include "hyphae/sim/event_queue.hpp"

#include <gtest/gtest.h>

namespace hyphae::sim {
namespace {

time_point at_ms(int ms) {
    return time_point{} + milliseconds(ms);
}

TEST(event_queue, pops_earliest_first_and_ties_in_push_order) {
    event_queue q;
    q.push(at_ms(30), event_kind::timer, 1);
    q.push(at_ms(10), event_kind::deliver, 2);
    q.push(at_ms(30), event_kind::timer, 3);
    q.push(at_ms(10), event_kind::user, 4);
    q.push(at_ms(20), event_kind::user, 5, 0, 1);
    ASSERT_EQ(q.next_time(), at_ms(10));
    std::vector<std::uint32_t> order;
    while (auto e = q.pop()) {
        order.push_back(e->node);
    }
    EXPECT_EQ(order, (std::vector<std::uint32_t>{2, 4, 5, 1, 3}));
    EXPECT_TRUE(q.empty());
    EXPECT_FALSE(q.pop());
    EXPECT_EQ(q.pushed(), 5u);
}

TEST(event_queue, many_events_come_out_sorted) {
    event_queue q;
    std::uint64_t x = 12345;
    for (std::uint32_t i = 0; i < 10000; ++i) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        q.push(at_ms(static_cast<int>((x >> 33) % 1000)), event_kind::timer, i);
    }
    time_point last{};
    std::uint64_t last_seq = 0;
    std::size_t n = 0;
    while (auto e = q.pop()) {
        ASSERT_GE(e->at, last);
        if (e->at == last && n > 0) {
            ASSERT_GT(e->seq, last_seq);
        }
        last = e->at;
        last_seq = e->seq;
        ++n;
    }
    EXPECT_EQ(n, 10000u);
}

}  // namespace
}  // namespace hyphae::sim
