#include "hyphae/sim/scenario.hpp"

#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include <toml++/toml.h>

#include "hyphae/core/fixed_id.hpp"

namespace hyphae::sim {

namespace {

std::string position(const toml::source_region& where) {
    return "line " + std::to_string(where.begin.line);
}

// "90s", "10min", "1h", "250ms", "2d", or a bare number of seconds.
std::optional<duration> parse_duration(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) {
        ++i;
    }
    if (i == 0) {
        return std::nullopt;
    }
    double value = 0;
    try {
        value = std::stod(std::string(text.substr(0, i)));
    } catch (...) {
        return std::nullopt;
    }
    const std::string_view unit = text.substr(i);
    double seconds_per = 0;
    if (unit.empty() || unit == "s") {
        seconds_per = 1;
    } else if (unit == "ms") {
        seconds_per = 1e-3;
    } else if (unit == "min" || unit == "m") {
        seconds_per = 60;
    } else if (unit == "h") {
        seconds_per = 3600;
    } else if (unit == "d") {
        seconds_per = 86400;
    } else {
        return std::nullopt;
    }
    const double ns = value * seconds_per * 1e9;
    if (!std::isfinite(ns) || ns < 0 || ns > 1e18) {
        return std::nullopt;
    }
    return duration(static_cast<std::int64_t>(ns));
}

// Reads one table's keys into their fields, and refuses keys it does not know.
class table_reader {
public:
    table_reader(const toml::table* table, std::string name) : table_(table), name_(std::move(name)) {}

    template <class T>
    void number(std::string_view key, T& out, double min, double max) {
        const toml::node* n = take(key);
        if (n == nullptr) {
            return;
        }
        std::optional<double> v;
        if (auto i = n->value<std::int64_t>()) {
            v = static_cast<double>(*i);
        } else if (auto d = n->value<double>()) {
            v = *d;
        }
        if (!v || !(*v >= min && *v <= max)) {
            bad(key, *n, "a number from " + shown(min) + " to " + shown(max));
            return;
        }
        out = static_cast<T>(*v);
    }
    void flag(std::string_view key, bool& out) {
        const toml::node* n = take(key);
        if (n == nullptr) {
            return;
        }
        if (auto b = n->value<bool>()) {
            out = *b;
        } else {
            bad(key, *n, "true or false");
        }
    }
    void text(std::string_view key, std::string& out) {
        const toml::node* n = take(key);
        if (n == nullptr) {
            return;
        }
        if (auto s = n->value<std::string>()) {
            out = *s;
        } else {
            bad(key, *n, "a string");
        }
    }
    void time(std::string_view key, duration& out) {
        const toml::node* n = take(key);
        if (n == nullptr) {
            return;
        }
        std::optional<duration> d;
        if (auto s = n->value<std::string>()) {
            d = parse_duration(*s);
        } else if (auto i = n->value<std::int64_t>()) {
            d = *i >= 0 ? std::optional<duration>(std::chrono::seconds(*i)) : std::nullopt;
        } else if (auto f = n->value<double>()) {
            d = parse_duration(std::to_string(*f));
        }
        if (!d) {
            bad(key, *n, "a duration such as \"90s\", \"10min\", \"1h\" or a number of seconds");
            return;
        }
        out = *d;
    }
    // A string from a fixed set, turned into a value by `parse`.
    template <class T, class Parse>
    void choice(std::string_view key, T& out, Parse parse, std::string_view choices) {
        const toml::node* n = take(key);
        if (n == nullptr) {
            return;
        }
        auto s = n->value<std::string>();
        auto v = s ? parse(*s) : std::nullopt;
        if (!v) {
            bad(key, *n, "one of " + std::string(choices));
            return;
        }
        out = *v;
    }
    const toml::table* sub(std::string_view key) {
        const toml::node* n = take(key);
        if (n == nullptr) {
            return nullptr;
        }
        if (!n->is_table()) {
            bad(key, *n, "a table");
            return nullptr;
        }
        return n->as_table();
    }

    // Every key was known and every value fitted; else the first problem.
    result<void> finish() {
        if (!error_.empty()) {
            return fail(errc::invalid_input, "scenario", error_);
        }
        if (table_ != nullptr) {
            for (const auto& [key, node] : *table_) {
                if (taken_.count(std::string(key.str())) == 0) {
                    return fail(errc::invalid_input, "scenario",
                                position(node.source()) + ": unknown key '" + prefix() +
                                    std::string(key.str()) + "'");
                }
            }
        }
        return {};
    }

private:
    const toml::node* take(std::string_view key) {
        taken_.insert(std::string(key));
        return table_ == nullptr ? nullptr : table_->get(key);
    }
    std::string prefix() const { return name_.empty() ? "" : name_ + "."; }
    void bad(std::string_view key, const toml::node& n, const std::string& expected) {
        if (error_.empty()) {
            error_ = position(n.source()) + ": " + prefix() + std::string(key) + " must be " + expected;
        }
    }
    static std::string shown(double v) {
        std::string s = std::to_string(v);
        s.erase(s.find_last_not_of('0') + 1);
        if (!s.empty() && s.back() == '.') {
            s.pop_back();
        }
        return s;
    }

