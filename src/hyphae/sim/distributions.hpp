#pragma once
// Continuous random variates for the simulator, drawn only from hyphae::rng so that a seed gives
// the same numbers with every standard library (std:: distributions are implementation-defined).

#include <cstdint>

#include "hyphae/core/rng.hpp"

namespace hyphae::sim {

// Uniform in [0, 1) with 53 random bits (every double of the form k * 2^-53).
double unit_interval(rng& random);

// Uniform in (0, 1]: safe to pass to log().
double unit_interval_open_low(rng& random);

// N(0, 1) by Box-Muller. Uses two draws and discards the second normal: simpler than caching one
// and keeps every call a pure function of the generator's state.
double standard_normal(rng& random);

// A seed for one part of a run from the run's seed and the part's number (splitmix64 finaliser),
// so that parts draw independent streams and adding one part does not shift the others.
std::uint64_t mix(std::uint64_t a, std::uint64_t b);

}  // namespace hyphae::sim
