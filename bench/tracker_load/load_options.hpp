#pragma once
// Settings shared by the UDP and HTTP load, and the outcome of a one-announce probe.

#include <cstdint>
#include <string>

#include <netinet/in.h>

namespace hyphae::bench {

struct load_options {
    sockaddr_in target{};
    std::string target_text;         // "HOST:PORT" as given, for messages and the Host header
    std::uint32_t in_flight = 512;   // UDP: announces outstanding at once
    std::uint32_t sockets = 4;       // UDP: sockets (source ports) the announces are spread over
    std::uint32_t connections = 64;  // HTTP: connections, one request in flight on each
    double duration_s = 20;
    std::uint64_t timeout_ns = 1'000'000'000;             // a request unanswered this long is a timeout
    std::uint64_t silence_ns = 5'000'000'000;             // nothing answered this long: the run fails
    std::uint64_t connection_id_age_ns = 45'000'000'000;  // BEP 15 ids are good for 60 s
    std::uint32_t numwant = 50;
    // While answers are arriving, the loop sleeps this long between reads so that each wake-up
    // reads a batch; 0: wake up for every answer (epoll only).
    std::uint64_t poll_ns = 100'000;
};

// What one announce for swarm 0 (event=stopped, a peer id no load peer uses) got back.
enum class probe_outcome { full_answer, empty_answer, error_answer, no_answer };

struct probe_result {
    probe_outcome outcome = probe_outcome::no_answer;
    std::string detail;
};

}  // namespace hyphae::bench
