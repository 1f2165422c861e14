#pragma once
// A libtorrent 2.0.8 DHT node (python3-libtorrent, run by tests/interop/lt_dht.py) on 127.0.0.1,
// for interop tests and benchmarks. The constructor starts it and waits until it listens; each
// call sends one command on its stdin and waits for the answer with that tag, within a deadline
// that the driver also keeps (it answers "timeout" then, so a late answer never meets a later
// call); the destructor ends its stdin and stops it by PID if it lingers.
//
// Hashes and keys are lowercase hex (info-hash, target, public key, Ed25519 seed); values and
// salts are bytes (a value is the bencoded BEP 44 `v`). What the binding cannot do, and what is
// measured per command, is described at the top of lt_dht.py.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "subprocess.hpp"

namespace hyphae::test {

// What lt_dht.py measured for one command, from reading the command to the answer.
struct lt_dht_stats {
    std::chrono::milliseconds elapsed{-1};
    std::chrono::milliseconds first_result{-1};  // to the first peer or value; -1: none
    int queries_sent = 0;                        // DHT queries this node sent that carry the key
    int replies = 0;                             // answers to those queries
};

struct lt_dht_announced {
    std::uint16_t port = 0;  // the port libtorrent announced: always its own
    int nodes = 0;           // nodes it sent announce_peer to
    lt_dht_stats stats;
};

struct lt_dht_peers {
    std::vector<std::string> peers;  // "127.0.0.1:6881", in the order found
    bool complete = false;           // libtorrent's lookup ended (else the deadline came first)
    lt_dht_stats stats;
};

struct lt_dht_stored {
    std::string key_hex;  // the target (immutable) or the public key (mutable)
    std::int64_t seq = 0;
    int successes = 0;  // nodes that took the put
    lt_dht_stats stats;
};

struct lt_dht_item {
    std::string value;  // bencoded `v`, as stored
    std::int64_t seq = 0;
    bool authoritative = true;  // mutable: every node near the target answered
    lt_dht_stats stats;
};

class lt_dht_node {
public:
    struct options {
        std::uint16_t port = 0;              // 0: any free port
        std::vector<std::string> bootstrap;  // "127.0.0.1:PORT": pinged and kept in the routing table
        bool explicit_port = false;          // announce port=P without implied_port (uTP off)
        std::string script;                  // empty: tests/interop/lt_dht.py of this tree
    };

    // Whether /usr/bin/python3 imports libtorrent; if not, why. Checked once. A test that needs it
    // fails with the reason, as the BitTorrent interop tests do: a missing client is a broken
    // setup, never a pass.
    static bool available();
    static std::string unavailable_reason();

    explicit lt_dht_node(const options& opts);
    lt_dht_node() : lt_dht_node(options{}) {}
    ~lt_dht_node();
    lt_dht_node(const lt_dht_node&) = delete;
    lt_dht_node& operator=(const lt_dht_node&) = delete;

    std::uint16_t port() const { return port_; }  // its DHT UDP port, also its TCP port
    std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
    const std::string& node_id_hex() const { return node_id_hex_; }

    // Pings `endpoint` ("HOST:PORT") and keeps it in the routing table once it answers.
    bool add_node(const std::string& endpoint);
    // Nodes in its routing table's live buckets (answered at least once), or empty on no answer.
    std::optional<int> node_count(std::chrono::milliseconds deadline = std::chrono::seconds(5));

    // Announces port() for the info-hash; empty unless announce_peer went out.
    std::optional<lt_dht_announced> announce(const std::string& info_hash_hex,
                                             std::chrono::milliseconds deadline = std::chrono::seconds(30));
    // Looks up peers; answers with what it found by the deadline, complete or not.
    std::optional<lt_dht_peers> get_peers(const std::string& info_hash_hex,
                                          std::chrono::milliseconds deadline = std::chrono::seconds(30));
    // Waits for another node's announce_peer for the info-hash to reach this one; its "HOST:PORT".
    std::optional<std::string> wait_incoming_announce(const std::string& info_hash_hex,
                                                      std::chrono::milliseconds deadline);

    std::optional<lt_dht_stored> put_immutable(const std::string& bencoded_value,
                                               std::chrono::milliseconds deadline = std::chrono::seconds(30));
    // Empty when not found, on deadline or on error: last_answer() tells which.
    std::optional<lt_dht_item> get_immutable(const std::string& target_hex,
                                             std::chrono::milliseconds deadline = std::chrono::seconds(30));
    // libtorrent's binding stores byte strings only, and picks seq itself: one above the highest
    // it finds. `bencoded_value` must be a bencoded string.
    std::optional<lt_dht_stored> put_mutable(const std::string& seed_hex, const std::string& salt,
                                             const std::string& bencoded_value,
                                             std::chrono::milliseconds deadline = std::chrono::seconds(30));
    std::optional<lt_dht_item> get_mutable(const std::string& public_key_hex, const std::string& salt,
                                           std::chrono::milliseconds deadline = std::chrono::seconds(30));

    // The last answer line, tag removed ("not_found ...", "timeout ...", "error ..."), for messages.
    const std::string& last_answer() const { return last_answer_; }
    // The driver's output so far (tail), for failure messages.
    std::string output() const { return process_->output(); }
    background_process& process() { return *process_; }

private:
    // Sends "TAG command", waits for "TAG ...", returns the words after the tag; empty on no answer.
    std::vector<std::string> call(const std::string& command, std::chrono::milliseconds deadline);

    std::unique_ptr<background_process> process_;
    std::uint16_t port_ = 0;
    std::string node_id_hex_;
    std::uint64_t next_tag_ = 1;
    std::string last_answer_;
};

// `count` libtorrent nodes that know each other: each is started with the earlier ones to
// bootstrap from, told of every other one, and waited for until every routing table holds all
// the others. Throws on the deadline.
std::vector<std::unique_ptr<lt_dht_node>> start_lt_dht_mesh(std::size_t count,
                                                            std::chrono::milliseconds deadline);

}  // namespace hyphae::test
