#include "hyphae/proto/bittorrent/ut_pex.hpp"

#include <algorithm>
#include <iterator>

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/bencode_writer.hpp"

namespace hyphae::bittorrent::wire {
namespace {

constexpr std::string_view where = "ut_pex";

result<void> read_endpoints(bnode root, std::string_view key, std::size_t entry_size, std::size_t peers_max,
                            std::vector<endpoint>& out) {
    const auto compact = root.find_string(key);
    if (!compact) {
        return {};
    }
    if (compact->size() % entry_size != 0) {
        return fail(errc::invalid_input, std::string(where) + ": " + std::string(key),
                    "length " + std::to_string(compact->size()) + " is not a multiple of " +
                        std::to_string(entry_size));
    }
    if (compact->size() / entry_size + out.size() > peers_max) {
        return fail(errc::limit_exceeded, std::string(where) + ": " + std::string(key),
                    "more than " + std::to_string(peers_max) + " peers");
    }
    for (std::size_t at = 0; at < compact->size(); at += entry_size) {
        out.push_back(*parse_compact(as_bytes(compact->substr(at, entry_size))));
    }
    return {};
}

}  // namespace

result<pex_message> parse_pex(byte_view payload, std::size_t peers_max) {
    bdecode_limits limits;
    limits.depth_max = 4;
    limits.values_max = 64;
    limits.string_length_max = peers_max * compact_v6_size;
    limits.sorted_keys_required = false;
    auto doc = bdecode(payload, limits);
    if (!doc) {
        return fail(errc::invalid_input, std::string(where), "bencode: " + doc.error().message());
    }
    const bnode root = doc->root();
    if (!root.is_dict()) {
        return fail(errc::invalid_input, std::string(where), "not a dictionary");
    }
    pex_message m;
    for (auto [key, flags_key, size] : {std::tuple{"added", "added.f", compact_v4_size},
                                        std::tuple{"added6", "added6.f", compact_v6_size}}) {
        std::vector<endpoint> added;
        if (auto r = read_endpoints(root, key, size, peers_max, added); !r) {
            return tl::unexpected(r.error());
        }
        const std::string_view flags = root.find_string(flags_key).value_or(std::string_view{});
        for (std::size_t i = 0; i < added.size(); ++i) {
            // Flags are optional; a short flags string leaves the rest at 0.
            const std::uint8_t f = i < flags.size() ? static_cast<std::uint8_t>(flags[i]) : 0;
            m.added.push_back({added[i], f});
        }
        if (m.added.size() > peers_max) {
            return fail(errc::limit_exceeded, std::string(where),
                        "more than " + std::to_string(peers_max) + " peers");
        }
    }
    for (auto [key, size] : {std::pair{"dropped", compact_v4_size}, std::pair{"dropped6", compact_v6_size}}) {
        if (auto r = read_endpoints(root, key, size, peers_max, m.dropped); !r) {
            return tl::unexpected(r.error());
        }
    }
    return m;
}

std::string encode_pex(const pex_message& m) {
    std::string added4, flags4, added6, flags6, dropped4, dropped6;
    for (const pex_peer& p : m.added) {
        append_compact(p.address.address.is_v4() ? added4 : added6, p.address);
        (p.address.address.is_v4() ? flags4 : flags6).push_back(static_cast<char>(p.flags));
    }
    for (const endpoint& e : m.dropped) {
        append_compact(e.address.is_v4() ? dropped4 : dropped6, e);
    }
    std::string out;
    bencode_writer w(out);
    w.begin_dict();
    w.key("added").string(added4).key("added.f").string(flags4);
    w.key("added6").string(added6).key("added6.f").string(flags6);
    w.key("dropped").string(dropped4).key("dropped6").string(dropped6);
    w.end();
    return out;
}

pex_message next_pex(std::vector<endpoint>& told, const std::vector<pex_peer>& connected,
                     const std::vector<endpoint>& self, std::size_t peers_max) {
    const auto is_itself = [&](const endpoint& e) {
        return std::find(self.begin(), self.end(), e) != self.end();
    };
    const auto by_address = [](const pex_peer& a, const pex_peer& b) {
        return a.address < b.address;
    };
    pex_message m;
    for (const pex_peer& c : connected) {
        if (m.added.size() < peers_max && !is_itself(c.address) &&
            !std::binary_search(told.begin(), told.end(), c.address)) {
            m.added.push_back(c);
        }
    }
    for (const endpoint& e : told) {
        if (m.dropped.size() >= peers_max) {
            break;
        }
        const auto at = std::lower_bound(connected.begin(), connected.end(), pex_peer{e, 0}, by_address);
        if (at == connected.end() || at->address != e || is_itself(e)) {
            m.dropped.push_back(e);
        }
    }
    // What was sent is what the peer now knows; what did not fit goes next time.
    std::vector<endpoint> known;
    known.reserve(told.size() + m.added.size());
    std::set_difference(told.begin(), told.end(), m.dropped.begin(), m.dropped.end(),
                        std::back_inserter(known));
    const auto kept = static_cast<std::ptrdiff_t>(known.size());
    for (const pex_peer& a : m.added) {
        known.push_back(a.address);
    }
    std::inplace_merge(known.begin(), known.begin() + kept, known.end());
    told = std::move(known);
    return m;
}

}  // namespace hyphae::bittorrent::wire
