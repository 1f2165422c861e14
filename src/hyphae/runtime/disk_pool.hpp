#pragma once
// Threads that run disk work (block reads and writes, piece hashing) off the network thread.
// The cores bound the work they ask for, so the queue is bounded by what they allow in flight.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hyphae {

class disk_pool {
public:
    explicit disk_pool(unsigned threads);
    ~disk_pool();  // finishes queued work, then joins
    disk_pool(const disk_pool&) = delete;
    disk_pool& operator=(const disk_pool&) = delete;

    void submit(std::function<void()> work);

private:
    void run();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> queue_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace hyphae
