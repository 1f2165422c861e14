#include "human_units.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace hyphae::cli {

std::string format_bytes(std::int64_t bytes) {
    static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) {
        return fmt::format("{} B", bytes);
    }
    double value = static_cast<double>(bytes);
    int unit = -1;
    while (value >= 1024 && unit < 4) {
        value /= 1024;
        ++unit;
    }
    return fmt::format("{:.1f} {}", value, units[unit]);
}

std::string format_rate(double bytes_per_second) {
    return format_bytes(static_cast<std::int64_t>(std::llround(bytes_per_second))) + "/s";
}

std::string format_duration(double seconds) {
    if (seconds < 10) {
        return fmt::format("{:.2f} s", seconds);
    }
    const auto total = static_cast<std::int64_t>(std::llround(seconds));
    if (total < 60) {
        return fmt::format("{} s", total);
    }
    if (total < 3600) {
        return fmt::format("{}m{:02}s", total / 60, total % 60);
    }
    return fmt::format("{}h{:02}m", total / 3600, total % 3600 / 60);
}

std::optional<std::int64_t> parse_size(std::string_view text) {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || value < 0) {
        return std::nullopt;
    }
    std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
    int shift = 0;
    if (suffix.empty() || suffix == "B") {
        shift = 0;
    } else if (suffix == "K" || suffix == "KiB" || suffix == "k") {
        shift = 10;
    } else if (suffix == "M" || suffix == "MiB") {
        shift = 20;
    } else if (suffix == "G" || suffix == "GiB") {
        shift = 30;
    } else {
        return std::nullopt;
    }
    if (value > (std::int64_t{1} << (62 - shift))) {
        return std::nullopt;
    }
    return value << shift;
}

}  // namespace hyphae::cli
