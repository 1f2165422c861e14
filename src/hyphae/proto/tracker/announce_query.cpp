#include "hyphae/proto/tracker/announce_query.hpp"

#include <charconv>

#include "hyphae/core/encoding.hpp"

namespace hyphae::tracker {
namespace {

struct query_pair {
    std::string_view name;  // still encoded: the names we act on never need escapes
    std::string_view value;
};

// Calls `visit(pair)` for each name=value pair; stops at the first error either returns.
template <class Visit>
result<void> for_each_pair(std::string_view where, std::string_view query, const query_limits& limits,
                           Visit&& visit) {
    std::size_t count = 0;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        if (++count > limits.parameters_max) {
            return fail(errc::limit_exceeded, std::string(where),
                        "more than " + std::to_string(limits.parameters_max) + " parameters");
        }
        const std::size_t eq = pair.find('=');
        query_pair p{pair.substr(0, eq),
                     eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1)};
        if (auto r = visit(p); !r) {
            return r;
        }
    }
    return {};
}

result<std::string> decode_value(std::string_view where, const query_pair& p, const query_limits& limits) {
    // An escape is 3 characters for one byte: a longer text may still decode short enough.
    if (p.value.size() > 3 * limits.value_length_max) {
        return fail(errc::limit_exceeded, std::string(where) + ": " + std::string(p.name),
                    "value longer than " + std::to_string(limits.value_length_max) + " bytes");
    }
    auto decoded = percent_decode(p.value, plus_sign::literal);
    if (!decoded) {
        return fail(errc::invalid_input, std::string(where) + ": " + std::string(p.name),
                    "malformed percent-encoding");
    }
    if (decoded->size() > limits.value_length_max) {
        return fail(errc::limit_exceeded, std::string(where) + ": " + std::string(p.name),
                    "value longer than " + std::to_string(limits.value_length_max) + " bytes");
    }
    return std::move(*decoded);
}

result<id160> read_id(std::string_view where, const query_pair& p, const query_limits& limits) {
    auto value = decode_value(where, p, limits);
    if (!value) {
        return tl::unexpected(value.error());
    }
    auto id = id160::from_bytes(*value);
    if (!id) {
        return fail(errc::invalid_input, std::string(where) + ": " + std::string(p.name),
                    "is " + std::to_string(value->size()) + " bytes, not 20");
    }
    return *id;
}

result<std::int64_t> read_integer(std::string_view where, const query_pair& p, std::int64_t min,
                                  std::int64_t max) {
    std::int64_t value = 0;
    const char* end = p.value.data() + p.value.size();
    const auto [stop, ec] = std::from_chars(p.value.data(), end, value);
    if (p.value.empty() || ec != std::errc{} || stop != end || value < min || value > max) {
        return fail(errc::invalid_input, std::string(where) + ": " + std::string(p.name),
                    "'" + std::string(p.value.substr(0, 32)) + "' is not an integer in " +
                        std::to_string(min) + ".." + std::to_string(max));
    }
    return value;
}

}  // namespace

request_target split_target(std::string_view target) {
    target = target.substr(0, target.find('#'));
    const std::size_t question = target.find('?');
    if (question == std::string_view::npos) {
        return {target, {}};
    }
    return {target.substr(0, question), target.substr(question + 1)};
}

result<announce_query> parse_announce_query(std::string_view query, const query_limits& limits) {
    constexpr std::string_view where = "announce";
    // The parameters we act on; each may come once. The first three are required.
    static constexpr std::string_view known[] = {"info_hash", "peer_id", "port",    "uploaded", "downloaded",
                                                 "left",      "event",   "numwant", "num_want", "compact",
                                                 "key",       "ip",      "ipv4",    "ipv6"};
    constexpr std::size_t required = 3;
    unsigned seen = 0;
    announce_query out;
    auto visit = [&](const query_pair& p) -> result<void> {
        std::size_t which = 0;
        while (which < std::size(known) && known[which] != p.name) {
            ++which;
        }
        if (which == std::size(known)) {
            return {};
        }
        if (seen & (1u << which)) {
            return fail(errc::invalid_input, std::string(where) + ": " + std::string(p.name), "given twice");
        }
        seen |= 1u << which;
        const std::string_view n = p.name;
        if (n == "info_hash" || n == "peer_id") {
            auto id = read_id(where, p, limits);
            if (!id) {
                return tl::unexpected(id.error());
            }
            (n == "info_hash" ? out.info_hash : out.peer_id) = *id;
        } else if (n == "port") {
            auto v = read_integer(where, p, 1, 65535);
            if (!v) {
                return tl::unexpected(v.error());
            }
            out.port = static_cast<std::uint16_t>(*v);
        } else if (n == "uploaded" || n == "downloaded" || n == "left") {
            auto v = read_integer(where, p, 0, INT64_MAX);
            if (!v) {
                return tl::unexpected(v.error());
            }
            if (n == "uploaded") {
                out.uploaded = *v;
            } else if (n == "downloaded") {
                out.downloaded = *v;
            } else {
                out.left = *v;
            }
        } else if (n == "event") {
            if (p.value == "started") {
                out.event = announce_event::started;
            } else if (p.value == "completed") {
                out.event = announce_event::completed;
            } else if (p.value == "stopped") {
                out.event = announce_event::stopped;
            } else if (!p.value.empty() && p.value != "paused" && p.value != "empty") {
                return fail(errc::invalid_input, std::string(where) + ": event",
                            "unknown event '" + std::string(p.value.substr(0, 32)) + "'");
            }
        } else if (n == "numwant" || n == "num_want") {
            auto v = read_integer(where, p, INT32_MIN, INT32_MAX);
            if (!v) {
                return tl::unexpected(v.error());
            }
            out.numwant = static_cast<std::int32_t>(*v);
        } else if (n == "compact") {
            out.compact = p.value != "0";
        } else {
            auto v = decode_value(where, p, limits);
            if (!v) {
                return tl::unexpected(v.error());
            }
            if (n == "key") {
                out.key = std::move(*v);
                return {};
            }
            // BEP 7 allows "addr:port" and "[v6]:port" here; the port is the announced one.
            std::optional<ip_address> address = ip_address::parse(*v);
            if (!address) {
                if (auto ep = endpoint::parse(*v)) {
                    address = ep->address;
                }
            }
            (n == "ip" ? out.ip : (n == "ipv4" ? out.ipv4 : out.ipv6)) = address;
        }
        return {};
    };
    if (auto r = for_each_pair(where, query, limits, visit); !r) {
        return tl::unexpected(r.error());
    }
    for (std::size_t i = 0; i < required; ++i) {
        if (!(seen & (1u << i))) {
            return fail(errc::invalid_input, std::string(where), "missing " + std::string(known[i]));
        }
    }
    return out;
}

result<std::vector<sha1_hash>> parse_scrape_query(std::string_view query, const query_limits& limits) {
    constexpr std::string_view where = "scrape";
    std::vector<sha1_hash> out;
    auto visit = [&](const query_pair& p) -> result<void> {
        if (p.name != "info_hash") {
            return {};
        }
        if (out.size() == limits.scrape_hashes_max) {
            return fail(errc::limit_exceeded, std::string(where),
                        "more than " + std::to_string(limits.scrape_hashes_max) + " info_hash values");
        }
        auto id = read_id(where, p, limits);
        if (!id) {
            return tl::unexpected(id.error());
        }
        out.push_back(*id);
        return {};
    };
    if (auto r = for_each_pair(where, query, limits, visit); !r) {
        return tl::unexpected(r.error());
    }
    return out;
}

}  // namespace hyphae::tracker
