#include "http_load.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hyphae::bench {

namespace {

constexpr std::uint64_t timer_period_ns = 10'000'000;
constexpr std::uint64_t reopen_delay_ns = 10'000'000;
constexpr std::uint32_t closes_to_learn = 8;
constexpr std::uint64_t probe_peer = 999'999'999'999;

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool starts_with_nocase(std::string_view text, std::string_view lower_prefix) {
    if (text.size() < lower_prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
        if (lower(text[i]) != lower_prefix[i]) {
            return false;
        }
    }
    return true;
}

bool contains_nocase(std::string_view text, std::string_view lower_needle) {
    for (std::size_t i = 0; i + lower_needle.size() <= text.size(); ++i) {
        if (starts_with_nocase(text.substr(i), lower_needle)) {
            return true;
        }
    }
    return false;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// The integer after `key` in a bencoded dictionary ("8:completei12e" -> 12).
std::uint64_t bencode_int(std::string_view body, std::string_view key) {
    const std::size_t at = body.find(key);
    if (at == std::string_view::npos || at + key.size() >= body.size() || body[at + key.size()] != 'i') {
        return 0;
    }
    const char* first = body.data() + at + key.size() + 1;
    std::uint64_t value = 0;
    std::from_chars(first, body.data() + body.size(), value);
    return value;
}

// The string after `key` in a bencoded dictionary ("5:peers12:<12 bytes>").
std::optional<std::string_view> bencode_string(std::string_view body, std::string_view key) {
    const std::size_t at = body.find(key);
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    const char* first = body.data() + at + key.size();
    const char* last = body.data() + body.size();
    std::size_t length = 0;
    const auto [ptr, ec] = std::from_chars(first, last, length);
    if (ec != std::errc{} || ptr == last || *ptr != ':' ||
        static_cast<std::size_t>(last - ptr - 1) < length) {
        return std::nullopt;
    }
    return std::string_view{ptr + 1, length};
}

}  // namespace

http_load::http_load(const population& pop, const load_options& options)
    : pop_{pop}, options_{options}, host_{options.target_text} {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) {
        fail(fmt::format("epoll_create1: {}", std::strerror(errno)));
    }
    connections_.resize(std::max<std::uint32_t>(options_.connections, 1));
    for (connection& c : connections_) {
        c.in.resize(answer_max);
    }
}

http_load::~http_load() {
    for (connection& c : connections_) {
        close(c);
    }
    if (epoll_fd_ >= 0) {
        ::close(epoll_fd_);
    }
}

void http_load::fail(const std::string& what) const {
    throw std::runtime_error{fmt::format("http://{}: {}", options_.target_text, what)};
}

std::size_t http_load::build_request(connection& c, std::uint32_t swarm, const peer_id_bytes& id,
                                     std::uint16_t port, std::uint64_t left, announce_event event) {
    char* p = c.request.data();
    char* const end = p + c.request.size();
    const auto append = [&p](std::string_view s) {
        std::memcpy(p, s.data(), s.size());
        p += s.size();
    };
    const auto number = [&p, end](std::uint64_t v) {
        p = std::to_chars(p, end, v).ptr;
    };
    append("GET /announce?info_hash=");
    append(pop_.info_hash_escaped(swarm));
    append("&peer_id=");
    append(std::string_view{id.data(), id.size()});
    append("&port=");
    number(port);
    append("&uploaded=0&downloaded=0&left=");
    number(left);
    append("&compact=1&numwant=");
    number(options_.numwant);
    switch (event) {
        case announce_event::none:
            break;
        case announce_event::completed:
            append("&event=completed");
            break;
        case announce_event::started:
            append("&event=started");
            break;
        case announce_event::stopped:
            append("&event=stopped");
            break;
    }
    append(" HTTP/1.1\r\nHost: ");
    append(host_);
    append("\r\nConnection: keep-alive\r\n\r\n");
    c.request_size = static_cast<std::size_t>(p - c.request.data());
    c.request_written = 0;
    return c.request_size;
}

void http_load::assign(connection& c, std::uint64_t now) {
    if (!issuing_ || c.busy || now >= count_until_ns_ || plan_->exhausted()) {
        return;
    }
    const announce_job job = plan_->next();
    build_request(c, pop_.swarm_of(job.peer), population::peer_id(job.peer), pop_.port_of(job.peer),
                  pop_.left_of(job.peer), job.event);
    c.busy = true;
    ++busy_count_;
    c.peer = job.peer;
    c.sent_ns = now;
    c.in_size = 0;
    if (c.st == state::closed) {
        open(c);
    } else {
        write(c);
    }
}

