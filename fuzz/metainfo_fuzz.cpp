// Fuzz target: .torrent parsing. A parsed torrent must be internally consistent: files tile the
// byte stream, pieces cover it, and every piece maps onto files.

#include <cstdint>
#include <cstdlib>

#include "fuzz_target.hpp"

#include "hyphae/proto/bittorrent/metainfo.hpp"

using namespace hyphae::bittorrent;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hyphae;
    const byte_view input(data, size);
    for (auto m : {parse_metainfo(input), parse_info_dictionary(input)}) {
        if (!m) {
            if (m.error().message().empty()) {
                std::abort();
            }
            continue;
        }
        std::int64_t offset = 0;
        for (const file_entry& f : m->files) {
            if (f.offset != offset || f.size < 0 || f.path.empty()) {
                std::abort();
            }
            offset += f.size;
        }
        if (offset != m->total_size || m->total_size <= 0 || m->piece_hashes.size() % 20 != 0) {
            std::abort();
        }
        const file_layout layout = m->layout();
        if (layout.piece_count() != m->piece_count()) {
            std::abort();
        }
        std::int64_t covered = 0;
        for (piece_index p = 0; p < m->piece_count() && p < 64; ++p) {
            for (const file_slice& s : layout.map_piece(p)) {
                if (s.length <= 0 || s.offset < 0 || s.offset + s.length > m->files[s.file].size) {
                    std::abort();
                }
                covered += s.length;
            }
        }
        (void)covered;
    }
    return 0;
}
