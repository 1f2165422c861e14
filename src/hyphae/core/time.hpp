#pragma once
// Time as cores see it: a monotonic time point handed in by the driver with every input. The clock
// type has no now(): a core cannot read time, only receive it (real time in the runtime, virtual
// time in the simulator).

#include <chrono>
#include <cstdint>

namespace hyphae {

struct core_clock {
    using rep = std::int64_t;
    using period = std::nano;
    using duration = std::chrono::duration<rep, period>;
    using time_point = std::chrono::time_point<core_clock>;
    static constexpr bool is_steady = true;
};

using duration = core_clock::duration;
using time_point = core_clock::time_point;

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

}  // namespace hyphae
