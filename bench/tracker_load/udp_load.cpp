#include "udp_load.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/epoll.h>
#include <unistd.h>

namespace hyphae::bench {

namespace {

constexpr std::uint64_t protocol_id = 0x41727101980ULL;
constexpr std::uint32_t action_connect = 0;
constexpr std::uint32_t action_announce = 1;
constexpr std::uint32_t action_error = 3;
// Transaction ids: bit 31 set for connects (then the low 16 bits are the socket), clear for
// announces (then they are the slot); bits 16-30 are a generation.
constexpr std::uint32_t connect_flag = 0x8000'0000U;
constexpr std::uint16_t generation_mask = 0x7fff;
constexpr std::uint64_t timer_period_ns = 10'000'000;
constexpr int socket_buffer_bytes = 4 << 20;
constexpr std::uint64_t probe_peer = 999'999'999'999;

void put_u16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

void put_u32(std::uint8_t* p, std::uint32_t v) {
    for (int k = 3; k >= 0; --k) {
        p[k] = static_cast<std::uint8_t>(v);
        v >>= 8;
    }
}

void put_u64(std::uint8_t* p, std::uint64_t v) {
    for (int k = 7; k >= 0; --k) {
        p[k] = static_cast<std::uint8_t>(v);
        v >>= 8;
    }
}

std::uint32_t get_u32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

std::uint64_t get_u64(const std::uint8_t* p) {
    return (std::uint64_t{get_u32(p)} << 32) | get_u32(p + 4);
}

void set_buffer(int fd, int option_force, int option) {
    const int size = socket_buffer_bytes;
    // The forcing variant passes rmem_max/wmem_max when we may (CAP_NET_ADMIN).
    if (setsockopt(fd, SOL_SOCKET, option_force, &size, sizeof size) != 0) {
        setsockopt(fd, SOL_SOCKET, option, &size, sizeof size);
    }
}

}  // namespace

udp_load::udp_load(const population& pop, const load_options& options) : pop_{pop}, options_{options} {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) {
        fail(fmt::format("epoll_create1: {}", std::strerror(errno)));
    }
    sockets_.resize(options_.sockets);
    for (std::size_t i = 0; i < sockets_.size(); ++i) {
        const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            fail(fmt::format("socket: {}", std::strerror(errno)));
        }
        sockets_[i].fd = fd;
        set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF);
        set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF);
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&options_.target), sizeof options_.target) != 0) {
            fail(fmt::format("connect: {}", std::strerror(errno)));
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = static_cast<std::uint32_t>(i);
        if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
            fail(fmt::format("epoll_ctl: {}", std::strerror(errno)));
        }
    }
    // Constant fields of every announce, written once: action, downloaded, uploaded, IP (0: the
    // source address), num_want.
    slots_.resize(options_.in_flight);
    for (slot& s : slots_) {
        put_u32(s.packet.data() + 8, action_announce);
        put_u32(s.packet.data() + 92, options_.numwant);
    }
    free_slots_.reserve(slots_.size());
    for (std::size_t i = slots_.size(); i-- > 0;) {
        free_slots_.push_back(static_cast<std::uint32_t>(i));
    }
    in_buffers_.resize(batch_max);
    for (std::size_t k = 0; k < batch_max; ++k) {
        in_iov_[k] = iovec{in_buffers_[k].data(), answer_size_max};
        in_[k].msg_hdr.msg_iov = &in_iov_[k];
        in_[k].msg_hdr.msg_iovlen = 1;
    }
}

udp_load::~udp_load() {
    for (const socket_state& s : sockets_) {
        if (s.fd >= 0) {
            ::close(s.fd);
        }
    }
    if (epoll_fd_ >= 0) {
        ::close(epoll_fd_);
    }
}

void udp_load::fail(const std::string& what) const {
    throw std::runtime_error{fmt::format("udp://{}: {}", options_.target_text, what)};
}

