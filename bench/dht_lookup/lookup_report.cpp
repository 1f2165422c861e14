#include "lookup_report.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

namespace hyphae::bench {

nlohmann::json to_json(const lookup_record& r) {
    nlohmann::json j = {{"phase", r.phase},       {"impl", r.impl},           {"target", r.target},
                        {"origin", r.origin},     {"found", r.found},         {"complete", r.complete},
                        {"first_ms", r.first_ms}, {"done_ms", r.done_ms},     {"wall_ms", r.wall_ms},
                        {"messages", r.messages}, {"responses", r.responses}, {"peers", r.peers}};
    if (r.timeouts >= 0) {
        j["timeouts"] = r.timeouts;
    }
    if (r.hops >= 0) {
        j["hops"] = r.hops;
    }
    return j;
}

distribution distribution_of(std::vector<double> values) {
    distribution d;
    d.n = values.size();
    if (values.empty()) {
        return d;
    }
    std::sort(values.begin(), values.end());
    const auto at = [&](double q) {
        const double rank = q * static_cast<double>(values.size() - 1);
        const auto lo = static_cast<std::size_t>(std::floor(rank));
        const auto hi = std::min(lo + 1, values.size() - 1);
        return values[lo] + (values[hi] - values[lo]) * (rank - static_cast<double>(lo));
    };
    d.p50 = at(0.5);
    d.p90 = at(0.9);
    d.max = values.back();
    d.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
    return d;
}

nlohmann::json to_json(const distribution& d) {
    return {{"n", d.n}, {"p50", d.p50}, {"p90", d.p90}, {"max", d.max}, {"mean", d.mean}};
}

impl_summary summarize(const std::vector<lookup_record>& records, const std::string& phase,
                       const std::string& impl) {
    impl_summary s;
    std::vector<double> first, done, wall, messages, responses, timeouts, hops, overhead;
    for (const auto& r : records) {
        if (r.phase != phase || r.impl != impl) {
            continue;
        }
        ++s.lookups;
        if (r.found) {
            ++s.found;
            if (r.first_ms >= 0) {
                first.push_back(r.first_ms);
            }
        }
        if (r.complete) {
            ++s.complete;
            done.push_back(r.done_ms);
            wall.push_back(r.wall_ms);
            overhead.push_back(r.wall_ms - r.done_ms);
            s.slow += r.done_ms >= 50 ? 1 : 0;
        }
        if (r.messages >= 0) {  // unknown for a Hyphae lookup that never ended
            messages.push_back(r.messages);
            responses.push_back(r.responses);
        }
        if (r.timeouts >= 0) {
            timeouts.push_back(r.timeouts);
        }
        if (r.hops >= 0) {
            hops.push_back(r.hops);
        }
    }
    s.first_ms = distribution_of(first);
    s.done_ms = distribution_of(done);
    s.wall_ms = distribution_of(wall);
    s.messages = distribution_of(messages);
    s.responses = distribution_of(responses);
    s.timeouts = distribution_of(timeouts);
    s.hops = distribution_of(hops);
    s.overhead_ms = distribution_of(overhead);
    return s;
}

nlohmann::json to_json(const impl_summary& s) {
    nlohmann::json j = {{"lookups", s.lookups},
                        {"found", s.found},
                        {"complete", s.complete},
                        {"first_peer_ms", to_json(s.first_ms)},
                        {"complete_ms", to_json(s.done_ms)},
                        {"wall_ms", to_json(s.wall_ms)},
                        {"messages", to_json(s.messages)},
                        {"responses", to_json(s.responses)},
                        {"call_overhead_ms", to_json(s.overhead_ms)},
                        {"complete_50ms_or_more", s.slow}};
    if (s.timeouts.n > 0) {
        j["timeouts"] = to_json(s.timeouts);
    }
    if (s.hops.n > 0) {
        j["hops"] = to_json(s.hops);
    }
    return j;
}

namespace {

std::string ms(double v) {
    return v >= 100  ? fmt::format("{:.0f}", v)
           : v >= 10 ? fmt::format("{:.1f}", v)
                     : fmt::format("{:.2f}", v);
}

std::string ratio(double a, double b) {
    return b > 0 ? fmt::format("{:.2f}x", a / b) : std::string("-");
}

std::vector<std::string> row(const std::string& name, const impl_summary& s) {
    return {name,
            fmt::format("{}", s.lookups),
            fmt::format("{}/{}", s.found, s.lookups),
            fmt::format("{}/{}", s.complete, s.lookups),
            ms(s.first_ms.p50),
            ms(s.first_ms.p90),
            ms(s.first_ms.max),
            ms(s.done_ms.p50),
            ms(s.done_ms.p90),
            ms(s.done_ms.max),
            fmt::format("{:.0f}", s.messages.p50),
            fmt::format("{:.0f}", s.messages.p90),
            fmt::format("{:.0f}", s.messages.max),
            fmt::format("{:.0f}", s.responses.p50),
            ms(s.wall_ms.p50)};
}

}  // namespace

std::string format_phase_table(const std::string& title, const impl_summary& hy, const impl_summary& lt) {
    std::vector<std::vector<std::string>> lines;
    lines.push_back({"impl", "n", "found", "complete", "first_p50", "first_p90", "first_max", "done_p50",
                     "done_p90", "done_max", "msgs_p50", "msgs_p90", "msgs_max", "replies_p50", "wall_p50"});
    lines.push_back(row("hyphae", hy));
    lines.push_back(row("libtorrent", lt));
    lines.push_back({"hyphae/lt", "", "", "", ratio(hy.first_ms.p50, lt.first_ms.p50),
                     ratio(hy.first_ms.p90, lt.first_ms.p90), ratio(hy.first_ms.max, lt.first_ms.max),
                     ratio(hy.done_ms.p50, lt.done_ms.p50), ratio(hy.done_ms.p90, lt.done_ms.p90),
                     ratio(hy.done_ms.max, lt.done_ms.max), ratio(hy.messages.p50, lt.messages.p50),
                     ratio(hy.messages.p90, lt.messages.p90), ratio(hy.messages.max, lt.messages.max),
                     ratio(hy.responses.p50, lt.responses.p50), ratio(hy.wall_ms.p50, lt.wall_ms.p50)});
    std::vector<std::size_t> widths(lines[0].size(), 0);
    for (const auto& line : lines) {
        for (std::size_t i = 0; i < line.size(); ++i) {
            widths[i] = std::max(widths[i], line[i].size());
        }
    }
    std::string out = title + "\n";
    for (const auto& line : lines) {
        out += fmt::format("{:<{}}", line[0], widths[0]);
        for (std::size_t i = 1; i < line.size(); ++i) {
            out += fmt::format("  {:>{}}", line[i], widths[i]);
        }
        out += "\n";
    }
    return out;
}

}  // namespace hyphae::bench