    const toml::table* table_;
    std::string name_;
    std::set<std::string> taken_;
    std::string error_;
};

std::optional<start_mode> parse_start(std::string_view s) {
    if (s == "warm") {
        return start_mode::warm;
    }
    if (s == "bootstrap") {
        return start_mode::bootstrap;
    }
    return std::nullopt;
}

result<void> read_lifetime(table_reader& parent, std::string_view key, lifetime_config& out) {
    table_reader t(parent.sub(key), "churn." + std::string(key));
    t.choice("shape", out.shape, parse_lifetime_shape, "\"exponential\", \"pareto\", \"weibull\"");
    t.time("median", out.median);
    t.number("shape_parameter", out.shape_parameter, 0.0, 100.0);
    return t.finish();
}

result<void> apply_override(toml::table& root, const std::string& assignment) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
        return fail(errc::invalid_argument, "--set " + assignment, "expected TABLE.KEY=VALUE");
    }
    const std::string path = assignment.substr(0, eq);
    toml::table parsed;
    try {
        parsed = toml::parse("v = " + assignment.substr(eq + 1));
    } catch (const toml::parse_error& e) {
        return fail(errc::invalid_argument, "--set " + assignment,
                    "the value is not TOML (strings need quotes): " + std::string(e.description()));
    }
    toml::table* table = &root;
    std::size_t start = 0;
    for (std::size_t dot = path.find('.'); dot != std::string::npos; dot = path.find('.', start)) {
        const std::string part = path.substr(start, dot - start);
        toml::node* n = table->get(part);
        if (n == nullptr) {
            table->insert(part, toml::table{});
            n = table->get(part);
        }
        if (!n->is_table()) {
            return fail(errc::invalid_argument, "--set " + assignment, "'" + part + "' is not a table");
        }
        table = n->as_table();
        start = dot + 1;
    }
    table->insert_or_assign(path.substr(start), *parsed.get("v"));
    return {};
}

}  // namespace

