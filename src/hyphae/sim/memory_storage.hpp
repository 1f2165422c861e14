#pragma once
// Torrent storage for simulated peers, in memory and shared: the content exists once (a seeded
// pseudo-random file and its torrent), cut into 16 KiB blocks; each peer keeps only which blocks
// it has and whether what it was sent matched. Reads of a whole block hand out the shared block
// (no copy), so ten thousand peers of a 64 MiB torrent cost one copy of it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hyphae/core/io.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"

namespace hyphae::sim {

class shared_content {
public:
    static constexpr std::uint32_t block_size = 16 * 1024;

    // `size` pseudo-random bytes from `seed`, as a single-file torrent named `name`.
    static std::shared_ptr<const shared_content> make(std::string name, std::uint64_t size,
                                                      std::int64_t piece_length, std::uint64_t seed);

    const bittorrent::metainfo& meta() const { return meta_; }
    std::uint64_t size() const { return size_; }
    std::size_t block_count() const { return blocks_.size(); }
    // The block at `offset` (a multiple of block_size).
    const shared_bytes& block(std::uint64_t offset) const { return blocks_[offset / block_size]; }
    // [offset, offset + length): the shared block when it is exactly one, else a copy.
    shared_bytes read(std::uint64_t offset, std::uint32_t length) const;
    bool matches(std::uint64_t offset, byte_view bytes) const;
    // The whole content (tests compare with it).
    std::string bytes() const;

private:
    bittorrent::metainfo meta_;
    std::uint64_t size_ = 0;
    std::vector<shared_bytes> blocks_;
};

// One peer's copy of a shared content: what it holds, as block states.
class memory_storage {
public:
    memory_storage(std::shared_ptr<const shared_content> content, bool complete);

    disk_result run(const disk_job& job);

    bool complete() const { return good_blocks_ == states_.size(); }
    std::uint64_t bad_writes() const { return bad_writes_; }
    const shared_content& content() const { return *content_; }

    // A bad seeder: reads of this piece, or of everything, come back wrong.
    std::optional<std::uint32_t> corrupt_piece;
    bool corrupt_all = false;

private:
    enum class state : std::uint8_t { missing, good, bad };

    std::shared_ptr<const shared_content> content_;
    std::vector<state> states_;  // per block
    std::size_t good_blocks_ = 0;
    std::uint64_t bad_writes_ = 0;
};

}  // namespace hyphae::sim
