#include "hyphae/proto/tracker/tracker_url.hpp"

#include <algorithm>
#include <charconv>

namespace hyphae::tracker {
namespace {

constexpr std::string_view where = "tracker URL";

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        const char c = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
        if (c != prefix[i]) {
            return false;
        }
    }
    return true;
}

bool is_host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

bool is_v6_char(char c) {
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' || c == '.';
}

}  // namespace

std::string tracker_url::host_header() const {
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    const std::uint16_t default_port = scheme == tracker_scheme::https ? 443 : 80;
    if (scheme == tracker_scheme::udp || port != default_port) {
        out += ":" + std::to_string(port);
    }
    return out;
}

result<tracker_url> parse_tracker_url(std::string_view url) {
    if (url.size() > tracker_url_length_max) {
        return fail(errc::limit_exceeded, std::string(where),
                    "longer than " + std::to_string(tracker_url_length_max) + " bytes");
    }
    if (!std::all_of(url.begin(), url.end(), [](char c) {
            const auto b = static_cast<unsigned char>(c);
            return b > 0x20 && b < 0x7f;
        })) {
        return fail(errc::invalid_input, std::string(where),
                    "'" + std::string(url.substr(0, 200)) + "' has a character outside visible ASCII");
    }
    tracker_url out;
    std::string_view rest;
    if (starts_with_ignoring_case(url, "http://")) {
        out.scheme = tracker_scheme::http;
        out.port = 80;
        rest = url.substr(7);
    } else if (starts_with_ignoring_case(url, "https://")) {
        out.scheme = tracker_scheme::https;
        out.port = 443;
        rest = url.substr(8);
    } else if (starts_with_ignoring_case(url, "udp://")) {
        out.scheme = tracker_scheme::udp;
        rest = url.substr(6);
    } else {
        return fail(errc::unsupported, std::string(where),
                    "'" + std::string(url.substr(0, 200)) + "' is not an http, https or udp URL");
    }
    const std::size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
    std::string_view authority = rest.substr(0, authority_end);
    std::string_view path = rest.substr(authority_end);
    if (authority.find('@') != std::string_view::npos) {
        return fail(errc::unsupported, std::string(where),
                    "user information before the host is not supported");
    }
    std::string_view port_text;
    if (authority.starts_with('[')) {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            return fail(errc::invalid_input, std::string(where), "IPv6 host without a closing ']'");
        }
        out.host = std::string(authority.substr(1, close - 1));
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty() && !after.starts_with(':')) {
            return fail(errc::invalid_input, std::string(where), "unexpected characters after the IPv6 host");
        }
        port_text = after.empty() ? std::string_view{} : after.substr(1);
        if (out.host.empty() || !std::all_of(out.host.begin(), out.host.end(), is_v6_char)) {
            return fail(errc::invalid_input, std::string(where), "malformed IPv6 host");
        }
    } else {
        const std::size_t colon = authority.find(':');
        out.host = std::string(authority.substr(0, colon));
        port_text = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon + 1);
        if (colon != std::string_view::npos && port_text.empty()) {
            return fail(errc::invalid_input, std::string(where), "':' without a port");
        }
        if (out.host.empty() || !std::all_of(out.host.begin(), out.host.end(), is_host_char)) {
            return fail(errc::invalid_input, std::string(where),
                        "host '" + out.host.substr(0, 200) + "' is empty or not a DNS name or address");
        }
    }
    if (!port_text.empty()) {
        unsigned port = 0;
        const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
            return fail(errc::invalid_input, std::string(where),
                        "port '" + std::string(port_text.substr(0, 20)) + "' is not in 1..65535");
        }
        out.port = static_cast<std::uint16_t>(port);
    } else if (out.scheme == tracker_scheme::udp) {
        return fail(errc::invalid_input, std::string(where), "udp tracker URL without a port");
    }
    path = path.substr(0, path.find('#'));
    out.target = path.starts_with('/') ? std::string(path) : "/" + std::string(path);
    return out;
}

std::string append_query(std::string_view base, std::string_view query) {
    base = base.substr(0, base.find('#'));
    std::string out(base);
    const std::size_t question = base.find('?');
    if (question == std::string_view::npos) {
        out += '?';
    } else if (!base.ends_with('?') && !base.ends_with('&')) {
        out += '&';
    }
    out += query;
    return out;
}

}  // namespace hyphae::tracker
