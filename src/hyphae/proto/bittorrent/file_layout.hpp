#pragma once
// How a torrent's files sit in its byte stream, and how pieces map onto them: a piece may span
// several files, and files may be empty. Pure arithmetic, shared by creation, storage and checks.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "hyphae/core/error.hpp"

namespace hyphae::bittorrent {

using piece_index = std::uint32_t;

// Peers exchange pieces in blocks of 16 KiB (BEP 3); the last block of a piece may be shorter.
inline constexpr std::uint32_t block_size = 16 * 1024;

struct file_slice {
    std::size_t file;     // index into the layout's files
    std::int64_t offset;  // within that file
    std::int64_t length;

    friend bool operator==(const file_slice&, const file_slice&) = default;
};

class file_layout {
public:
    // Errors on a non-positive piece length, a negative size, an overflowing total, or more than
    // 2^31 pieces.
    static result<file_layout> create(std::vector<std::int64_t> file_sizes, std::int64_t piece_length);

    std::int64_t total_size() const { return total_size_; }
    std::int64_t piece_length() const { return piece_length_; }
    piece_index piece_count() const { return piece_count_; }
    std::int64_t piece_size(piece_index piece) const;

    std::size_t file_count() const { return sizes_.size(); }
    std::int64_t file_size(std::size_t file) const { return sizes_[file]; }
    std::int64_t file_offset(std::size_t file) const { return offsets_[file]; }

    // Visits, in order, the non-empty file slices covering [offset, offset + length) of the byte
    // stream; the range must lie within total_size().
    template <class Visit>
    void for_each_slice(std::int64_t offset, std::int64_t length, Visit&& visit) const {
        std::size_t file = first_file_at(offset);
        while (length > 0) {
            const std::int64_t in_file = offset - offsets_[file];
            const std::int64_t take = std::min(length, sizes_[file] - in_file);
            if (take > 0) {
                visit(file_slice{file, in_file, take});
                offset += take;
                length -= take;
            }
            ++file;
        }
    }

    std::vector<file_slice> map_range(std::int64_t offset, std::int64_t length) const;
    std::vector<file_slice> map_piece(piece_index piece) const;

private:
    std::size_t first_file_at(std::int64_t offset) const;  // the file holding byte `offset`

    std::vector<std::int64_t> sizes_;
    std::vector<std::int64_t> offsets_;
    std::int64_t total_size_ = 0;
    std::int64_t piece_length_ = 0;
    piece_index piece_count_ = 0;
};

}  // namespace hyphae::bittorrent
