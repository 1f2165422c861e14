#include "hyphae/runtime/runtime_clock.hpp"

#include <chrono>

namespace hyphae {

time_point runtime_now() {
    return time_point(
        std::chrono::duration_cast<duration>(std::chrono::steady_clock::now().time_since_epoch()));
}

}  // namespace hyphae
