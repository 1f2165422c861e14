// Fuzz target: the tracker client as a state machine. The input is a script of commands, clock
// steps and answers (well-formed ones built from what the client sent, and raw bytes); beyond not
// crashing, the client must keep its contract: every request id is released at most once and
// nothing is sent for it afterwards, the queues stay within their bounds, and after on_timer(now)
// the next timer lies in the future.

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <variant>

#include "fuzz_script.hpp"
#include "fuzz_target.hpp"

#include "hyphae/proto/tracker/tracker_client.hpp"

using namespace hyphae::tracker;

namespace {

using namespace hyphae;

void put32(byte_buffer& out, std::uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(value >> shift));
    }
}

struct sent {
    bool udp = false;
    std::uint32_t transaction_id = 0;
    bool released = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz_script in{data, size};
    tracker_client_config config;
    config.requests_queued_max = 8;
    config.events_queued_max = 8;
    config.udp_retransmits_max = 3;
    sha1_hash hash;
    hash.bytes.fill(0x11);
    tracker_client client(
        {{"http://a/announce", "udp://u:1/announce"}, {"https://s/announce", "http://b:2/x"}}, hash, id160{},
        6881, config, in.byte());
    time_point now{};
    std::map<std::uint64_t, sent> ids;
    std::uint64_t last_id = 0;

    auto drain = [&] {
        std::size_t requests = 0;
        while (auto request = client.poll_request()) {
            if (++requests > config.requests_queued_max) {
                std::abort();
            }
            sent& s = ids[request->request_id];
            if (s.released) {
                std::abort();  // released before, or used after its release
            }
            if (std::holds_alternative<request_release>(request->action)) {
                s.released = true;
            } else {
                last_id = request->request_id;
                if (const auto* udp = std::get_if<udp_datagram>(&request->action)) {
                    s.udp = true;
                    s.transaction_id = (std::uint32_t{udp->payload.at(12)} << 24) |
                                       (udp->payload.at(13) << 16) | (udp->payload.at(14) << 8) |
                                       udp->payload.at(15);
                }
            }
        }
        std::size_t events = 0;
        while (client.poll_event()) {
            if (++events > config.events_queued_max) {
                std::abort();
            }
        }
    };

    while (!in.done()) {
        const tracker_stats stats{in.byte(), in.byte(), in.byte()};
        switch (in.byte() % 10) {
            case 0:
                client.start(now, stats);
                break;
            case 1:
                client.completed(now, stats);
                break;
            case 2:
                client.stop(now, stats);
                break;
            case 3:
                client.scrape(now);
                break;
            case 4: {
                now += std::chrono::seconds(in.byte()) * (1 + in.byte() % 64);
                client.on_timer(now);
                if (auto next = client.next_timer(); next && *next <= now) {
                    std::abort();
                }
                break;
            }
            case 5: {
                const std::size_t n = in.byte();
                client.on_http_response(now, last_id, in.byte() % 2 ? 200 : 500, in.bytes(n));
                break;
            }
            case 6: {
                const std::size_t n = in.byte();
                client.on_udp_datagram(now, last_id, in.bytes(n));
                break;
            }
            case 7: {
                // A well-formed answer to the last datagram: connect, announce, scrape or error.
                const auto it = ids.find(last_id);
                if (it == ids.end() || !it->second.udp) {
                    break;
                }
                const std::uint32_t action = in.byte() % 4;
                byte_buffer reply;
                put32(reply, action);
                put32(reply, it->second.transaction_id);
                if (action == 0) {
                    put32(reply, in.u32());
                    put32(reply, in.u32());
                } else if (action == 1) {
                    put32(reply, in.u32() % 100000);
                    put32(reply, in.u32());
                    put32(reply, in.u32());
                    const auto peers = in.bytes(6 * (in.byte() % 8));
                    reply.insert(reply.end(), peers.begin(), peers.end());
                } else if (action == 2) {
                    const auto entries = in.bytes(12 * (in.byte() % 3));
                    reply.insert(reply.end(), entries.begin(), entries.end());
                } else {
                    const auto text = in.bytes(in.byte() % 32);
                    reply.insert(reply.end(), text.begin(), text.end());
                }
                client.on_udp_datagram(now, last_id, reply);
                break;
            }
            case 8:
                client.on_request_failed(now, last_id, "refused");
                break;
            case 9:
                client.set_stats(stats);
                break;
        }
        drain();
    }
    return 0;
}
