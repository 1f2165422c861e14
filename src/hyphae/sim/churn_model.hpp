#pragma once
// How long a simulated node stays up: session lengths drawn from one of three shapes, each set by
// its median so that a scenario says "median session 10 min" and then picks a tail.
//
// - exponential: memoryless, the classic DHT-simulation assumption and the lightest tail.
// - weibull: what measured P2P sessions fit (Stutzbach & Rejaie, "Understanding churn in
//   peer-to-peer networks", IMC 2006: shape k = 0.34-0.59 in BitTorrent, similar in Kad; Steiner
//   et al., IMC 2007, on Kad). k < 1: most sessions are short, a few last days. Default k = 0.5.
// - pareto: shifted Pareto (Lomax), F(x) = 1 - (1 + x / beta)^-alpha, the heavy-tailed lifetime
//   model of Yao, Leonard et al. ("Modeling heterogeneous user churn", ICNP 2006); unlike the
//   classic Pareto it allows short sessions. Default alpha = 1.5: finite mean, infinite variance.
//
// Samples are clamped to [1 ms, 1000 x median]: a zero-length session would be an event loop, and
// the cap bounds a run's horizon (it cuts the Pareto tail at probability ~7e-5 for alpha 1.5 and
// the others at less than 1e-9). mean_seconds() is the analytic mean of the unclamped shape.

#include <cstdint>
#include <optional>
#include <string_view>

#include "hyphae/core/rng.hpp"
#include "hyphae/core/time.hpp"

namespace hyphae::sim {

enum class lifetime_shape : std::uint8_t { exponential, pareto, weibull };

std::optional<lifetime_shape> parse_lifetime_shape(std::string_view name);
std::string_view to_string(lifetime_shape shape);

struct lifetime_config {
    lifetime_shape shape = lifetime_shape::exponential;
    duration median = std::chrono::hours(1);
    double shape_parameter =
        0;  // 0: the shape's default (Pareto alpha 1.5, Weibull k 0.5); unused by exponential
};

class lifetime_distribution {
public:
    static constexpr double pareto_alpha_default = 1.5;
    static constexpr double weibull_k_default = 0.5;
    static constexpr duration sample_min = std::chrono::milliseconds(1);
    static constexpr double sample_max_medians = 1000;

    // config.median > 0 and shape_parameter >= 0.
    explicit lifetime_distribution(const lifetime_config& config);

    duration sample(
        rng& random) const;       // in [sample_min, sample_max_medians x median]; median == config.median
    double mean_seconds() const;  // analytic; infinity for Pareto alpha <= 1

    const lifetime_config& config() const { return config_; }
    double shape_parameter() const { return parameter_; }  // the one in use (defaults resolved)

private:
    lifetime_config config_;
    double parameter_ = 0;  // Pareto alpha or Weibull k
    double scale_s_ = 0;    // exponential: mean; Pareto: beta; Weibull: lambda (seconds)
};

}  // namespace hyphae::sim
