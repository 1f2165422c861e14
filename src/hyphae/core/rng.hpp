#pragma once
// The only source of randomness a core may use: a seeded xoshiro256** generator. Same seed, same
// sequence, on every platform (std:: distributions differ between standard libraries, so uniform()
// is our own).

#include <cstdint>
#include <limits>

namespace hyphae {

__extension__ using uint128_t = unsigned __int128;

class rng {
public:
    using result_type = std::uint64_t;

    explicit rng(std::uint64_t seed) {
        // splitmix64 spreads any seed, including 0, over the whole state.
        for (auto& word : state_) {
            seed += 0x9e3779b97f4a7c15ULL;
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            word = z ^ (z >> 31);
        }
    }

    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

    result_type operator()() {
        const std::uint64_t out = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return out;
    }

    // Uniform in [0, bound), without modulo bias (Lemire's multiply-and-reject); bound > 0.
    std::uint64_t uniform(std::uint64_t bound) {
        uint128_t m = static_cast<uint128_t>((*this)()) * bound;
        auto low = static_cast<std::uint64_t>(m);
        if (low < bound) {
            const std::uint64_t threshold = (0 - bound) % bound;
            while (low < threshold) {
                m = static_cast<uint128_t>((*this)()) * bound;
                low = static_cast<std::uint64_t>(m);
            }
        }
        return static_cast<std::uint64_t>(m >> 64);
    }

    // Uniform in [0, 1).
    double unit() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t state_[4];
};

}  // namespace hyphae
