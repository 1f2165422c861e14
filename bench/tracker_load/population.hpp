#pragma once
// The benchmark's population of swarms and peers, a pure function of (seed, swarms, peers), so
// that the hash list written for the trackers' whitelists and every later run agree.
//
// Swarm j's info-hash is the SHA-1 of "hyphae tracker bench <seed> <j>". Peer i belongs to swarm
// i % swarms and announces port 1024 + i / swarms, distinct within its swarm, because every
// peer comes from 127.0.0.1 and trackers key a swarm's peers by address and port. Its peer id is
// "-HB0100-" and i in 12 decimal digits (no byte needs URL escaping). About a third of the peers
// are seeders (left = 0), chosen by a hash of (seed, i) so that no swarm is all seeders.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hyphae::bench {

using info_hash_bytes = std::array<std::uint8_t, 20>;
using peer_id_bytes = std::array<char, 20>;

class population {
public:
    // Throws std::invalid_argument unless 0 < swarms <= peers and every port fits in 16 bits.
    population(std::uint64_t seed, std::uint32_t swarms, std::uint32_t peers);

    std::uint64_t seed() const { return seed_; }
    std::uint32_t swarms() const { return swarms_; }
    std::uint32_t peers() const { return peers_; }

    std::uint32_t swarm_of(std::uint32_t peer) const { return peer % swarms_; }
    const info_hash_bytes& info_hash(std::uint32_t swarm) const { return info_hashes_[swarm]; }
    // info_hash(swarm) with every byte as %XX: 60 characters, for HTTP query strings.
    std::string_view info_hash_escaped(std::uint32_t swarm) const;
    std::uint16_t port_of(std::uint32_t peer) const;
    bool is_seeder(std::uint32_t peer) const;
    std::uint64_t left_of(std::uint32_t peer) const { return is_seeder(peer) ? 0 : left_leecher; }
    static peer_id_bytes peer_id(std::uint64_t peer);

    // Hex info-hashes, one a line, in swarm order.
    std::string hash_list() const;

    static constexpr std::uint64_t left_leecher = 1ULL << 30;
    static constexpr std::uint32_t first_port = 1024;

private:
    std::uint64_t seed_;
    std::uint32_t swarms_;
    std::uint32_t peers_;
    std::vector<info_hash_bytes> info_hashes_;
    std::string escaped_;  // 60 characters per swarm
};

}  // namespace hyphae::bench
