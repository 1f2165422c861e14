#include "hyphae/runtime/host_runtime.hpp"

#include <deque>

#include <fcntl.h>
#include <gtest/gtest.h>

#include "hyphae/runtime/runtime_clock.hpp"

namespace hyphae {
namespace {

using namespace std::chrono_literals;

// Echoes datagrams starting with "ping" and connections starting with "ECHO", dials on command,
// asks for disk jobs and look-ups, and wakes at a deadline it is given.
class echo_service final : public service {
public:
    std::string_view name() const override { return "echo"; }
    bool claims_datagram(byte_view bytes) const override { return as_chars(bytes).starts_with("ping"); }
    claim claims_stream(byte_view first) const override {
        const std::string_view seen = as_chars(first);
        if (seen.size() < 4) {
            return std::string_view("ECHO").starts_with(seen) ? claim::need_more : claim::no;
        }
        return seen.starts_with("ECHO") ? claim::yes : claim::no;
    }
    void on_datagram(time_point, const endpoint& from, byte_view bytes) override {
        std::string reply = "pong" + std::string(as_chars(bytes).substr(4));
        out.push_back(io::datagram{from, to_buffer(reply)});
    }
    void on_accepted(time_point, conn_id conn, const endpoint&) override { accepted.push_back(conn); }
    void on_connected(time_point, conn_id conn) override {
        connected.push_back(conn);
        out.push_back(io::send{conn, {make_out_buffer(std::string_view("ECHO hello"))}});
    }
    void on_stream_bytes(time_point, conn_id conn, byte_view bytes) override {
        received[conn] += std::string(as_chars(bytes));
        if (std::find(accepted.begin(), accepted.end(), conn) != accepted.end()) {
            // Echo back in two buffers, gathered into one write.
            const std::string text(as_chars(bytes));
            out.push_back(io::send{conn,
                                   {make_out_buffer(std::string_view(text).substr(0, text.size() / 2)),
                                    make_out_buffer(std::string_view(text).substr(text.size() / 2))}});
        }
    }
    void on_send_done(time_point, conn_id, std::size_t bytes) override { sent_done += bytes; }
    void on_closed(time_point, conn_id conn, std::string_view reason) override {
        closed.emplace_back(conn, std::string(reason));
    }
    void on_disk_done(time_point, std::uint64_t job, const disk_result& r) override {
        disk.emplace_back(job, !r.ok ? "error: " + r.error : r.data ? std::string(as_chars(*r.data)) : "");
    }
    void on_resolved(time_point, std::uint64_t query, const resolve_result& r) override {
        resolved.emplace_back(query, r ? r->size() : 0);
    }
    void on_timer(time_point now) override {
        fired = now;
        deadline.reset();
    }
    std::optional<transmit> poll_transmit() override {
        if (out.empty()) {
            return std::nullopt;
        }
        transmit t = std::move(out.front());
        out.pop_front();
        return t;
    }
    std::optional<disk_job> poll_disk_job() override {
        if (jobs.empty()) {
            return std::nullopt;
        }
        disk_job j = jobs.front();
        jobs.pop_front();
        return j;
    }
    std::optional<resolve_query> poll_resolve() override {
        if (queries.empty()) {
            return std::nullopt;
        }
        resolve_query q = queries.front();
        queries.pop_front();
        return q;
    }
    std::optional<time_point> next_timer() const override { return deadline; }
    bool has_events() const override { return false; }

    conn_id dial(const endpoint& to) {
        const conn_id c = new_conn_id();
        out.push_back(io::connect{c, to});
        return c;
    }

    std::deque<transmit> out;
    std::deque<disk_job> jobs;
    std::deque<resolve_query> queries;
    std::optional<time_point> deadline;
    std::optional<time_point> fired;
    std::vector<conn_id> accepted;
    std::vector<conn_id> connected;
    std::map<conn_id, std::string> received;
    std::vector<std::pair<conn_id, std::string>> closed;
    std::vector<std::pair<std::uint64_t, std::string>> disk;
    std::vector<std::pair<std::uint64_t, std::size_t>> resolved;
    std::size_t sent_done = 0;
};

// Holds one piece of text per piece number.
class memory_block_storage final : public block_storage {
public:
    result<void> write(std::uint32_t piece, std::uint32_t, byte_view data) override {
        pieces[piece] = std::string(as_chars(data));
        return {};
    }
    result<std::vector<std::uint8_t>> read(std::uint32_t piece, std::uint32_t, std::uint32_t) override {
        auto it = pieces.find(piece);
        if (it == pieces.end()) {
            return fail(errc::io, "memory", "no such piece");
        }
        return to_buffer(it->second);
    }
    result<sha1_hash> hash_piece(std::uint32_t) override { return sha1_hash{}; }
    result<void> sync() override { return {}; }
    std::map<std::uint32_t, std::string> pieces;
};

struct runtime_fixture : ::testing::Test {
    host h;
    echo_service* echo = nullptr;
    service_id id = 0;
    std::unique_ptr<host_runtime> rt;

