#pragma once
// HTTP announce load: one thread, non-blocking TCP connections (edge-triggered epoll), one
// request in flight on each. Connections are kept alive; a connection the tracker closes is
// opened again and counted as a reconnect. A request sent on a kept-alive connection that the
// tracker closes without answering is sent again on a new one; once the tracker has closed
// several connections after their first answer and never answered twice on one, the load waits
// for that close before the next request instead of racing it. Answers are framed by
// Content-Length, or by the close when there is none; chunked answers count as errors.
//
// A request's latency runs from the moment it is started to its whole answer, so it includes
// opening a connection when one is needed (every request, against a tracker without keep-alive)
// and a request sent again after such a close.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "announce_plan.hpp"
#include "load_options.hpp"
#include "phase_stats.hpp"
#include "population.hpp"

namespace hyphae::bench {

class http_load {
public:
    // Throws std::runtime_error when the epoll instance cannot be made.
    http_load(const population& pop, const load_options& options);
    ~http_load();
    http_load(const http_load&) = delete;
    http_load& operator=(const http_load&) = delete;

    // Runs one phase: fill (until every peer has announced) or steady (for duration_s). Throws
    // std::runtime_error when the tracker refuses connections or answers nothing for silence_ns.
    void run(announce_plan& plan, phase_stats& stats);
    // One announce for swarm 0 with event=stopped; waits up to timeout_ns.
    probe_result probe();

    // Whether the tracker closed connections after each answer (no keep-alive).
    bool tracker_closes() const { return tracker_closes_; }

private:
    static constexpr std::size_t request_max = 512;
    static constexpr std::size_t answer_max = 16384;

    enum class state : std::uint8_t {
        closed,      // no socket
        connecting,  // connect() in progress
        open,        // connected; a request is being written or answered, or none is assigned
        closing,     // answered; waiting for the tracker's close before the next request
    };

    struct connection {
        int fd = -1;
        std::uint32_t generation = 0;  // bumped on every open; epoll events carry it
        state st = state::closed;
        bool opened_before = false;
        bool busy = false;  // a request is assigned and not yet answered
        std::uint32_t peer = 0;
        std::uint64_t sent_ns = 0;
        std::uint64_t closing_since_ns = 0;
        std::uint64_t reopen_at_ns = 0;
        std::uint32_t answers = 0;  // on the current socket
        std::array<char, request_max> request{};
        std::size_t request_size = 0;
        std::size_t request_written = 0;
        std::vector<char> in;
        std::size_t in_size = 0;
    };

    struct answer {
        int status = 0;
        bool keep_alive = true;
        std::size_t size = 0;  // header and body
        std::string_view body;
    };

    std::size_t build_request(connection& c, std::uint32_t swarm, const peer_id_bytes& id, std::uint16_t port,
                              std::uint64_t left, announce_event event);
    void assign(connection& c, std::uint64_t now);
    void open(connection& c);
    void write(connection& c);
    void read(connection& c, bool tracker_closed);
    // Parses c.in; nullopt while the answer is incomplete. `at_eof`: the close frames the body.
    std::optional<answer> parse(const connection& c, bool at_eof) const;
    void complete(connection& c, const answer& a, bool tracker_closed);
    void on_close(connection& c, int error);
    void close(connection& c);
    void set_idle(connection& c);
    // A connection closed by the tracker after `answers` answers: evidence for tracker_closes_.
    void note_tracker_close(std::uint32_t answers);
    std::size_t index_of(const connection& c) const {
        return static_cast<std::size_t>(&c - connections_.data());
    }
    void check_timers(std::uint64_t now);
    // Waits for readiness up to timeout_ms and handles it; returns how many sockets were ready.
    std::size_t wait_and_dispatch(int timeout_ms);
    [[noreturn]] void fail(const std::string& what) const;

    const population& pop_;
    load_options options_;
    std::string host_;  // Host header value
    int epoll_fd_ = -1;
    std::vector<connection> connections_;
    announce_plan* plan_ = nullptr;
    phase_stats* stats_ = nullptr;
    bool issuing_ = false;
    std::uint64_t count_until_ns_ = 0;
    std::uint32_t busy_count_ = 0;
    std::uint64_t last_answer_ns_ = 0;
    bool answered_ever_ = false;
    // Keep-alive learning (see the top of the file).
    std::uint32_t closes_after_first_answer_ = 0;
    std::uint32_t answers_per_connection_max_ = 0;
    bool tracker_closes_ = false;
    // The probe's answer
    bool probing_ = false;
    probe_result probe_result_;
};

}  // namespace hyphae::bench
