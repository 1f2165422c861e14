#pragma once
// BEP 15 load: one thread, a few non-blocking UDP sockets connected to the tracker, epoll,
// sendmmsg/recvmmsg batches. Every announce slot owns a pre-built 98-byte packet whose constant
// fields are written once; a send patches the connection id, transaction id and the peer's
// fields. The transaction id is (generation << 16 | slot), so an answer finds its slot without
// a lookup and an answer to a timed-out request is recognised as late.
//
// While answers are arriving the loop sleeps poll_ns between reads, so that a wake-up reads a
// batch instead of one datagram (on a 2-core VM a wake-up per answer cost both the generator and
// the tracker more than the datagrams did); latencies are then read at that granularity.
// Datagrams the tracker's socket drops (its receive buffer is full: Linux's default of 208 KiB
// holds 256 small datagrams) come back as timeouts after timeout_ns; a fill announce that timed
// out is sent again, so that every peer is in its swarm when the fill ends.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "announce_plan.hpp"
#include "load_options.hpp"
#include "phase_stats.hpp"
#include "population.hpp"
#include <sys/socket.h>

namespace hyphae::bench {

class udp_load {
public:
    // Throws std::runtime_error when a socket cannot be made.
    udp_load(const population& pop, const load_options& options);
    ~udp_load();
    udp_load(const udp_load&) = delete;
    udp_load& operator=(const udp_load&) = delete;

    // BEP 15 connect on every socket; throws std::runtime_error when the tracker does not answer
    // within options.silence_ns.
    void connect();
    // Runs one phase: fill (until every peer has announced) or steady (for duration_s).
    void run(announce_plan& plan, phase_stats& stats);
    // One announce for swarm 0 with event=stopped; waits up to timeout_ns.
    probe_result probe();

private:
    static constexpr std::size_t packet_size = 98;
    static constexpr std::size_t batch_max = 64;
    static constexpr std::size_t answer_size_max = 2048;

    struct slot {
        std::array<std::uint8_t, packet_size> packet{};
        std::uint64_t sent_ns = 0;
        std::uint32_t peer = 0;
        std::uint16_t generation = 0;
        bool busy = false;
    };

    struct socket_state {
        int fd = -1;
        std::uint64_t connection_id = 0;
        std::uint64_t connected_ns = 0;  // 0 until the first connect answer
        std::uint32_t connect_tid = 0;   // of the connect in flight; 0 when none
        std::uint64_t connect_sent_ns = 0;
        std::uint16_t connect_generation = 0;
    };

    void send_connect(std::size_t socket_index, std::uint64_t now);
    // Builds announces into the free slots and sends them in batches, each batch on the next
    // socket in turn.
    void fill_slots();
    void prepare(std::uint32_t index, const announce_job& job, std::uint64_t now, const socket_state& sock);
    void flush(std::size_t socket_index);
    // Reads every waiting answer of one socket; returns how many.
    std::size_t receive(std::size_t socket_index);
    void handle(const std::uint8_t* data, std::size_t size, std::uint64_t now);
    void check_timers(std::uint64_t now);
    void release(std::uint32_t index);
    // Waits for readiness up to timeout_ms and reads what came; returns how many answers.
    std::size_t wait_and_receive(int timeout_ms);
    [[noreturn]] void fail(const std::string& what) const;

    const population& pop_;
    load_options options_;
    int epoll_fd_ = -1;
    std::vector<socket_state> sockets_;
    std::size_t next_socket_ = 0;
    // the batch being built for sendmmsg
    std::array<mmsghdr, batch_max> out_{};
    std::array<iovec, batch_max> out_iov_{};
    std::array<std::uint32_t, batch_max> out_slots_{};
    std::size_t out_count_ = 0;
    std::vector<slot> slots_;
    std::vector<std::uint32_t> free_slots_;
    std::uint32_t busy_count_ = 0;
    std::uint64_t last_answer_ns_ = 0;
    // The phase being run: new announces are sent while `issuing_`; answers count in `stats_`
    // until `count_until_ns_`.
    announce_plan* plan_ = nullptr;
    phase_stats* stats_ = nullptr;
    bool issuing_ = false;
    std::uint64_t count_until_ns_ = 0;
    // recvmmsg buffers
    std::vector<std::array<std::uint8_t, answer_size_max>> in_buffers_;
    std::array<mmsghdr, batch_max> in_{};
    std::array<iovec, batch_max> in_iov_{};
    // the probe's answer
    probe_result probe_result_;
    bool probing_ = false;
};

}  // namespace hyphae::bench
