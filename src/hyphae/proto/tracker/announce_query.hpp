#pragma once
// The tracker's reading of HTTP announce and scrape requests (BEP 3, 7, 23, 48): the query of a
// request target, percent-decoded ('+' is itself, as opentracker reads it: clients escape binary
// values byte by byte), into what a tracker acts on.
//
// parse_announce_query() requires info_hash and peer_id (20 bytes each) and a port in 1..65535;
// uploaded, downloaded and left are non-negative integers when present; event is empty,
// "started", "completed", "stopped" or "paused" (BEP 21, read as no event); numwant an integer
// (negative: the tracker's default). Unknown parameters are ignored; a parameter the tracker uses
// that comes twice is an error. 'ip', 'ipv4' and 'ipv6' are kept only when they are address
// literals: whether to believe them is the tracker's choice.
// parse_scrape_query() reads every info_hash (none: the caller decides what a full scrape means).
// Errors name the parameter and read well as a 'failure reason'.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/error.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/proto/tracker/announce.hpp"

namespace hyphae::tracker {

struct query_limits {
    std::size_t parameters_max = 64;     // name=value pairs in one query
    std::size_t value_length_max = 256;  // decoded bytes of one value
    std::size_t scrape_hashes_max = 74;  // info_hash values in one scrape, as over UDP
};

struct announce_query {
    sha1_hash info_hash;
    id160 peer_id;
    std::uint16_t port = 0;
    std::int64_t uploaded = 0;
    std::int64_t downloaded = 0;
    std::optional<std::int64_t> left;  // absent: the peer did not say (not a seeder)
    announce_event event = announce_event::none;
    std::optional<std::int32_t> numwant;
    bool compact = true;  // compact=0 asks for a list of dictionaries
    std::string key;
    std::optional<ip_address> ip;    // 'ip', when an address literal
    std::optional<ip_address> ipv4;  // BEP 7
    std::optional<ip_address> ipv6;  // BEP 7
};

// "/announce?a=b" -> path "/announce", query "a=b" (empty without '?'; a fragment is dropped).
struct request_target {
    std::string_view path;
    std::string_view query;
};
request_target split_target(std::string_view target);

result<announce_query> parse_announce_query(std::string_view query, const query_limits& limits = {});
result<std::vector<sha1_hash>> parse_scrape_query(std::string_view query, const query_limits& limits = {});

}  // namespace hyphae::tracker
