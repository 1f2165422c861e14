// Micro benchmarks of the tracker core without sockets: a UDP announce and an HTTP announce from
// parse to reply, on a table of 100,000 swarms and 1,000,000 peers (the load of bench/tracker.sh),
// the table's own bytes per peer, and encoding and restoring the state file of that table.
// Run: build/release/bench/hyphae_micro_bench --benchmark_filter=tracker

#include <memory>

#include <benchmark/benchmark.h>

#include "hyphae/proto/tracker/announce.hpp"
#include "hyphae/proto/tracker/tracker_server.hpp"
#include "hyphae/proto/tracker/udp_tracker_codec.hpp"

namespace hyphae {
using namespace hyphae::tracker;
namespace {

constexpr std::uint32_t swarms = 100'000;
constexpr std::uint32_t peers = 1'000'000;

announce_request peer_request(std::uint32_t i) {
    announce_request r;
    const std::uint32_t swarm = i % swarms;
    std::memcpy(r.info_hash.bytes.data(), &swarm, 4);
    r.info_hash.bytes[19] = 0x5a;
    std::memcpy(r.peer_id.bytes.data(), &i, 4);
    r.port = static_cast<std::uint16_t>(1024 + i / swarms);
    r.left = i % 3 == 0 ? 0 : 1000;
    r.numwant = 50;
    return r;
}

struct loaded_tracker {
    time_point now = time_point(std::chrono::seconds(1000));
    std::unique_ptr<tracker_server> core;
    endpoint client = *endpoint::parse("127.0.0.1:40000");
    std::uint64_t connection_id = 0;

    loaded_tracker() {
        tracker_config config;
        config.rate_per_address = 0;
        core = std::make_unique<tracker_server>(config, 1, now);
        core->on_datagram(now, client, encode_udp_connect(1));
        auto reply = decode_udp_tracker_response(std::get<io::datagram>(*core->poll_transmit()).bytes);
        connection_id = std::get<udp_connect_response>(*reply).connection_id;
        for (std::uint32_t i = 0; i < peers; ++i) {
            core->on_datagram(now, client, encode_udp_announce(connection_id, i, peer_request(i)));
            core->poll_transmit();
        }
    }
};

loaded_tracker& tracker() {
    static loaded_tracker t;
    return t;
}

void tracker_udp_announce(benchmark::State& state) {
    loaded_tracker& t = tracker();
    std::vector<byte_buffer> packets;
    for (std::uint32_t i = 0; i < 4096; ++i) {
        packets.push_back(encode_udp_announce(t.connection_id, i, peer_request((i * 2654435761u) % peers)));
    }
    std::size_t n = 0;
    for (auto _ : state) {
        t.core->on_datagram(t.now, t.client, packets[n++ % packets.size()]);
        benchmark::DoNotOptimize(t.core->poll_transmit());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    const tracker_figures f = t.core->figures(t.now);
    state.counters["table_bytes_per_peer"] =
        static_cast<double>(f.memory_bytes) / static_cast<double>(f.peers);
}

void tracker_http_announce(benchmark::State& state) {
    loaded_tracker& t = tracker();
    std::vector<std::string> requests;
    for (std::uint32_t i = 0; i < 4096; ++i) {
        const std::string url = announce_url("http://t/announce", peer_request((i * 2654435761u) % peers));
        requests.push_back("GET " + url.substr(url.find("/announce")) + " HTTP/1.1\r\nHost: t\r\n\r\n");
    }
    t.core->on_accepted(t.now, 1, t.client);
    std::size_t n = 0;
    for (auto _ : state) {
        t.core->on_stream_bytes(t.now, 1, as_bytes(requests[n++ % requests.size()]));
        benchmark::DoNotOptimize(t.core->poll_transmit());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// The state file of the loaded table: encoded on the tracker's loop (then written on a thread).
void tracker_export_state(benchmark::State& state) {
    loaded_tracker& t = tracker();
    std::size_t bytes = 0;
    for (auto _ : state) {
        bytes = t.core->export_state(t.now, 1'800'000'000).size();
        benchmark::DoNotOptimize(bytes);
    }
    state.counters["file_bytes"] = static_cast<double>(bytes);
}

void tracker_import_state(benchmark::State& state) {
    loaded_tracker& t = tracker();
    const byte_buffer file = t.core->export_state(t.now, 1'800'000'000);
    for (auto _ : state) {
        tracker_config config;
        tracker_server fresh(config, 2, t.now);
        auto summary = fresh.import_state(t.now, 1'800'000'010, file);
        benchmark::DoNotOptimize(summary);
    }
}

BENCHMARK(tracker_udp_announce);
BENCHMARK(tracker_http_announce);
BENCHMARK(tracker_export_state)->Unit(benchmark::kMillisecond);
BENCHMARK(tracker_import_state)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hyphae
