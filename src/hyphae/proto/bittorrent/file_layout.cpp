#include "hyphae/proto/bittorrent/file_layout.hpp"

#include <algorithm>
#include <limits>

namespace hyphae::bittorrent {

result<file_layout> file_layout::create(std::vector<std::int64_t> file_sizes, std::int64_t piece_length) {
    if (piece_length <= 0) {
        return fail(errc::invalid_input, "file layout", "piece length must be positive");
    }
    file_layout layout;
    layout.offsets_.reserve(file_sizes.size());
    std::int64_t total = 0;
    for (std::size_t i = 0; i < file_sizes.size(); ++i) {
        if (file_sizes[i] < 0) {
            return fail(errc::invalid_input, "file layout",
                        "file " + std::to_string(i) + " has a negative size");
        }
        layout.offsets_.push_back(total);
        if (file_sizes[i] > std::numeric_limits<std::int64_t>::max() - total) {
            return fail(errc::invalid_input, "file layout", "total size overflows 64 bits");
        }
        total += file_sizes[i];
    }
    const std::int64_t pieces = total / piece_length + (total % piece_length != 0 ? 1 : 0);
    if (pieces > std::int64_t{1} << 31) {
        return fail(errc::limit_exceeded, "file layout", "more than 2^31 pieces");
    }
    layout.sizes_ = std::move(file_sizes);
    layout.total_size_ = total;
    layout.piece_length_ = piece_length;
    layout.piece_count_ = static_cast<piece_index>(pieces);
    return layout;
}

std::int64_t file_layout::piece_size(piece_index piece) const {
    const std::int64_t start = static_cast<std::int64_t>(piece) * piece_length_;
    return std::min(piece_length_, total_size_ - start);
}

std::size_t file_layout::first_file_at(std::int64_t offset) const {
    // The last file starting at or before `offset`: never an empty one, as the file after an
    // empty file starts at the same offset.
    auto it = std::upper_bound(offsets_.begin(), offsets_.end(), offset);
    return static_cast<std::size_t>(it - offsets_.begin()) - 1;
}

std::vector<file_slice> file_layout::map_range(std::int64_t offset, std::int64_t length) const {
    std::vector<file_slice> slices;
    for_each_slice(offset, length, [&](const file_slice& s) { slices.push_back(s); });
    return slices;
}

std::vector<file_slice> file_layout::map_piece(piece_index piece) const {
    return map_range(static_cast<std::int64_t>(piece) * piece_length_, piece_size(piece));
}

}  // namespace hyphae::bittorrent