void http_load::set_idle(connection& c) {
    if (c.busy) {
        c.busy = false;
        --busy_count_;
    }
}

void http_load::open(connection& c) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail(fmt::format("socket: {}", std::strerror(errno)));
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.fd = fd;
    ++c.generation;
    c.st = state::connecting;
    c.answers = 0;
    c.in_size = 0;
    if (c.opened_before && stats_ != nullptr && now_ns() < count_until_ns_) {
        ++stats_->reconnects;
    }
    c.opened_before = true;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = (std::uint64_t{c.generation} << 32) | index_of(c);
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        fail(fmt::format("epoll_ctl: {}", std::strerror(errno)));
    }
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&options_.target), sizeof options_.target) != 0 &&
        errno != EINPROGRESS) {
        on_close(c, errno);
        return;
    }
    if (c.busy) {
        write(c);  // over loopback the handshake is often done already
    }
}

void http_load::write(connection& c) {
    while (c.request_written < c.request_size) {
        const ssize_t n = ::send(c.fd, c.request.data() + c.request_written,
                                 c.request_size - c.request_written, MSG_NOSIGNAL);
        if (stats_ != nullptr) {
            ++stats_->send_calls;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                on_close(c, errno);
            }
            return;  // EAGAIN: still connecting, or the buffer is full; EPOLLOUT resumes
        }
        c.request_written += static_cast<std::size_t>(n);
    }
    c.st = state::open;
    if (stats_ != nullptr && now_ns() < count_until_ns_) {
        ++stats_->sent;
    }
}

std::optional<http_load::answer> http_load::parse(const connection& c, bool at_eof) const {
    const std::string_view text{c.in.data(), c.in_size};
    const std::size_t header_end = text.find("\r\n\r\n");
    if (header_end == std::string_view::npos) {
        return std::nullopt;
    }
    answer a;
    const std::string_view head = text.substr(0, header_end);
    std::size_t line_end = head.find("\r\n");
    const std::string_view status_line = head.substr(0, line_end);
    if (status_line.size() >= 12 && status_line.substr(0, 7) == "HTTP/1.") {
        a.keep_alive = status_line[7] != '0';
        std::from_chars(status_line.data() + 9, status_line.data() + 12, a.status);
    }
    std::optional<std::size_t> content_length;
    while (line_end != std::string_view::npos) {
        const std::size_t start = line_end + 2;
        line_end = head.find("\r\n", start);
        const std::string_view line =
            head.substr(start, line_end == std::string_view::npos ? head.size() - start : line_end - start);
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        const std::string_view name = line.substr(0, colon);
        const std::string_view value = trim(line.substr(colon + 1));
        if (name.size() == 14 && starts_with_nocase(name, "content-length")) {
            std::size_t length = 0;
            std::from_chars(value.data(), value.data() + value.size(), length);
            content_length = length;
        } else if (name.size() == 10 && starts_with_nocase(name, "connection")) {
            if (contains_nocase(value, "close")) {
                a.keep_alive = false;
            } else if (contains_nocase(value, "keep-alive")) {
                a.keep_alive = true;
            }
        } else if (name.size() == 17 && starts_with_nocase(name, "transfer-encoding")) {
            a.status = 0;  // chunked answers are not read: counted as errors
            a.keep_alive = false;
        }
    }
    const std::size_t body_start = header_end + 4;
    if (content_length) {
        if (text.size() < body_start + *content_length) {
            return std::nullopt;
        }
        a.size = body_start + *content_length;
        a.body = text.substr(body_start, *content_length);
        return a;
    }
    if (!at_eof) {
        return std::nullopt;
    }
    a.keep_alive = false;
    a.size = text.size();
    a.body = text.substr(body_start);
    return a;
}

