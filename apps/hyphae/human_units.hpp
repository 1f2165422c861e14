#pragma once
// Sizes, rates and durations as people read them (binary units, as aria2 and Transmission show
// them), and sizes as people type them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hyphae::cli {

std::string format_bytes(std::int64_t bytes);      // "512.0 MiB", "17 B"
std::string format_rate(double bytes_per_second);  // "1.9 GiB/s"
std::string format_duration(double seconds);       // "0.14 s", "2m05s", "1h02m"
// "262144", "256K", "256KiB", "1M", "1MiB" (binary multiples); empty on anything else.
std::optional<std::int64_t> parse_size(std::string_view text);

}  // namespace hyphae::cli
