#pragma once
// The runtime's clock, as the cores see it: the steady clock, as a core time_point.

#include "hyphae/core/time.hpp"

namespace hyphae {

time_point runtime_now();

}  // namespace hyphae
