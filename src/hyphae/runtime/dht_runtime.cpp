#include "hyphae/runtime/dht_runtime.hpp"

#include "hyphae/runtime/runtime_clock.hpp"
#include "hyphae/runtime/socket_address.hpp"

namespace hyphae {

dht_runtime::dht_runtime(asio::io_context& io, dht::dht_node& core, const dht_runtime_config& config)
    : io_(io), core_(core), config_(config), socket_(io), timer_(io), buffer_(4096) {}

dht_runtime::~dht_runtime() {
    close();
}

result<endpoint> dht_runtime::open() {
    asio::error_code ec;
    const auto address = asio::ip::make_address(config_.bind_address, ec);
    if (ec) {
        return fail(errc::invalid_argument, "dht", "'" + config_.bind_address + "' is not an IP address");
    }
    const asio::ip::udp::endpoint ep(address, config_.port);
    socket_.open(ep.protocol(), ec);
    if (!ec) {
        socket_.bind(ep, ec);
    }
    if (ec) {
        return fail(errc::io, "dht: bind udp " + config_.bind_address + ":" + std::to_string(config_.port),
                    ec.message());
    }
    asio::error_code ignored;
    socket_.non_blocking(true, ignored);
    socket_.set_option(asio::socket_base::receive_buffer_size(config_.socket_buffer_bytes), ignored);
    socket_.set_option(asio::socket_base::send_buffer_size(config_.socket_buffer_bytes), ignored);
    local_ = from_asio(socket_.local_endpoint());
    read();
    pump();
    return *local_;
}

void dht_runtime::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    asio::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
}

void dht_runtime::read() {
    socket_.async_receive_from(
        asio::buffer(buffer_), sender_, [this](const asio::error_code& ec, std::size_t n) {
            if (closed_ || ec == asio::error::operation_aborted) {
                return;
            }
            if (!ec) {
                core_.on_datagram(runtime_now(), from_asio(sender_), byte_view(buffer_.data(), n));
                pump();
            }
            // Errors on a UDP socket (an ICMP unreachable from an earlier send) concern one
            // datagram: keep reading.
            read();
        });
}

void dht_runtime::pump() {
    if (pumping_ || closed_) {
        return;
    }
    pumping_ = true;
    for (;;) {
        bool any = false;
        while (auto tx = core_.poll_datagram()) {
            any = true;
            asio::error_code ec;
            socket_.send_to(asio::buffer(tx->bytes), to_asio<asio::ip::udp::endpoint>(tx->to), 0, ec);
            if (ec) {
                ++counters_.send_failures;
            }
        }
        while (auto event = core_.poll_event()) {
            any = true;
            if (on_event) {
                on_event(*event);  // may call into the core: loop until both queues are empty
            }
        }
        if (!any) {
            break;
        }
    }
    pumping_ = false;
    arm_timer();
}

void dht_runtime::arm_timer() {
    const auto next = core_.next_timer();
    if (!next || closed_) {
        return;
    }
    if (armed_for_ && *armed_for_ == *next) {
        return;
    }
    armed_for_ = *next;
    const auto wait = std::max(duration::zero(), *next - runtime_now());
    timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait));
    timer_.async_wait([this](const asio::error_code& ec) {
        if (ec == asio::error::operation_aborted || closed_) {
            return;
        }
        armed_for_.reset();
        core_.on_timer(runtime_now());
        pump();
    });
}

}  // namespace hyphae