void udp_load::send_connect(std::size_t socket_index, std::uint64_t now) {
    socket_state& sock = sockets_[socket_index];
    sock.connect_generation = static_cast<std::uint16_t>((sock.connect_generation + 1) & generation_mask);
    const std::uint32_t tid = connect_flag | (std::uint32_t{sock.connect_generation} << 16) |
                              static_cast<std::uint32_t>(socket_index);
    std::array<std::uint8_t, 16> packet{};
    put_u64(packet.data(), protocol_id);
    put_u32(packet.data() + 8, action_connect);
    put_u32(packet.data() + 12, tid);
    // A lost or refused connect is sent again by check_timers.
    if (::send(sock.fd, packet.data(), packet.size(), 0) < 0 && errno == ECONNREFUSED) {
        fail("connection refused (nothing listens there)");
    }
    sock.connect_tid = tid;
    sock.connect_sent_ns = now;
}

void udp_load::connect() {
    const std::uint64_t start = now_ns();
    for (std::size_t i = 0; i < sockets_.size(); ++i) {
        send_connect(i, start);
    }
    for (;;) {
        bool all = true;
        for (const socket_state& s : sockets_) {
            all = all && s.connected_ns != 0;
        }
        if (all) {
            return;
        }
        const std::uint64_t now = now_ns();
        if (now - start >= options_.silence_ns) {
            fail(fmt::format("no answer to a BEP 15 connect within {} s",
                             static_cast<double>(options_.silence_ns) / 1e9));
        }
        check_timers(now);
        wait_and_receive(10);
    }
}

void udp_load::prepare(std::uint32_t index, const announce_job& job, std::uint64_t now,
                       const socket_state& sock) {
    slot& s = slots_[index];
    s.generation = static_cast<std::uint16_t>((s.generation + 1) & generation_mask);
    const std::uint32_t tid = (std::uint32_t{s.generation} << 16) | index;
    std::uint8_t* p = s.packet.data();
    put_u64(p, sock.connection_id);
    put_u32(p + 12, tid);
    const info_hash_bytes& hash = pop_.info_hash(pop_.swarm_of(job.peer));
    std::memcpy(p + 16, hash.data(), hash.size());
    const peer_id_bytes id = population::peer_id(job.peer);
    std::memcpy(p + 36, id.data(), id.size());
    put_u64(p + 64, pop_.left_of(job.peer));
    put_u32(p + 80, static_cast<std::uint32_t>(job.event));
    put_u32(p + 88, job.peer);  // key
    put_u16(p + 96, pop_.port_of(job.peer));
    s.sent_ns = now;
    s.peer = job.peer;
    s.busy = true;
    ++busy_count_;
}

void udp_load::fill_slots() {
    const std::uint64_t now = now_ns();
    if (!issuing_ || now >= count_until_ns_) {
        return;
    }
    while (!free_slots_.empty() && !plan_->exhausted()) {
        const std::uint32_t index = free_slots_.back();
        free_slots_.pop_back();
        prepare(index, plan_->next(), now, sockets_[next_socket_]);
        const std::size_t k = out_count_++;
        out_iov_[k] = iovec{slots_[index].packet.data(), packet_size};
        out_[k].msg_hdr = msghdr{};
        out_[k].msg_hdr.msg_iov = &out_iov_[k];
        out_[k].msg_hdr.msg_iovlen = 1;
        out_slots_[k] = index;
        if (out_count_ == batch_max) {
            flush(next_socket_);
            next_socket_ = (next_socket_ + 1) % sockets_.size();
        }
    }
    if (out_count_ > 0) {
        flush(next_socket_);
        next_socket_ = (next_socket_ + 1) % sockets_.size();
    }
}

void udp_load::flush(std::size_t socket_index) {
    const int sent = ::sendmmsg(sockets_[socket_index].fd, out_.data(), static_cast<unsigned>(out_count_), 0);
    ++stats_->send_calls;
    if (sent < 0 && errno == ECONNREFUSED) {
        fail("connection refused (nothing listens there)");
    }
    const std::size_t done = sent < 0 ? 0 : static_cast<std::size_t>(sent);
    stats_->sent += done;
    // What the kernel did not take goes back to the plan; its slot is free again.
    for (std::size_t k = done; k < out_count_; ++k) {
        const std::uint32_t index = out_slots_[k];
        plan_->give_back(slots_[index].peer);
        release(index);
    }
    out_count_ = 0;
}

