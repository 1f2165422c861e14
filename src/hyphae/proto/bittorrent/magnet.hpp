#pragma once
// Magnet links (BEP 9): magnet:?xt=urn:btih:<40 hex | 32 base32>&dn=<name>&tr=<tracker>...
// &x.pe=<host:port>. A hybrid link may carry xt=urn:btmh:1220<64 hex> (BEP 52) beside the btih;
// a v2-only link is refused. Unknown parameters are ignored, as BEP 9 intends.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hyphae/core/error.hpp"
#include "hyphae/core/sha.hpp"

namespace hyphae::bittorrent {

struct magnet_link {
    sha1_hash info_hash;
    std::optional<sha256_hash> info_hash_v2;
    std::string name;                    // dn
    std::vector<std::string> trackers;   // tr, in order, duplicates removed
    std::vector<std::string> peers;      // x.pe, "host:port" / "[v6]:port"
    std::vector<std::string> web_seeds;  // ws
};

struct magnet_limits {
    std::size_t length_max = 64 * 1024;
    std::size_t parameters_max = 200;
};

result<magnet_link> parse_magnet(std::string_view uri, const magnet_limits& limits = {});
std::string format_magnet(const magnet_link& link);

// True for "host:port" with a port in 1..65535, where host is a DNS name, IPv4 address or
// bracketed IPv6 address.
bool is_host_port(std::string_view text);

}  // namespace hyphae::bittorrent
