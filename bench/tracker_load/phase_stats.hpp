#pragma once
// What one phase of a load run measured, and the clocks it is measured with.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hyphae::bench {

// CLOCK_MONOTONIC in nanoseconds (a vDSO call: no system call).
std::uint64_t now_ns();
// This process's user + system CPU time in seconds.
double cpu_seconds();
// Sleeps for about `ns` (the process's timer slack is set small in main).
void pause_for(std::uint64_t ns);

struct phase_stats {
    std::string name;
    std::uint64_t sent = 0;        // requests sent, retries and timed-out ones included
    std::uint64_t completed = 0;   // matched, well-formed announce answers
    std::uint64_t timeouts = 0;    // no answer within the timeout: counted, then a new request
    std::uint64_t errors = 0;      // error answers (BEP 15 action 3, HTTP status or failure reason)
    std::uint64_t empty = 0;       // UDP 8-byte answers without counts (a hash not tracked)
    std::uint64_t late = 0;        // answers to requests that had already timed out
    std::uint64_t reconnects = 0;  // HTTP: connections opened after the first ones
    std::uint64_t peers_returned = 0;
    std::uint64_t swarm_size_sum = 0;  // seeders + leechers reported by each answer
    // The generator's own work: epoll waits, send and receive system calls.
    std::uint64_t waits = 0;
    std::uint64_t send_calls = 0;
    std::uint64_t receive_calls = 0;
    std::vector<std::uint32_t> latencies_ns;
    std::uint64_t start_ns = 0;
    std::uint64_t end_ns = 0;
    double cpu_start = 0;
    double cpu_end = 0;
    std::string first_error;

    void begin(std::string phase_name, std::size_t expected_answers);
    void finish(std::uint64_t at_ns);
    void record(std::uint64_t latency_ns, std::uint32_t peers, std::uint32_t swarm_size) {
        ++completed;
        peers_returned += peers;
        swarm_size_sum += swarm_size;
        latencies_ns.push_back(static_cast<std::uint32_t>(latency_ns > UINT32_MAX ? UINT32_MAX : latency_ns));
    }

    double seconds() const { return static_cast<double>(end_ns - start_ns) / 1e9; }
    // Percentile q in [0, 1] of the recorded latencies, in microseconds; sorts them on first use.
    double latency_us(double q);
    nlohmann::json to_json();
};

// "phase  announces  seconds  announces/s  p50  p99  p99.9 ..." lines for stderr.
std::string table_header();
std::string table_row(phase_stats& s);

}  // namespace hyphae::bench
