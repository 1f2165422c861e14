#pragma once
// Continuous random variates for the simulator, drawn only from hyphae::rng so that a seed gives
// the same numbers with every standard library (std:: distributions are implementation-defined).

#include "hyphae/core/rng.hpp"

namespace hyphae::sim {

// Uniform in [0, 1) with 53 random bits (every double of the form k * 2^-53).
double unit_interval(rng& random);

// Uniform in (0, 1]: safe to pass to log().
double unit_interval_open_low(rng& random);

// N(0, 1) by Box-Muller. Uses two draws and discards the second normal: simpler than caching one
// and keeps every call a pure function of the generator's state.
double standard_normal(rng& random);

}  // namespace hyphae::sim
