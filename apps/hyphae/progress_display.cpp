#include "progress_display.hpp"

#include <algorithm>

#include "human_units.hpp"
#include <fmt/format.h>
#include <unistd.h>

namespace hyphae::cli {

progress_display::progress_display(std::string label, std::int64_t total, std::FILE* out)
    : label_(std::move(label)),
      total_(std::max<std::int64_t>(total, 1)),
      out_(out),
      terminal_(isatty(fileno(out)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_line_(start_) {}

void progress_display::update(std::int64_t done) {
    const auto now = std::chrono::steady_clock::now();
    if (!terminal_ && now - last_line_ < std::chrono::seconds(1)) {
        return;
    }
    last_line_ = now;
    draw(done, false);
}

void progress_display::finish(std::int64_t done) {
    draw(done, true);
}

void progress_display::draw(std::int64_t done, bool last) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double fraction = std::clamp(static_cast<double>(done) / static_cast<double>(total_), 0.0, 1.0);
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
    std::string eta = "--";
    if (last) {
        eta = format_duration(elapsed);
    } else if (rate > 0) {
        eta = "ETA " + format_duration(static_cast<double>(total_ - done) / rate);
    }
    const std::string figures = fmt::format("{:3.0f}%  {} / {}  {}  {}", fraction * 100, format_bytes(done),
                                            format_bytes(total_), format_rate(rate), eta);
    if (terminal_) {
        constexpr int width = 24;
        const int filled = static_cast<int>(fraction * width);
        fmt::print(out_, "\r{} [{}{}] {}\x1b[K{}", label_, std::string(static_cast<std::size_t>(filled), '#'),
                   std::string(static_cast<std::size_t>(width - filled), '.'), figures, last ? "\n" : "");
    } else if (last || !drawn_ || fraction < 1.0) {
        fmt::print(out_, "{}: {}\n", label_, figures);
    }
    drawn_ = true;
    std::fflush(out_);
}

}  // namespace hyphae::cli
