// Fuzz target: the tracker core as a whole. The input is a script of datagrams (raw, or
// well-formed connects, announces and scrapes built with the client's encoder and the connection
// ids the tracker gave), HTTP connections with raw or well-formed bytes, closes and clock steps.
// Beyond not crashing, the tracker keeps its contract: UDP replies go to whoever asked and an
// error reply is never larger than its datagram; HTTP bytes go only to connections that are
// open; the counts add up; swarms, peers and connections stay within their bounds; after
// on_timer the next timer lies ahead. Its claims hold: it claims every connect and every request
// with an id it issued, and never a KRPC message or a BEP 15 answer.

#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <variant>

#include "fuzz_script.hpp"
#include "fuzz_target.hpp"

#include "hyphae/proto/tracker/announce.hpp"
#include "hyphae/proto/tracker/tracker_server.hpp"
#include "hyphae/proto/tracker/udp_tracker_codec.hpp"

using namespace hyphae::tracker;

namespace {

using namespace hyphae;

const endpoint addresses[] = {*endpoint::parse("10.0.0.1:1000"), *endpoint::parse("10.0.0.2:2000"),
                              *endpoint::parse("[2001:db8::3]:3000"),
                              *endpoint::parse("[::ffff:10.0.0.4]:4000")};

announce_request request_from(fuzz_script& in) {
    announce_request r;
    r.info_hash.bytes.fill(in.byte() % 6);
    r.peer_id.bytes.fill(in.byte());
    r.port = static_cast<std::uint16_t>(in.byte() % 8);
    r.left = in.byte() % 3;
    r.event = static_cast<announce_event>(in.byte() % 4);
    r.numwant = static_cast<std::int8_t>(in.byte());
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz_script in{data, size};
    tracker_config config;
    config.interval = std::chrono::seconds(30);
    config.limits.swarms_max = 4;
    config.limits.peers_max = 16;
    config.limits.peers_per_swarm_max = 6;
    config.http_connections_max = 3;
    config.http_idle_timeout = std::chrono::seconds(5);
    config.transmits_queued_max = 64;
    config.events_queued_max = 8;
    config.report_refusals = true;
    config.rate_per_address = in.byte() % 2 == 0 ? 0 : 20;
    config.http.line_length_max = 512;
    config.http.header_bytes_max = 2048;
    time_point now = time_point(std::chrono::seconds(1000));
    tracker_server tracker(config, in.byte(), now);
    std::map<std::size_t, std::uint64_t> connection_ids;  // per address
    std::set<std::uint64_t> open;                         // HTTP connections the runtime holds
    std::uint64_t next_connection = 1;

    // After a datagram of `datagram_size` from `from` (0: no datagram this step).
    auto drain = [&](const endpoint* from, std::size_t datagram_size) {
        while (auto t = tracker.poll_transmit()) {
            if (auto* d = std::get_if<io::datagram>(&*t)) {
                if (from == nullptr || d->to != *from) {
                    std::abort();
                }
                auto reply = decode_udp_tracker_response(d->bytes, {.peers_max = 1000, .ipv6_peers = false});
                const bool error = d->bytes.size() >= 4 && d->bytes[0] == 0 && d->bytes[1] == 0 &&
                                   d->bytes[2] == 0 && d->bytes[3] == 3;
                if (error && d->bytes.size() > datagram_size) {
                    std::abort();
                }
                // An answer is never taken for a request (the host would route it back to us).
                if (tracker.claims_datagram(d->bytes)) {
                    std::abort();
                }
                if (reply && action_of(*reply) == udp_tracker_action::connect) {
                    for (std::size_t i = 0; i < std::size(addresses); ++i) {
                        if (addresses[i] == *from) {
                            connection_ids[i] = std::get<udp_connect_response>(*reply).connection_id;
                        }
                    }
                }
            } else if (auto* w = std::get_if<io::send>(&*t)) {
                if (!open.contains(w->conn)) {
                    std::abort();
                }
            } else if (auto* c = std::get_if<io::close>(&*t)) {
                open.erase(c->conn);
            } else {
                std::abort();  // the tracker dials nobody
            }
        }
        while (tracker.poll_event()) {
        }
        const tracker_figures f = tracker.figures(now);
        if (f.peers != f.seeders + f.leechers || f.swarms > config.limits.swarms_max ||
            f.peers > config.limits.peers_max || f.http_connections_open > config.http_connections_max) {
            std::abort();
        }
    };

    while (!in.done()) {
        const std::uint8_t op = in.byte() % 9;
        const std::size_t who = in.byte() % std::size(addresses);
        const endpoint& from = addresses[who];
        byte_buffer datagram;
        switch (op) {
            case 0: {
                const byte_view raw = in.bytes(in.byte());
                datagram.assign(raw.begin(), raw.end());
                break;
            }
            case 1:
                datagram = encode_udp_connect(in.byte());
                break;
            case 2:
                datagram = encode_udp_announce(connection_ids[who], in.byte(), request_from(in));
                break;
            case 3: {
                const std::vector<sha1_hash> hashes(1 + in.byte() % 3);
                datagram = *encode_udp_scrape(connection_ids[who], in.byte(), hashes);
                break;
            }
            case 4: {
                const std::uint64_t c = next_connection++;
                open.insert(c);
                tracker.on_accepted(now, c, from);
                break;
            }
            case 5:
            case 6: {
                const std::uint64_t c = 1 + in.byte() % std::max<std::uint64_t>(1, next_connection);
                if (!open.contains(c)) {
                    break;
                }
                if (op == 5) {
                    tracker.on_stream_bytes(now, c, in.bytes(in.byte()));
                } else {
                    const std::string url = announce_url("http://t/announce", request_from(in));
                    const std::string get =
                        "GET " + url.substr(url.find("/announce")) + " HTTP/1.1\r\nHost: t\r\n\r\n";
                    tracker.on_stream_bytes(now, c, as_bytes(get));
                }
                break;
            }
            case 7: {
                const std::uint64_t c = 1 + in.byte() % std::max<std::uint64_t>(1, next_connection);
                if (open.erase(c) > 0) {
                    tracker.on_closed(now, c, "peer closed");
                }
                break;
            }
            default: {
                now += std::chrono::milliseconds(in.byte() * 250);
                tracker.on_timer(now);
                if (tracker.next_timer() && *tracker.next_timer() <= now) {
                    std::abort();
                }
                break;
            }
        }
        if (op <= 3) {
            const bool claimed = tracker.claims_datagram(datagram);
            const bool ours = op == 1 || ((op == 2 || op == 3) && connection_ids[who] != 0);
            if ((ours && !claimed) || (claimed && !datagram.empty() && datagram[0] == 'd')) {
                std::abort();
            }
            tracker.on_datagram(now, from, datagram);
            drain(&from, datagram.size());
        } else {
            drain(nullptr, 0);
        }
    }
    return 0;
}
