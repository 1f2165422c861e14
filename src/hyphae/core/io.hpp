#pragma once
// The I/O vocabulary every protocol core speaks, and the host and its drivers carry out: UDP
// datagrams, TCP connections named by id (connect, bytes to send, close), disk jobs, name look-ups.
// Cores never perform I/O; they emit these values and receive their outcomes as inputs.
//
// Connection ids: the host names incoming connections; a service dials with ids from the range
// the host gave it (service::new_conn_id). Cores that own many connections inside a service
// (a torrent inside the BitTorrent service) may number them locally; their service translates.
//
// Payload bytes are shared, not copied: an out_buffer references an immutable buffer (a pooled
// block read from disk, a message made for sending) that stays alive until the driver has
// written it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/endpoint.hpp"
#include "hyphae/core/error.hpp"
#include "hyphae/core/sha.hpp"

namespace hyphae {

using conn_id = std::uint64_t;

// Bytes shared between a core, the disk threads and socket writes: one copy per block.
using shared_bytes = std::shared_ptr<const std::vector<std::uint8_t>>;

// A view into shared bytes; `owner` keeps `bytes` alive.
struct out_buffer {
    shared_bytes owner;
    byte_view bytes;
};

// A buffer that owns `bytes` (moved in, not copied), whole.
out_buffer make_out_buffer(byte_buffer bytes);
// A buffer that owns a copy of `text`.
out_buffer make_out_buffer(std::string_view text);

namespace io {

// A UDP datagram to send from the host's UDP port.
struct datagram {
    endpoint to;
    byte_buffer bytes;
};

// Open a TCP connection; the outcome comes back as on_connected or on_closed for `conn`.
struct connect {
    conn_id conn = 0;
    endpoint remote;
};

// Bytes to write to `conn`, in order after everything sent before; on_send_done reports them.
struct send {
    conn_id conn = 0;
    std::vector<out_buffer> data;
};

// Close `conn`: at once, or once what was sent before is written (flush). The service that asks
// is not told again through on_closed.
struct close {
    conn_id conn = 0;
    std::string reason;
    bool flush = false;
};

}  // namespace io

using transmit = std::variant<io::datagram, io::connect, io::send, io::close>;

// The connection a transmit concerns; 0 for datagrams.
conn_id conn_of(const transmit& t);

// Read, write or hash in a storage the core names (a torrent, a shared folder); its outcome comes
// back as on_disk_done with the same id.
struct disk_job {
    enum class kind : std::uint8_t { write, read, hash };
    std::uint64_t id = 0;
    std::uint64_t storage = 0;
    kind what = kind::write;
    std::uint32_t piece = 0;
    std::uint32_t begin = 0;
    std::uint32_t length = 0;
    shared_bytes data;  // write
};

struct disk_result {
    bool ok = true;
    std::string error;  // when !ok
    shared_bytes data;  // read
    sha1_hash hash;     // hash
};

// Look a host name up; the outcome comes back as on_resolved with the same id.
struct resolve_query {
    std::uint64_t id = 0;
    std::string host;
    std::uint16_t port = 0;
};

using resolve_result = result<std::vector<endpoint>>;

}  // namespace hyphae