result<scenario> parse_scenario(std::string_view toml_text, const std::vector<std::string>& overrides,
                                std::string_view where) {
    toml::table root;
    try {
        root = toml::parse(toml_text, where);
    } catch (const toml::parse_error& e) {
        return fail(errc::invalid_input, std::string(where),
                    position(e.source()) + ": " + std::string(e.description()));
    }
    for (const auto& o : overrides) {
        if (auto ok = apply_override(root, o); !ok) {
            return tl::unexpected(ok.error());
        }
    }

    scenario s;
    table_reader top(&root, "");
    top.text("name", s.name);
    top.text("description", s.description);

    const auto wrap = [&](result<void> r) -> result<void> {
        if (!r) {
            return fail(r.error().code, std::string(where), r.error().what);
        }
        return {};
    };

    {
        auto& n = s.network;
        table_reader t(top.sub("network"), "network");
        t.number("nodes", n.nodes, 2, 1e8);
        t.choice("start", n.start, parse_start, "\"warm\", \"bootstrap\"");
        t.time("join_window", n.join_window);
        t.number("bootstrap_nodes", n.bootstrap_nodes, 1, 64);
        t.number("joiners", n.joiners, 0, 1e8);
        t.number("rtt_median_ms", n.latency.rtt_median_ms, 0.1, 10000);
        t.number("jitter", n.latency.jitter, 0, 10);
        t.number("loss", n.loss, 0, 0.9);
        t.number("upload_kbps", n.upload_kbps, 0, 1e9);
        t.number("nat_fraction", n.nat_fraction, 0, 0.95);
        t.time("nat_timeout", n.nat_timeout);
        if (auto r = wrap(t.finish()); !r) {
            return tl::unexpected(r.error());
        }
    }
    {
        table_reader t(top.sub("churn"), "churn");
        t.flag("enabled", s.churn.enabled);
        for (const char* key : {"session", "downtime"}) {
            auto& cfg = std::string_view(key) == "session" ? s.churn.session : s.churn.downtime;
            if (auto r = wrap(read_lifetime(t, key, cfg)); !r) {
                return tl::unexpected(r.error());
            }
        }
        if (auto r = wrap(t.finish()); !r) {
            return tl::unexpected(r.error());
        }
    }
    {
        auto& a = s.adversaries;
        table_reader t(top.sub("adversaries"), "adversaries");
        t.choice("kind", a.kind, parse_adversary_kind,
                 "\"none\", \"drop\", \"wrong_routing\", \"collude\", \"fake_updates\", \"bad_bootstrap\"");
        t.number("fraction", a.fraction, 0, 0.95);
        t.number("sybil_shared_bits", a.sybil_shared_bits, 0, 64);
        t.text("target", a.target);
        t.flag("in_warm_tables", a.in_warm_tables);
        if (auto r = wrap(t.finish()); !r) {
            return tl::unexpected(r.error());
        }
        if (!a.target.empty() && !id160::from_hex(a.target)) {
            return fail(errc::invalid_input, std::string(where), "adversaries.target must be 40 hex digits");
        }
    }
    {
        auto& d = s.defences;
        table_reader t(top.sub("defences"), "defences");
        t.number("disjoint_paths", d.disjoint_paths, 1, 16);
        t.flag("check_answers", d.check_answers);
        t.flag("bep42_checks", d.bep42_checks);
        t.flag("prefer_long_lived", d.prefer_long_lived);
        if (auto r = wrap(t.finish()); !r) {
            return tl::unexpected(r.error());
        }
    }
    {
        table_reader t(top.sub("dht"), "dht");
        t.number("k", s.dht.k, 1, 32);
        t.number("alpha", s.dht.alpha, 1, 16);
        t.number("replacements", s.dht.replacements, 0, 64);
        if (auto r = wrap(t.finish()); !r) {
            return tl::unexpected(r.error());
        }
    }
    {
        auto& w = s.workload;
        table_reader t(top.sub("workload"), "workload");
        t.number("lookups", w.lookups, 0, 1e7);
        t.time("warmup", w.warmup);
        t.time("window", w.window);
        t.time("drain", w.drain);
        t.flag("same_target", w.same_target);
        t.flag("from_joiners", w.from_joiners);
        if (auto r = wrap(t.finish()); !r) {
            return tl::unexpected(r.error());
        }
    }
    if (const toml::table* swarm = top.sub("swarm"); swarm != nullptr) {
        auto& w = s.swarm;
        w.enabled = true;
        table_reader t(swarm, "swarm");
        t.number("seeders", w.seeders, 1, 1000);
        t.number("leechers", w.leechers, 1, 1e6);
        double mib = static_cast<double>(w.size) / (1 << 20);
        t.number("size_mib", mib, 1.0 / 1024, 1 << 16);
        w.size = static_cast<std::uint64_t>(mib * (1 << 20));
        double piece_kib = w.piece_length / 1024.0;
        t.number("piece_kib", piece_kib, 16, 16384);
        w.piece_length = static_cast<std::uint32_t>(piece_kib * 1024);
        t.time("join_window", w.join_window);
        t.number("seed_upload_kbps", w.seed_upload_kbps, 0, 1e9);
        t.number("peer_upload_kbps", w.peer_upload_kbps, 0, 1e9);
        t.number("peer_download_kbps", w.peer_download_kbps, 0, 1e9);
        t.number("peers_per_announce", w.peers_per_announce, 1, 1000);
        t.time("reannounce", w.reannounce);
        t.number("connections_max", w.connections_max, 1, 1000);
        t.flag("leave_when_done", w.leave_when_done);
        t.time("time_limit", w.time_limit);
        if (auto r = wrap(t.finish()); !r) {
            return tl::unexpected(r.error());
        }
        if ((w.piece_length & (w.piece_length - 1)) != 0) {
            return fail(errc::invalid_input, std::string(where), "swarm.piece_kib must be a power of two");
        }
        if (w.reannounce <= duration::zero() || w.time_limit <= duration::zero()) {
            return fail(errc::invalid_input, std::string(where),
                        "swarm.reannounce and swarm.time_limit must be above 0");
        }
    }
    if (auto r = wrap(top.finish()); !r) {
        return tl::unexpected(r.error());
    }
    if (s.network.bootstrap_nodes >= s.network.nodes) {
        return fail(errc::invalid_input, std::string(where),
                    "network.bootstrap_nodes must be fewer than nodes");
    }
    if (s.churn.enabled &&
        (s.churn.session.median <= duration::zero() || s.churn.downtime.median <= duration::zero())) {
        return fail(errc::invalid_input, std::string(where),
                    "churn.session and churn.downtime need a median above 0");
    }
    if (s.workload.from_joiners && s.network.joiners == 0) {
        return fail(errc::invalid_input, std::string(where), "workload.from_joiners needs network.joiners");
    }
    if (s.adversaries.kind == adversary_kind::none) {
        s.adversaries.fraction = 0;
    }
    if (s.workload.same_target && s.adversaries.target.empty()) {
        return fail(errc::invalid_input, std::string(where), "workload.same_target needs adversaries.target");
    }
    return s;
}

}  // namespace hyphae::sim
