#pragma once
// Tracker URLs as BEP 3, 12 and 15 use them: "http://host[:port]/path[?query]",
// "https://..." and "udp://host:port[/...]". The host is a DNS name, an IPv4 address or a
// bracketed IPv6 address; the runtime resolves it. Anything that reaches an HTTP request line is
// checked here, so a torrent's tracker URL cannot smuggle in spaces, CR or LF.

#include <cstdint>
#include <string>
#include <string_view>

#include "hyphae/core/error.hpp"

namespace hyphae::tracker {

enum class tracker_scheme { http, https, udp };

struct tracker_url {
    tracker_scheme scheme = tracker_scheme::http;
    std::string host;        // IPv6 without brackets
    std::uint16_t port = 0;  // as given, or 80 / 443 for http / https
    std::string target;      // path and query, at least "/"; no fragment

    // The Host header: "host", or "host:port" when the port is not the scheme's default; an IPv6
    // host is bracketed.
    std::string host_header() const;
};

inline constexpr std::size_t tracker_url_length_max = 4096;

result<tracker_url> parse_tracker_url(std::string_view url);

// `base` with `query` ("a=1&b=2") appended after '?' or, when base has a query already (a
// passkey, say), after '&'. A fragment in base is dropped: it is never sent.
std::string append_query(std::string_view base, std::string_view query);

}  // namespace hyphae::tracker
