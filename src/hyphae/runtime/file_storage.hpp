#pragma once
// A torrent's files on disk under a save folder: block reads and writes with pread/pwrite (never
// mmap: resident memory must not grow with what is seeded), piece hashing, sparse allocation.
// Thread-safe: the disk pool calls it from several threads at once.
//
// Paths come from the torrent (already checked by metainfo); files are still opened for writing
// beneath the save folder only (openat2 RESOLVE_BENEATH where the kernel has it), so a symbolic
// link planted inside the folder cannot redirect a write elsewhere. Reads follow links.

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "hyphae/core/error.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/proto/bittorrent/file_layout.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"
#include "hyphae/runtime/block_storage.hpp"

namespace hyphae {

struct storage_config {
    std::size_t open_files_max = 128;
};

class file_storage final : public block_storage {
public:
    // `create`: make missing folders and files (sparse, at their full size; empty files too).
    static result<std::unique_ptr<file_storage>> open(const bittorrent::metainfo& meta,
                                                      const std::string& save_folder, bool create,
                                                      storage_config config = {});
    ~file_storage() override;
    file_storage(const file_storage&) = delete;
    file_storage& operator=(const file_storage&) = delete;

    result<void> write(bittorrent::piece_index piece, std::uint32_t begin, byte_view data) override;
    result<std::vector<std::uint8_t>> read(bittorrent::piece_index piece, std::uint32_t begin,
                                           std::uint32_t length) override;
    // Blocks written in order from a piece's start are hashed as they are written, from memory;
    // hash_piece() then reads back only what came out of order, if anything.
    result<sha1_hash> hash_piece(bittorrent::piece_index piece) override;
    // fsync every file written since the last sync (before resume data claims pieces are on disk).
    result<void> sync() override;

    const std::string& save_folder() const { return folder_; }
    std::string path_of(std::size_t file) const { return folder_ + "/" + meta_.files[file].path; }

private:
    struct handle;
    struct piece_progress {
        std::mutex mutex;
        sha1_hasher hasher;
        std::uint32_t hashed = 0;  // bytes from the piece's start fed to `hasher`
    };
    std::shared_ptr<piece_progress> progress_of(bittorrent::piece_index piece, bool create);
    void hash_in_order(bittorrent::piece_index piece, std::uint32_t begin, byte_view data);
    file_storage(const bittorrent::metainfo& meta, std::string folder, int folder_fd, storage_config config);
    result<std::shared_ptr<handle>> file(std::size_t index, bool for_write);

    bittorrent::metainfo meta_;
    bittorrent::file_layout layout_;
    std::string folder_;
    int folder_fd_;
    storage_config config_;
    std::mutex mutex_;
    std::unordered_map<std::size_t, std::shared_ptr<handle>> open_;
    std::list<std::size_t> recent_;  // least recently used first
    std::vector<bool> dirty_;
    std::unordered_map<bittorrent::piece_index, std::shared_ptr<piece_progress>>
        progress_;  // pieces being written
};

}  // namespace hyphae
