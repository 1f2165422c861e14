#include "hyphae/proto/bittorrent/magnet.hpp"

#include <algorithm>
#include <charconv>

#include "hyphae/core/encoding.hpp"

namespace hyphae::bittorrent {
namespace {

constexpr std::string_view magnet_where = "magnet link";

bool starts_with_ci(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        const char a = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
        if (a != prefix[i]) {
            return false;
        }
    }
    return true;
}

void add_unique(std::vector<std::string>& list, std::string value) {
    if (std::find(list.begin(), list.end(), value) == list.end()) {
        list.push_back(std::move(value));
    }
}

}  // namespace

bool is_host_port(std::string_view text) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        return false;
    }
    const std::string_view port_text = text.substr(colon + 1);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
        return false;
    }
    const std::string_view host = text.substr(0, colon);
    if (host.front() == '[') {
        if (host.size() < 4 || host.back() != ']') {
            return false;
        }
        return std::all_of(host.begin() + 1, host.end() - 1,
                           [](char c) { return hex_digit_value(c) >= 0 || c == ':' || c == '.'; });
    }
    return std::all_of(host.begin(), host.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '.';
    });
}

result<magnet_link> parse_magnet(std::string_view uri, const magnet_limits& limits) {
    const std::string where(magnet_where);
    if (uri.size() > limits.length_max) {
        return fail(errc::limit_exceeded, where,
                    "longer than " + std::to_string(limits.length_max) + " bytes");
    }
    if (!starts_with_ci(uri, "magnet:?")) {
        return fail(errc::invalid_input, where, "does not start with 'magnet:?'");
    }
    magnet_link link;
    std::optional<sha1_hash> v1;
    std::size_t parameters = 0;
    std::string_view rest = uri.substr(8);
    while (!rest.empty()) {
        const std::size_t amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        if (++parameters > limits.parameters_max) {
            return fail(errc::limit_exceeded, where,
                        "more than " + std::to_string(limits.parameters_max) + " parameters");
        }
        const std::size_t eq = pair.find('=');
        const std::string_view key = pair.substr(0, eq);
        if (eq == std::string_view::npos) {
            continue;  // a bare key carries nothing we use
        }
        auto value = percent_decode(pair.substr(eq + 1));
        if (!value) {
            return fail(errc::invalid_input, where + ": " + std::string(key),
                        "malformed percent-encoding in '" + std::string(pair.substr(eq + 1)) + "'");
        }
        // "tr.1", "xt.1": BEP 9's numbered forms.
        const std::string_view base = key.substr(0, key.find('.') == 2 ? 2 : key.size());
        if (base == "xt") {
            if (starts_with_ci(*value, "urn:btih:")) {
                const std::string_view hash = std::string_view(*value).substr(9);
                auto parsed = hash.size() == 40
                                  ? sha1_hash::from_hex(hash)
                                  : (hash.size() == 32 ? sha1_hash::from_base32(hash) : std::nullopt);
                if (!parsed) {
                    return fail(
                        errc::invalid_input, where + ": xt",
                        "info-hash '" + std::string(hash) + "' is neither 40 hex nor 32 base32 characters");
                }
                if (v1 && *v1 != *parsed) {
                    return fail(errc::invalid_input, where + ": xt", "two different btih info-hashes");
                }
                v1 = *parsed;
            } else if (starts_with_ci(*value, "urn:btmh:")) {
                const std::string_view multihash = std::string_view(*value).substr(9);
                // 0x12 = SHA-256, 0x20 = 32 bytes.
                auto parsed = multihash.size() == 68 && starts_with_ci(multihash, "1220")
                                  ? sha256_hash::from_hex(multihash.substr(4))
                                  : std::nullopt;
                if (!parsed) {
                    return fail(
                        errc::invalid_input, where + ": xt",
                        "btmh '" + std::string(multihash) + "' is not a SHA-256 multihash (1220 + 64 hex)");
                }
                link.info_hash_v2 = *parsed;
            }
            // Other URNs (ed2k, sha1 of a file, ...) belong to other networks.
        } else if (base == "dn") {
            link.name = std::move(*value);
        } else if (base == "tr") {
            if (!value->empty()) {
                add_unique(link.trackers, std::move(*value));
            }
        } else if (key == "x.pe") {
            if (!is_host_port(*value)) {
                return fail(errc::invalid_input, where + ": x.pe", "'" + *value + "' is not host:port");
            }
            add_unique(link.peers, std::move(*value));
        } else if (base == "ws") {
            if (!value->empty()) {
                add_unique(link.web_seeds, std::move(*value));
            }
        }
    }
    if (!v1) {
        if (link.info_hash_v2) {
            return fail(errc::unsupported, where,
                        "v2-only magnet (urn:btmh without urn:btih) is not supported; v2 info-hash " +
                            link.info_hash_v2->to_hex());
        }
        return fail(errc::invalid_input, where, "no 'xt=urn:btih:' info-hash");
    }
    link.info_hash = *v1;
    return link;
}

std::string format_magnet(const magnet_link& link) {
    std::string out = "magnet:?xt=urn:btih:" + link.info_hash.to_hex();
    if (link.info_hash_v2) {
        out += "&xt=urn:btmh:1220" + link.info_hash_v2->to_hex();
    }
    if (!link.name.empty()) {
        out += "&dn=" + percent_encode(link.name);
    }
    for (const std::string& tr : link.trackers) {
        out += "&tr=" + percent_encode(tr);
    }
    for (const std::string& ws : link.web_seeds) {
        out += "&ws=" + percent_encode(ws);
    }
    for (const std::string& pe : link.peers) {
        out += "&x.pe=" + percent_encode(pe);
    }
    return out;
}

}  // namespace hyphae::bittorrent
