#include "hyphae/sim/churn_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "hyphae/sim/distributions.hpp"

namespace hyphae::sim {

std::optional<lifetime_shape> parse_lifetime_shape(std::string_view name) {
    for (auto shape : {lifetime_shape::exponential, lifetime_shape::pareto, lifetime_shape::weibull}) {
        if (name == to_string(shape)) {
            return shape;
        }
    }
    return std::nullopt;
}

std::string_view to_string(lifetime_shape shape) {
    switch (shape) {
        case lifetime_shape::exponential:
            return "exponential";
        case lifetime_shape::pareto:
            return "pareto";
        case lifetime_shape::weibull:
            return "weibull";
    }
    return "unknown";
}

lifetime_distribution::lifetime_distribution(const lifetime_config& config) : config_(config) {
    const double median_s = std::chrono::duration<double>(config.median).count();
    switch (config.shape) {
        case lifetime_shape::exponential:
            scale_s_ = median_s / std::numbers::ln2;  // the mean
            break;
        case lifetime_shape::pareto:
            parameter_ = config.shape_parameter > 0 ? config.shape_parameter : pareto_alpha_default;
            scale_s_ = median_s / (std::exp2(1 / parameter_) - 1);  // median = beta (2^(1/alpha) - 1)
            break;
        case lifetime_shape::weibull:
            parameter_ = config.shape_parameter > 0 ? config.shape_parameter : weibull_k_default;
            scale_s_ = median_s / std::pow(std::numbers::ln2, 1 / parameter_);  // median = lambda ln2^(1/k)
            break;
    }
}

duration lifetime_distribution::sample(rng& random) const {
    // Inverse transform on u in (0, 1]; -log(u) is an exponential variate with mean 1.
    const double u = unit_interval_open_low(random);
    double seconds = 0;
    switch (config_.shape) {
        case lifetime_shape::exponential:
            seconds = scale_s_ * -std::log(u);
            break;
        case lifetime_shape::pareto:
            seconds = scale_s_ * (std::pow(u, -1 / parameter_) - 1);
            break;
        case lifetime_shape::weibull:
            seconds = scale_s_ * std::pow(-std::log(u), 1 / parameter_);
            break;
    }
    const double max_ns = sample_max_medians * static_cast<double>(config_.median.count());
    const double ns = std::max(std::min(seconds * 1e9, max_ns), static_cast<double>(sample_min.count()));
    return duration{static_cast<std::int64_t>(ns)};
}

double lifetime_distribution::mean_seconds() const {
    switch (config_.shape) {
        case lifetime_shape::exponential:
            return scale_s_;
        case lifetime_shape::pareto:
            return parameter_ > 1 ? scale_s_ / (parameter_ - 1) : std::numeric_limits<double>::infinity();
        case lifetime_shape::weibull:
            return scale_s_ * std::tgamma(1 + 1 / parameter_);
    }
    return 0;
}

}  // namespace hyphae::sim