void udp_load::release(std::uint32_t index) {
    slots_[index].busy = false;
    --busy_count_;
    free_slots_.push_back(index);
}

std::size_t udp_load::receive(std::size_t socket_index) {
    const int fd = sockets_[socket_index].fd;
    std::size_t total = 0;
    for (;;) {
        const int n = ::recvmmsg(fd, in_.data(), batch_max, MSG_DONTWAIT, nullptr);
        if (stats_ != nullptr) {
            ++stats_->receive_calls;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == ECONNREFUSED) {
                fail("connection refused (nothing listens there)");
            }
            return total;  // EAGAIN: nothing more waits
        }
        const std::uint64_t now = now_ns();
        for (int k = 0; k < n; ++k) {
            handle(in_buffers_[k].data(), in_[k].msg_len, now);
        }
        total += static_cast<std::size_t>(n);
        if (static_cast<std::size_t>(n) < batch_max) {
            return total;
        }
    }
}

void udp_load::handle(const std::uint8_t* data, std::size_t size, std::uint64_t now) {
    if (size < 8) {
        return;
    }
    last_answer_ns_ = now;
    const std::uint32_t action = get_u32(data);
    const std::uint32_t tid = get_u32(data + 4);
    if ((tid & connect_flag) != 0) {
        const std::size_t socket_index = tid & 0xffff;
        if (socket_index >= sockets_.size()) {
            return;
        }
        socket_state& sock = sockets_[socket_index];
        if (tid == sock.connect_tid && action == action_connect && size >= 16) {
            sock.connection_id = get_u64(data + 8);
            sock.connected_ns = now;
            sock.connect_tid = 0;
        }
        return;  // anything else (an error, a late answer) waits for the connect's retry
    }
    const std::uint32_t index = tid & 0xffff;
    if (index >= slots_.size() || !slots_[index].busy || slots_[index].generation != (tid >> 16)) {
        if (stats_ != nullptr && now < count_until_ns_) {
            ++stats_->late;
        }
        return;
    }
    const std::uint64_t latency = now - slots_[index].sent_ns;
    release(index);
    const bool full = action == action_announce && size >= 20;
    if (probing_) {
        if (full) {
            probe_result_ = {probe_outcome::full_answer,
                             fmt::format("leechers {} seeders {} peers {}", get_u32(data + 12),
                                         get_u32(data + 16), (size - 20) / 6)};
        } else if (action == action_announce) {
            probe_result_ = {probe_outcome::empty_answer, fmt::format("{}-byte announce answer", size)};
        } else {
            probe_result_ = {probe_outcome::error_answer,
                             std::string{reinterpret_cast<const char*>(data + 8), size - 8}};
        }
        return;
    }
    if (stats_ == nullptr || now >= count_until_ns_) {
        return;  // an answer after the steady phase's end
    }
    if (full) {
        stats_->record(latency, static_cast<std::uint32_t>((size - 20) / 6),
                       get_u32(data + 12) + get_u32(data + 16));
    } else if (action == action_announce) {
        ++stats_->empty;
    } else {
        ++stats_->errors;
        if (stats_->first_error.empty()) {
            stats_->first_error = action == action_error
                                      ? std::string{reinterpret_cast<const char*>(data + 8), size - 8}
                                      : fmt::format("unknown action {}", action);
        }
    }
    stats_->end_ns = now;
}

void udp_load::check_timers(std::uint64_t now) {
    for (std::size_t i = 0; i < sockets_.size(); ++i) {
        const socket_state& sock = sockets_[i];
        const bool retry = sock.connect_tid != 0 && now - sock.connect_sent_ns >= options_.timeout_ns;
        const bool renew = sock.connect_tid == 0 && sock.connected_ns != 0 &&
                           now - sock.connected_ns >= options_.connection_id_age_ns;
        if (retry || renew) {
            send_connect(i, now);
        }
    }
    for (std::uint32_t index = 0; index < slots_.size(); ++index) {
        slot& s = slots_[index];
        if (!s.busy || now - s.sent_ns < options_.timeout_ns) {
            continue;
        }
        release(index);
        if (stats_ != nullptr && now < count_until_ns_) {
            ++stats_->timeouts;
            stats_->end_ns = now;
        }
        if (issuing_) {
            plan_->give_back(s.peer);
        }
    }
    if (busy_count_ > 0 && now - last_answer_ns_ >= options_.silence_ns) {
        fail(fmt::format("no answer for {} s", static_cast<double>(options_.silence_ns) / 1e9));
    }
}

