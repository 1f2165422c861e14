#include "phase_stats.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/format.h>
#include <sys/resource.h>

namespace hyphae::bench {

std::uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

void pause_for(std::uint64_t ns) {
    const timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr);
}

double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void phase_stats::begin(std::string phase_name, std::size_t expected_answers) {
    *this = phase_stats{};
    name = std::move(phase_name);
    latencies_ns.reserve(expected_answers);
    start_ns = now_ns();
    end_ns = start_ns;
    cpu_start = cpu_seconds();
}

void phase_stats::finish(std::uint64_t at_ns) {
    end_ns = at_ns;
    cpu_end = cpu_seconds();
    std::sort(latencies_ns.begin(), latencies_ns.end());
}

double phase_stats::latency_us(double q) {
    if (latencies_ns.empty()) {
        return 0;
    }
    // Nearest rank: the smallest latency with at least q of all latencies at or below it.
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(latencies_ns.size())));
    const std::size_t index = std::clamp<std::size_t>(rank, 1, latencies_ns.size()) - 1;
    return static_cast<double>(latencies_ns[index]) / 1e3;
}

nlohmann::json phase_stats::to_json() {
    const double secs = seconds();
    const double cpu = cpu_end - cpu_start;
    const double answers = static_cast<double>(std::max<std::uint64_t>(completed, 1));
    nlohmann::json j = {
        {"announces", completed},
        {"seconds", secs},
        {"announces_per_s", secs > 0 ? static_cast<double>(completed) / secs : 0.0},
        {"latency_us", {{"p50", latency_us(0.5)}, {"p99", latency_us(0.99)}, {"p999", latency_us(0.999)}}},
        {"sent", sent},
        {"timeouts", timeouts},
        {"errors", errors},
        {"empty_answers", empty},
        {"late_answers", late},
        {"reconnects", reconnects},
        {"avg_peers_per_answer", static_cast<double>(peers_returned) / answers},
        {"avg_swarm_size", static_cast<double>(swarm_size_sum) / answers},
        {"generator_cpu_s", cpu},
        {"generator_cpu_percent", secs > 0 ? 100.0 * cpu / secs : 0.0},
        {"generator_cpu_us_per_announce", 1e6 * cpu / answers},
        {"generator_waits", waits},
        {"generator_send_calls", send_calls},
        {"generator_receive_calls", receive_calls},
    };
    if (!first_error.empty()) {
        j["first_error"] = first_error;
    }
    return j;
}

std::string table_header() {
    return fmt::format("{:<7} {:>9} {:>7} {:>11} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>10} {:>6} {:>6}",
                       "phase", "announces", "seconds", "announces/s", "p50_us", "p99_us", "p999_us",
                       "timeouts", "errors", "late", "reconnects", "peers", "cpu%");
}

std::string table_row(phase_stats& s) {
    const double secs = s.seconds();
    const double answers = static_cast<double>(std::max<std::uint64_t>(s.completed, 1));
    return fmt::format(
        "{:<7} {:>9} {:>7.2f} {:>11.0f} {:>8.0f} {:>8.0f} {:>8.0f} {:>8} {:>6} {:>6} {:>10} {:>6.1f} "
        "{:>6.1f}",
        s.name, s.completed, secs, secs > 0 ? static_cast<double>(s.completed) / secs : 0.0,
        s.latency_us(0.5), s.latency_us(0.99), s.latency_us(0.999), s.timeouts, s.errors + s.empty, s.late,
        s.reconnects, static_cast<double>(s.peers_returned) / answers,
        secs > 0 ? 100.0 * (s.cpu_end - s.cpu_start) / secs : 0.0);
}

}  // namespace hyphae::bench
