#include "hyphae/sim/distributions.hpp"

#include <cmath>
#include <numbers>

namespace hyphae::sim {

double unit_interval(rng& random) {
    return static_cast<double>(random() >> 11) * 0x1.0p-53;
}

double unit_interval_open_low(rng& random) {
    return static_cast<double>((random() >> 11) + 1) * 0x1.0p-53;
}

double standard_normal(rng& random) {
    const double u1 = unit_interval_open_low(random);
    const double u2 = unit_interval(random);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
    std::uint64_t z = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace hyphae::sim
