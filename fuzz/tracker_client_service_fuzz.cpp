// Fuzz target: the tracker client service as a host drives it. The input is a script of commands
// (add, remove, start, stop, completed, scrape), look-up answers, connection events, HTTP bytes
// (raw, or a well-formed response), datagrams (raw, or a well-formed BEP 15 answer with a
// transaction id it sent) and clock steps. Beyond not crashing, the service keeps its contract:
// it dials with fresh ids, sends and closes only connections it holds, claims only answers with
// a transaction id it sent, holds no connection when idle, stays within its bounds, and after
// on_timer(now) its next timer lies ahead.

#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_script.hpp"
#include "fuzz_target.hpp"

#include "hyphae/proto/tracker/tracker_client_service.hpp"

using namespace hyphae::tracker;

namespace {

using namespace hyphae;

void put32(byte_buffer& out, std::uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(value >> shift));
    }
}

std::uint32_t read32(const byte_buffer& bytes, std::size_t at) {
    return std::uint32_t{bytes[at]} << 24 | std::uint32_t{bytes[at + 1]} << 16 |
           std::uint32_t{bytes[at + 2]} << 8 | bytes[at + 3];
}

const std::vector<std::vector<std::string>> tier_sets[] = {
    {{"http://a.test/announce", "udp://u.test:1/announce"}},
    {{"udp://10.0.0.1:2/announce"}, {"http://[2001:db8::1]:3/announce"}},
    {{"http://b.test:4/x/announce", "https://s.test/announce"}, {"udp://a.test:5"}},
};

