#pragma once
// A single-file torrent over pseudo-random bytes, for tests: its metainfo and its content.

#include <cstdint>
#include <string>
#include <vector>

#include "temp_dir.hpp"

#include "hyphae/core/sha.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"
#include "hyphae/proto/bittorrent/torrent_builder.hpp"

namespace hyphae::test {

struct test_content {
    bittorrent::metainfo meta;
    std::string bytes;
};

inline test_content make_test_content(std::size_t size, std::int64_t piece_length, std::uint64_t seed) {
    test_content c;
    c.bytes = pseudo_random_bytes(size, seed);
    bittorrent::torrent_spec spec;
    spec.name = "content-" + std::to_string(seed);
    spec.piece_length = piece_length;
    spec.files = {{"", static_cast<std::int64_t>(size)}};
    const auto layout = bittorrent::validate(spec);
    std::vector<sha1_hash> pieces;
    for (bittorrent::piece_index p = 0; p < layout->piece_count(); ++p) {
        pieces.push_back(sha1(as_bytes(std::string_view(c.bytes).substr(
            static_cast<std::size_t>(p) * static_cast<std::size_t>(piece_length),
            static_cast<std::size_t>(layout->piece_size(p))))));
    }
    const std::string file = encode_torrent_file(spec, encode_info_dictionary(spec, pieces));
    c.meta = *bittorrent::parse_metainfo(as_bytes(file));
    return c;
}

}  // namespace hyphae::test
