#pragma once
// The contract of every protocol core, and the interface through which the host owns one.
//
// A core (sans_io_core) is a plain object that does no I/O: every input carries `now`, which
// never goes backwards; outputs are drained by whoever drives it, after every input, until empty;
// next_timer() is a const query of when it next wants on_timer(). Its events are its own typed
// values (poll_event), drained by whoever asked it for work.
//
// A service is a core the host owns, one per protocol (the DHT node, the BitTorrent swarms, the
// tracker, ...). It says which incoming traffic is its own by the first bytes (claims_datagram,
// claims_stream), takes the inputs the host routes to it, and emits the I/O vocabulary of
// core/io.hpp. The host drains, after every input to a service and in this order:
//   poll_transmit()   datagrams to send, connections to open, bytes to write, connections to close
//   poll_disk_job()   reads, writes and hashes
//   poll_resolve()    host names to look up
//   next_timer()      when to call on_timer()
// and notes has_events(): the service's typed events wait for its owner to drain them.
//
// Connections: an incoming connection a service claims is introduced by on_accepted, then its
// bytes follow through on_stream_bytes, the first bytes included. A service dials with ids from
// new_conn_id(). Whoever closes a connection is not told of it again; the other side's close
// (or a failure) comes in as on_closed.

#include <concepts>
#include <cstdint>
#include <optional>
#include <string_view>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/io.hpp"
#include "hyphae/core/time.hpp"

namespace hyphae {

template <class C>
concept sans_io_core = requires(C& core, const C& view, time_point now) {
    core.on_timer(now);
    { view.next_timer() } -> std::same_as<std::optional<time_point>>;
    { core.poll_event().has_value() } -> std::convertible_to<bool>;
};

using service_id = std::uint32_t;

// What a service makes of the first bytes of an incoming connection.
enum class claim : std::uint8_t {
    no,         // not this service's protocol
    need_more,  // could be: wait for more bytes
    yes,
};

class service {
public:
    virtual ~service() = default;
    service() = default;
    service(const service&) = delete;
    service& operator=(const service&) = delete;

    // For logs and counters: "dht", "bittorrent", "tracker".
    virtual std::string_view name() const = 0;

    // Demultiplexing by first bytes. The host asks services in the order of claim_rank() (lower
    // first; among equals, the order they were added); the first that claims takes the input.
    virtual bool claims_datagram(byte_view bytes) const {
        (void)bytes;
        return false;
    }
    virtual claim claims_stream(byte_view first_bytes) const {
        (void)first_bytes;
        return claim::no;
    }
    // Protocols whose first bytes look random (an encrypted handshake) rank last.
    virtual int claim_rank() const { return 0; }

    // Inputs.
    virtual void on_datagram(time_point now, const endpoint& from, byte_view bytes) {
        (void)now, (void)from, (void)bytes;
    }
    virtual void on_accepted(time_point now, conn_id conn, const endpoint& remote) {
        (void)now, (void)conn, (void)remote;
    }
    virtual void on_connected(time_point now, conn_id conn) { (void)now, (void)conn; }
    virtual void on_stream_bytes(time_point now, conn_id conn, byte_view bytes) {
        (void)now, (void)conn, (void)bytes;
    }
    // Bytes that arrived in a buffer of their own (`bytes.owner` keeps them): a service may keep a
    // reference where it would copy. Otherwise they are on_stream_bytes.
    virtual void on_stream_buffer(time_point now, conn_id conn, const out_buffer& bytes) {
        on_stream_bytes(now, conn, bytes.bytes);
    }
    virtual void on_send_done(time_point now, conn_id conn, std::size_t bytes) {
        (void)now, (void)conn, (void)bytes;
    }
    virtual void on_closed(time_point now, conn_id conn, std::string_view reason) {
        (void)now, (void)conn, (void)reason;
    }
    virtual void on_disk_done(time_point now, std::uint64_t job, const disk_result& result) {
        (void)now, (void)job, (void)result;
    }
    virtual void on_resolved(time_point now, std::uint64_t query, const resolve_result& result) {
        (void)now, (void)query, (void)result;
    }
    virtual void on_timer(time_point now) = 0;

    // Outputs.
    virtual std::optional<transmit> poll_transmit() = 0;
    virtual std::optional<disk_job> poll_disk_job() { return std::nullopt; }
    virtual std::optional<resolve_query> poll_resolve() { return std::nullopt; }
    virtual std::optional<time_point> next_timer() const = 0;
    virtual bool has_events() const = 0;

    // Set once, by the host that adds the service: its connection ids are first..first + span.
    void attach(service_id id, conn_id first) {
        id_ = id;
        next_conn_ = first;
    }
    service_id id() const { return id_; }

protected:
    conn_id new_conn_id() { return next_conn_++; }

private:
    service_id id_ = 0;
    conn_id next_conn_ = 1;
};

}  // namespace hyphae