    void start(runtime_config config) {
        auto s = std::make_unique<echo_service>();
        echo = s.get();
        id = h.add(runtime_now(), std::move(s));
        config.bind_address = "127.0.0.1";
        rt = std::make_unique<host_runtime>(h, config);
        auto opened = rt->open();
        ASSERT_TRUE(opened) << opened.error().message();
    }

    // Runs the loop until `done` or a deadline of real time.
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
        const auto end = std::chrono::steady_clock::now() + limit;
        rt->pump();
        while (!done() && std::chrono::steady_clock::now() < end) {
            rt->context().restart();
            rt->context().run_for(10ms);
        }
        return done();
    }
};

TEST_F(runtime_fixture, answers_datagrams_on_its_udp_port) {
    runtime_config config;
    config.udp = runtime_config::udp_mode::port;
    start(config);
    ASSERT_TRUE(rt->udp_endpoint());
    asio::io_context io;
    asio::ip::udp::socket client(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const asio::ip::udp::endpoint server(asio::ip::make_address("127.0.0.1"), rt->udp_endpoint()->port);
    for (int i = 0; i < 3; ++i) {
        client.send_to(asio::buffer("ping" + std::to_string(i)), server);
    }
    client.send_to(asio::buffer(std::string("junk")), server);
    client.non_blocking(true);
    std::vector<std::string> replies;
    EXPECT_TRUE(run_until([&] {
        std::array<char, 64> buffer{};
        asio::ip::udp::endpoint from;
        asio::error_code ec;
        const std::size_t n = client.receive_from(asio::buffer(buffer), from, 0, ec);
        if (!ec) {
            replies.emplace_back(buffer.data(), n);
        }
        return replies.size() == 3;
    }));
    EXPECT_EQ(replies, (std::vector<std::string>{"pong0", "pong1", "pong2"}));
    EXPECT_EQ(h.counters().datagrams_unclaimed, 1u);
    EXPECT_EQ(rt->counters().datagrams_out, 3u);
}

TEST_F(runtime_fixture, accepted_connections_reach_the_service_that_claims_them_and_writes_are_gathered) {
    runtime_config config;
    config.tcp_port = 0;
    start(config);
    asio::io_context io;
    asio::ip::tcp::socket client(io);
    client.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), rt->tcp_endpoint()->port));
    asio::write(client, asio::buffer(std::string("EC")));
    asio::write(client, asio::buffer(std::string("HO 1234")));
    ASSERT_TRUE(run_until([&] { return echo->sent_done == 9; }));
    std::string echoed(9, '\0');
    asio::read(client, asio::buffer(echoed));
    EXPECT_EQ(echoed, "ECHO 1234");
    ASSERT_EQ(echo->accepted.size(), 1u);
    client.close();
    ASSERT_TRUE(run_until([&] { return !echo->closed.empty(); }));
    EXPECT_EQ(echo->closed[0].second, "closed by the peer");
}

TEST_F(runtime_fixture, a_connection_no_service_claims_is_closed) {
    runtime_config config;
    config.tcp_port = 0;
    start(config);
    asio::io_context io;
    asio::ip::tcp::socket client(io);
    client.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), rt->tcp_endpoint()->port));
    asio::write(client, asio::buffer(std::string("GET / HTTP/1.1\r\n\r\n")));
    ASSERT_TRUE(run_until([&] { return h.counters().streams_unclaimed == 1; }));
    std::array<char, 16> buffer{};
    asio::error_code ec;
    client.read_some(asio::buffer(buffer), ec);
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