void http_load::read(connection& c, bool tracker_closed) {
    for (;;) {
        if (c.in_size == c.in.size()) {
            if (stats_ != nullptr && now_ns() < count_until_ns_) {
                ++stats_->errors;
            }
            close(c);
            set_idle(c);
            c.reopen_at_ns = now_ns() + reopen_delay_ns;
            return;
        }
        const ssize_t n = ::recv(c.fd, c.in.data() + c.in_size, c.in.size() - c.in_size, 0);
        if (stats_ != nullptr) {
            ++stats_->receive_calls;
        }
        if (n > 0) {
            if (!c.busy) {
                continue;  // bytes nobody asked for: dropped
            }
            c.in_size += static_cast<std::size_t>(n);
            if (const auto a = parse(c, false)) {
                complete(c, *a, tracker_closed);
                return;
            }
            continue;
        }
        if (n == 0) {
            on_close(c, 0);
            return;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            on_close(c, errno);
        }
        return;
    }
}

void http_load::complete(connection& c, const answer& a, bool tracker_closed) {
    const std::uint64_t now = now_ns();
    last_answer_ns_ = now;
    answered_ever_ = true;
    set_idle(c);
    ++c.answers;
    answers_per_connection_max_ = std::max(answers_per_connection_max_, c.answers);
    const std::uint64_t latency = now - c.sent_ns;
    const auto failure = bencode_string(a.body, "14:failure reason");
    const auto peers = bencode_string(a.body, "5:peers");
    if (probing_) {
        if (a.status != 200) {
            probe_result_ = {probe_outcome::error_answer, fmt::format("HTTP status {}", a.status)};
        } else if (failure) {
            probe_result_ = {probe_outcome::error_answer, std::string{*failure}};
        } else if (a.body.find("8:interval") != std::string_view::npos) {
            probe_result_ = {
                probe_outcome::full_answer,
                fmt::format("complete {} incomplete {} peers {}", bencode_int(a.body, "8:complete"),
                            bencode_int(a.body, "10:incomplete"), peers ? peers->size() / 6 : 0)};
        } else {
            probe_result_ = {probe_outcome::empty_answer, std::string{a.body}};
        }
    } else if (stats_ != nullptr && now < count_until_ns_) {
        if (a.status != 200 || failure) {
            ++stats_->errors;
            if (stats_->first_error.empty()) {
                stats_->first_error =
                    failure ? std::string{*failure} : fmt::format("HTTP status {}", a.status);
            }
        } else {
            stats_->record(latency, static_cast<std::uint32_t>(peers ? peers->size() / 6 : 0),
                           static_cast<std::uint32_t>(bencode_int(a.body, "8:complete") +
                                                      bencode_int(a.body, "10:incomplete")));
        }
        stats_->end_ns = now;
    }
    c.in_size = 0;
    if (tracker_closed) {
        note_tracker_close(c.answers);
        close(c);
        assign(c, now);
    } else if (!a.keep_alive || tracker_closes_) {
        // Wait for the tracker's close rather than race it (and rather than close first, which
        // would leave our side in TIME_WAIT).
        c.st = state::closing;
        c.closing_since_ns = now;
    } else {
        assign(c, now);
    }
}

void http_load::note_tracker_close(std::uint32_t answers) {
    if (answers == 1) {
        ++closes_after_first_answer_;
    }
    tracker_closes_ = closes_after_first_answer_ >= closes_to_learn && answers_per_connection_max_ == 1;
}

void http_load::on_close(connection& c, int error) {
    const std::uint64_t now = now_ns();
    if (c.busy && c.in_size > 0) {
        if (const auto a = parse(c, true)) {
            complete(c, *a, true);
            return;
        }
    }
    const std::uint32_t answers = c.answers;
    close(c);
    if (!c.busy) {
        note_tracker_close(answers);
        assign(c, now);
        return;
    }
    if (answers > 0) {
        // The tracker closed a kept-alive connection as this request went out: the same request
        // again on a new connection (its latency keeps counting from the first send).
        note_tracker_close(answers);
        c.request_written = 0;
        open(c);
        return;
    }
    const std::string why = error != 0 ? std::strerror(error) : "connection closed without an answer";
    if (probing_) {
        probe_result_ = {probe_outcome::no_answer, why};
        set_idle(c);
        return;
    }
    if (error == ECONNREFUSED && !answered_ever_) {
        fail("connection refused (nothing listens there)");
    }
    if (stats_ != nullptr && now < count_until_ns_) {
        ++stats_->errors;
        if (stats_->first_error.empty()) {
            stats_->first_error = why;
        }
    }
    set_idle(c);
    if (issuing_) {
        plan_->give_back(c.peer);
    }
    c.reopen_at_ns = now + reopen_delay_ns;
}

void http_load::close(connection& c) {
    if (c.fd >= 0) {
        ::close(c.fd);  // also leaves the epoll set
    }
    c.fd = -1;
    c.st = state::closed;
}