std::size_t udp_load::wait_and_receive(int timeout_ms) {
    std::array<epoll_event, 16> events{};
    const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
    if (stats_ != nullptr) {
        ++stats_->waits;
    }
    if (n < 0) {
        if (errno == EINTR) {
            return 0;
        }
        fail(fmt::format("epoll_wait: {}", std::strerror(errno)));
    }
    std::size_t total = 0;
    for (int k = 0; k < n; ++k) {
        total += receive(events[k].data.u32);
    }
    return total;
}

void udp_load::run(announce_plan& plan, phase_stats& stats) {
    const bool fill = plan.is_fill();
    stats.begin(fill ? "fill" : "steady",
                fill ? pop_.peers() : static_cast<std::size_t>(options_.duration_s * 4e5));
    plan_ = &plan;
    stats_ = &stats;
    issuing_ = true;
    const std::uint64_t start = stats.start_ns;
    const std::uint64_t deadline =
        fill ? UINT64_MAX : start + static_cast<std::uint64_t>(options_.duration_s * 1e9);
    count_until_ns_ = deadline;
    last_answer_ns_ = start;
    std::uint64_t next_timer = start + timer_period_ns;
    std::size_t received = 0;
    for (;;) {
        std::uint64_t now = now_ns();
        if (now >= deadline || (fill && plan.exhausted() && busy_count_ == 0)) {
            break;
        }
        if (now >= next_timer) {
            check_timers(now);
            next_timer = now + timer_period_ns;
        }
        fill_slots();
        if (received > 0 && options_.poll_ns > 0) {
            // Answers are coming: let them collect for a moment and read them in one go, rather
            // than wake up for each (a wake-up costs both sides more than a datagram).
            pause_for(options_.poll_ns);
            received = wait_and_receive(0);
            continue;
        }
        now = now_ns();
        const std::uint64_t wake = std::min(next_timer, deadline);
        received = wait_and_receive(wake > now ? static_cast<int>((wake - now + 999'999) / 1'000'000) : 0);
    }
    issuing_ = false;
    stats.finish(fill ? stats.end_ns : deadline);
    // Let what is still in flight come back (or time out) so that the next phase starts clean;
    // none of it counts.
    count_until_ns_ = 0;
    const std::uint64_t drain_end = now_ns() + options_.timeout_ns + timer_period_ns;
    while (busy_count_ > 0 && now_ns() < drain_end) {
        check_timers(now_ns());
        wait_and_receive(10);
    }
    stats_ = nullptr;
    plan_ = nullptr;
}

probe_result udp_load::probe() {
    connect();
    probe_result_ = {};
    probing_ = true;
    const std::uint32_t index = free_slots_.back();
    free_slots_.pop_back();
    const announce_job job{0, announce_event::stopped};
    prepare(index, job, now_ns(), sockets_.front());
    // The probe is not one of the population's peers: swarm 0's hash, a peer id and port of its own.
    std::uint8_t* p = slots_[index].packet.data();
    std::memcpy(p + 16, pop_.info_hash(0).data(), 20);
    std::memcpy(p + 36, population::peer_id(probe_peer).data(), 20);
    put_u64(p + 64, 0);
    put_u16(p + 96, 1023);
    ::send(sockets_.front().fd, p, packet_size, 0);
    const std::uint64_t end = now_ns() + options_.timeout_ns;
    while (slots_[index].busy && now_ns() < end) {
        wait_and_receive(10);
    }
    probing_ = false;
    return probe_result_;
}

}  // namespace hyphae::bench