TEST_F(runtime_fixture, dials_out_and_reports_refused_connections) {
    runtime_config config;
    config.tcp_port = 0;
    start(config);
    // Dial our own listener: the outgoing side says "ECHO hello", the accepted side echoes it.
    const conn_id out =
        h.call<echo_service>(runtime_now(), id, [&](echo_service& s) { return s.dial(*rt->tcp_endpoint()); });
    ASSERT_TRUE(run_until([&] { return echo->received[out] == "ECHO hello"; }));
    EXPECT_EQ(echo->connected, std::vector<conn_id>{out});
    // A port nobody listens on.
    asio::io_context io;
    asio::ip::tcp::acceptor probe(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const endpoint dead{ip_address::v4(0x7f000001), probe.local_endpoint().port()};
    probe.close();
    const conn_id refused =
        h.call<echo_service>(runtime_now(), id, [&](echo_service& s) { return s.dial(dead); });
    ASSERT_TRUE(run_until([&] {
        return std::any_of(echo->closed.begin(), echo->closed.end(),
                           [&](const auto& c) { return c.first == refused; });
    }));
    EXPECT_TRUE(echo->closed.back().second.starts_with("connect: ")) << echo->closed.back().second;
}

TEST_F(runtime_fixture, runs_disk_jobs_against_the_attached_storage_and_fails_those_without_one) {
    runtime_config config;
    start(config);
    auto storage = std::make_shared<memory_block_storage>();
    rt->attach_storage(id, 5, storage);
    h.call<echo_service>(runtime_now(), id, [](echo_service& s) {
        s.jobs.push_back(disk_job{.id = 1,
                                  .storage = 5,
                                  .what = disk_job::kind::write,
                                  .piece = 3,
                                  .begin = 0,
                                  .length = 5,
                                  .data = make_out_buffer(std::string_view("block")).owner});
    });
    ASSERT_TRUE(run_until([&] { return echo->disk.size() == 1; }));
    h.call<echo_service>(runtime_now(), id, [](echo_service& s) {
        s.jobs.push_back(
            disk_job{.id = 2, .storage = 5, .what = disk_job::kind::read, .piece = 3, .data = nullptr});
        s.jobs.push_back(
            disk_job{.id = 3, .storage = 9, .what = disk_job::kind::read, .piece = 3, .data = nullptr});
    });
    ASSERT_TRUE(run_until([&] { return echo->disk.size() == 3; }));
    std::map<std::uint64_t, std::string> by_id(echo->disk.begin(), echo->disk.end());
    EXPECT_EQ(by_id[2], "block");
    EXPECT_EQ(by_id[3], "error: no storage is open for this job");
    EXPECT_EQ(storage->pieces[3], "block");
}

TEST_F(runtime_fixture, resolves_names_and_wakes_the_service_at_its_deadline) {
    runtime_config config;
    start(config);
    const time_point at = runtime_now() + 30ms;
    h.call<echo_service>(runtime_now(), id, [&](echo_service& s) {
        s.queries.push_back(resolve_query{1, "localhost", 80});
        s.queries.push_back(resolve_query{2, "no-such-name.invalid", 80});
        s.deadline = at;
    });
    ASSERT_TRUE(run_until([&] { return echo->resolved.size() == 2 && echo->fired; }));
    std::map<std::uint64_t, std::size_t> by_id(echo->resolved.begin(), echo->resolved.end());
    EXPECT_GE(by_id[1], 1u);
    EXPECT_EQ(by_id[2], 0u);
    EXPECT_GE(*echo->fired, at);
}

TEST_F(runtime_fixture, sockets_are_close_on_exec_and_udp_can_share_the_tcp_port_number) {
    runtime_config config;
    config.tcp_port = 0;
    config.udp = runtime_config::udp_mode::same_as_tcp;
    start(config);
    ASSERT_TRUE(rt->tcp_endpoint() && rt->udp_endpoint());
    EXPECT_EQ(rt->tcp_endpoint()->port, rt->udp_endpoint()->port);
    EXPECT_TRUE(rt->udp_error().empty());
    // Every descriptor this process holds for a socket is close-on-exec.
    int sockets = 0;
    for (int fd = 3; fd < 1024; ++fd) {
        int type = 0;
        socklen_t length = sizeof(type);
        if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0) {
            ++sockets;
            EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC) << "socket " << fd;
        }
    }
    EXPECT_GE(sockets, 2);
}

TEST_F(runtime_fixture, a_taken_port_is_an_error_unless_any_port_will_do) {
    asio::io_context io;
    asio::ip::tcp::acceptor taken(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const std::uint16_t port = taken.local_endpoint().port();
    host other;
    runtime_config config;
    config.bind_address = "127.0.0.1";
    config.tcp_port = port;
    host_runtime strict(other, config);
    const auto refused = strict.open();
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message().find(std::to_string(port)), std::string::npos);
    config.any_port_if_taken = true;
    host_runtime relaxed(other, config);
    ASSERT_TRUE(relaxed.open());
    EXPECT_NE(relaxed.tcp_endpoint()->port, port);
}

}  // namespace
}  // namespace hyphae
