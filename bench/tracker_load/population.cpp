#include "population.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "hyphae/core/encoding.hpp"
#include "hyphae/core/sha.hpp"

namespace hyphae::bench {

namespace {

constexpr std::size_t escaped_size = 60;

std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace

population::population(std::uint64_t seed, std::uint32_t swarms, std::uint32_t peers)
    : seed_{seed}, swarms_{swarms}, peers_{peers} {
    if (swarms == 0 || peers < swarms) {
        throw std::invalid_argument{"need 0 < swarms <= peers"};
    }
    if (first_port + (peers - 1) / swarms > 65535) {
        throw std::invalid_argument{
            fmt::format("{} peers in {} swarms: more than {} peers in a swarm do not get distinct ports",
                        peers, swarms, 65536 - first_port)};
    }
    static constexpr char digits[] = "0123456789ABCDEF";
    info_hashes_.reserve(swarms);
    escaped_.reserve(std::size_t{swarms} * escaped_size);
    for (std::uint32_t j = 0; j < swarms; ++j) {
        const std::string name = fmt::format("hyphae tracker bench {} {}", seed, j);
        info_hashes_.push_back(sha1(as_bytes(name)).bytes);
        for (std::uint8_t b : info_hashes_.back()) {
            escaped_ += '%';
            escaped_ += digits[b >> 4];
            escaped_ += digits[b & 15];
        }
    }
}

std::string_view population::info_hash_escaped(std::uint32_t swarm) const {
    return std::string_view{escaped_}.substr(std::size_t{swarm} * escaped_size, escaped_size);
}

std::uint16_t population::port_of(std::uint32_t peer) const {
    return static_cast<std::uint16_t>(first_port + peer / swarms_);
}

bool population::is_seeder(std::uint32_t peer) const {
    return mix64(seed_ * 0x9e3779b97f4a7c15ULL + peer) % 3 == 0;
}

peer_id_bytes population::peer_id(std::uint64_t peer) {
    peer_id_bytes id{'-', 'H', 'B', '0', '1', '0', '0', '-'};
    for (std::size_t k = id.size(); k-- > 8;) {
        id[k] = static_cast<char>('0' + peer % 10);
        peer /= 10;
    }
    return id;
}

std::string population::hash_list() const {
    std::string out;
    out.reserve(info_hashes_.size() * 41);
    for (const info_hash_bytes& h : info_hashes_) {
        out += to_hex(byte_view{h.data(), h.size()});
        out += '\n';
    }
    return out;
}

}  // namespace hyphae::bench