void http_load::check_timers(std::uint64_t now) {
    for (connection& c : connections_) {
        if (c.busy && now - c.sent_ns >= options_.timeout_ns) {
            if (stats_ != nullptr && now < count_until_ns_) {
                ++stats_->timeouts;
                stats_->end_ns = now;
            }
            set_idle(c);
            if (issuing_) {
                plan_->give_back(c.peer);
            }
            close(c);
            assign(c, now);
        } else if (c.st == state::closing && now - c.closing_since_ns >= options_.timeout_ns) {
            close(c);
            assign(c, now);
        } else if (!c.busy && c.st != state::closing && now >= c.reopen_at_ns) {
            assign(c, now);
        }
    }
    if (busy_count_ > 0 && now - last_answer_ns_ >= options_.silence_ns) {
        fail(fmt::format("no answer {} {} s", answered_ever_ ? "for" : "within",
                         static_cast<double>(options_.silence_ns) / 1e9));
    }
}

std::size_t http_load::wait_and_dispatch(int timeout_ms) {
    std::array<epoll_event, 256> events{};
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
    for (int k = 0; k < n; ++k) {
        const std::uint64_t data = events[k].data.u64;
        connection& c = connections_[data & 0xffff'ffffU];
        const auto generation = static_cast<std::uint32_t>(data >> 32);
        const std::uint32_t ev = events[k].events;
        if (c.fd < 0 || c.generation != generation) {
            continue;  // an event of a socket closed since
        }
        if ((ev & EPOLLOUT) != 0 && c.busy && c.request_written < c.request_size) {
            write(c);
        }
        if (c.fd >= 0 && c.generation == generation &&
            (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
            read(c, (ev & (EPOLLRDHUP | EPOLLHUP)) != 0);
        }
    }
    return static_cast<std::size_t>(n);
}

void http_load::run(announce_plan& plan, phase_stats& stats) {
    const bool fill = plan.is_fill();
    stats.begin(fill ? "fill" : "steady",
                fill ? pop_.peers() : static_cast<std::size_t>(options_.duration_s * 1e5));
    plan_ = &plan;
    stats_ = &stats;
    issuing_ = true;
    const std::uint64_t start = stats.start_ns;
    const std::uint64_t deadline =
        fill ? UINT64_MAX : start + static_cast<std::uint64_t>(options_.duration_s * 1e9);
    count_until_ns_ = deadline;
    last_answer_ns_ = start;
    for (connection& c : connections_) {
        if (c.st != state::closing) {
            assign(c, start);
        }
    }
    std::uint64_t next_timer = start + timer_period_ns;
    std::size_t ready = 0;
    for (;;) {
        const std::uint64_t now = now_ns();
        if (now >= deadline || (fill && plan.exhausted() && busy_count_ == 0)) {
            break;
        }
        if (now >= next_timer) {
            check_timers(now);
            next_timer = now + timer_period_ns;
        }
        if (ready > 0 && options_.poll_ns > 0) {
            pause_for(options_.poll_ns);  // let answers collect (see udp_load::run)
            ready = wait_and_dispatch(0);
            continue;
        }
        const std::uint64_t wake = std::min(next_timer, deadline);
        ready = wait_and_dispatch(wake > now ? static_cast<int>((wake - now + 999'999) / 1'000'000) : 0);
    }
    issuing_ = false;
    stats.finish(fill ? stats.end_ns : deadline);
    count_until_ns_ = 0;
    const std::uint64_t drain_end = now_ns() + options_.timeout_ns + timer_period_ns;
    while (busy_count_ > 0 && now_ns() < drain_end) {
        check_timers(now_ns());
        wait_and_dispatch(10);
    }
    stats_ = nullptr;
    plan_ = nullptr;
}

probe_result http_load::probe() {
    probing_ = true;
    probe_result_ = {probe_outcome::no_answer, "no answer"};
    connection& c = connections_.front();
    build_request(c, 0, population::peer_id(probe_peer), 1023, 0, announce_event::stopped);
    c.busy = true;
    ++busy_count_;
    c.sent_ns = now_ns();
    open(c);
    const std::uint64_t end = c.sent_ns + options_.timeout_ns;
    while (c.busy && now_ns() < end) {
        wait_and_dispatch(10);
    }
    probing_ = false;
    close(c);
    return probe_result_;
}

}  // namespace hyphae::bench
