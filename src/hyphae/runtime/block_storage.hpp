#pragma once
// Where a service's disk jobs run: a storage the runtime holds under (service, storage id), read
// and written in blocks of numbered pieces (a torrent's files, later a shared folder's). Called
// from the disk threads, several at once: implementations are thread-safe.

#include <cstdint>
#include <vector>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/error.hpp"
#include "hyphae/core/sha.hpp"

namespace hyphae {

class block_storage {
public:
    virtual ~block_storage() = default;
    virtual result<void> write(std::uint32_t piece, std::uint32_t begin, byte_view data) = 0;
    virtual result<std::vector<std::uint8_t>> read(std::uint32_t piece, std::uint32_t begin,
                                                   std::uint32_t length) = 0;
    virtual result<sha1_hash> hash_piece(std::uint32_t piece) = 0;
    // Everything written so far is durable once this returns.
    virtual result<void> sync() = 0;
};

}  // namespace hyphae