const endpoint addresses[] = {*endpoint::parse("10.0.0.1:2"), *endpoint::parse("10.0.0.2:1"),
                              *endpoint::parse("[2001:db8::1]:3"), *endpoint::parse("[::ffff:10.0.0.3]:5")};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz_script in{data, size};
    tracker_client_service_config config;
    config.torrents_max = 3;
    config.exchanges_max = 2;
    config.exchanges_waiting_max = 2;
    config.lookups_max = 2;
    config.dns_cache_max = 2;
    config.addresses_per_name_max = 2;
    config.transmits_queued_max = 8;
    config.events_queued_max = 4;
    config.client.udp_retransmits_max = 2;
    config.http.body_size_max = 4096;
    tracker_client_service s(config, in.byte());
    time_point now{};

    std::set<conn_id> dialled;    // every id it ever dialled with
    std::set<conn_id> open;       // connections it holds
    std::set<conn_id> connected;  // of which the driver said on_connected
    std::vector<resolve_query> lookups;
    std::vector<std::pair<endpoint, std::uint32_t>> sent;  // datagrams: to, transaction id

    auto drain = [&] {
        while (auto t = s.poll_transmit()) {
            if (auto* c = std::get_if<io::connect>(&*t)) {
                if (!dialled.insert(c->conn).second) {
                    std::abort();  // an id used twice
                }
                open.insert(c->conn);
            } else if (auto* w = std::get_if<io::send>(&*t)) {
                if (!connected.contains(w->conn)) {
                    std::abort();
                }
            } else if (auto* x = std::get_if<io::close>(&*t)) {
                if (open.erase(x->conn) == 0) {
                    std::abort();
                }
                connected.erase(x->conn);
            } else {
                const auto& d = std::get<io::datagram>(*t);
                if (d.bytes.size() < 16) {
                    std::abort();
                }
                sent.emplace_back(d.to, read32(d.bytes, 12));
                if (sent.size() > 64) {
                    sent.erase(sent.begin());
                }
            }
        }
        while (auto q = s.poll_resolve()) {
            lookups.push_back(std::move(*q));
        }
        std::size_t events = 0;
        while (s.poll_event()) {
            if (++events > config.events_queued_max) {
                std::abort();
            }
        }
        if (s.torrents() > config.torrents_max ||
            s.exchanges() > config.exchanges_max + config.exchanges_waiting_max ||
            s.names_cached() > config.dns_cache_max || (s.idle() && !open.empty())) {
            std::abort();
        }
    };

    auto pick = [&](const auto& set) -> std::optional<conn_id> {
        if (set.empty()) {
            return std::nullopt;
        }
        auto it = set.begin();
        std::advance(it, in.byte() % set.size());
        return *it;
    };

    while (!in.done()) {
        const std::uint64_t key = in.byte() % 4;
        const tracker_stats stats{in.byte(), in.byte(), in.byte() % 2};
        switch (in.byte() % 14) {
            case 0: {
                sha1_hash hash;
                hash.bytes.fill(static_cast<std::uint8_t>(key));
                s.add(now, key, tier_sets[in.byte() % std::size(tier_sets)], hash, id160{}, 6881);
                break;
            }
            case 1:
                s.remove(now, key);
                break;
            case 2:
                s.start(now, key, stats);
                break;
            case 3:
                s.stop(now, key, stats);
                break;
            case 4:
                s.completed(now, key, stats);
                break;
            case 5:
                s.scrape(now, key);
                break;
            case 6: {
                if (lookups.empty()) {
                    break;
                }
                const std::size_t i = in.byte() % lookups.size();
                const resolve_query q = lookups[i];
                lookups.erase(lookups.begin() + static_cast<std::ptrdiff_t>(i));
                const std::uint8_t how = in.byte();
                if (how % 3 == 0) {
                    s.on_resolved(now, q.id, fail(errc::io, "dns", "no such name"));
                } else {
                    std::vector<endpoint> found;
                    for (std::size_t n = 0; n < how % 4; ++n) {
                        found.push_back(addresses[(how + n) % std::size(addresses)]);
                    }
                    s.on_resolved(now, q.id, found);
                }
                break;
            }
            case 7:
                if (auto c = pick(open); c && !connected.contains(*c)) {
                    connected.insert(*c);
                    s.on_connected(now, *c);
                }
                break;
            case 8:
                if (auto c = pick(open)) {
                    open.erase(*c);
                    connected.erase(*c);
                    s.on_closed(now, *c, "reset");
                }
                break;
            case 9:
                if (auto c = pick(connected)) {
                    const std::size_t n = in.byte();
                    s.on_stream_bytes(now, *c, in.bytes(n));
                }
                break;
            case 10:
                if (auto c = pick(connected)) {
                    using namespace std::string_literals;
                    const std::string body = in.byte() % 2 == 0
                                                 ? "d8:intervali60e5:peers6:\x0a\x00\x00\x01\x1a\xe1"
                                                   "e"s
                                                 : "d14:failure reason4:nopee"s;
                    const std::string response =
                        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                        body;
                    s.on_stream_bytes(now, *c, as_bytes(response));
                }
                break;
            case 11: {
                const std::size_t n = in.byte();
                const byte_view raw = in.bytes(n);
                const bool claimed = s.claims_datagram(raw);
                if (claimed && (raw.size() < 8 || raw[0] != 0 || raw[1] != 0 || raw[2] != 0 || raw[3] > 3)) {
                    std::abort();
                }
                if (claimed) {
                    s.on_datagram(now, addresses[in.byte() % std::size(addresses)], raw);
                }
                break;
            }
            case 12: {
                // A well-formed answer to a datagram it sent, from where it went (or not).
                if (sent.empty()) {
                    break;
                }
                const auto& [to, transaction] = sent[in.byte() % sent.size()];
                const std::uint32_t action = in.byte() % 4;
                byte_buffer reply;
                put32(reply, action);
                put32(reply, transaction);
                if (action == 0) {
                    put32(reply, in.u32());
                    put32(reply, in.u32());
                } else if (action == 1) {
                    put32(reply, 60 + in.byte());
                    put32(reply, in.byte());
                    put32(reply, in.byte());
                    const auto peers = in.bytes(6 * (in.byte() % 4));
                    reply.insert(reply.end(), peers.begin(), peers.end());
                } else if (action == 2) {
                    const auto entries = in.bytes(12 * (in.byte() % 2));
                    reply.insert(reply.end(), entries.begin(), entries.end());
                } else {
                    const auto text = in.bytes(in.byte() % 16);
                    reply.insert(reply.end(), text.begin(), text.end());
                }
                if (s.claims_datagram(reply)) {
                    s.on_datagram(now, in.byte() % 4 == 0 ? addresses[1] : to, reply);
                }
                break;
            }
            default: {
                now += std::chrono::seconds(in.byte()) * (1 + in.byte() % 16);
                s.on_timer(now);
                if (auto next = s.next_timer(); next && *next <= now) {
                    std::abort();
                }
                break;
            }
        }
        drain();
    }
    return 0;
}
