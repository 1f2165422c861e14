#include "hyphae/runtime/torrent_file.hpp"

#include "hyphae/runtime/atomic_file.hpp"

namespace hyphae {
using namespace hyphae::bittorrent;

result<metainfo> load_torrent_file(const std::string& path) {
    auto bytes = read_whole_file(path, torrent_file_size_max);
    if (!bytes) {
        return tl::unexpected(bytes.error());
    }
    auto m = parse_metainfo(as_bytes(*bytes));
    if (!m) {
        error e = m.error();
        if (e.where.rfind("torrent file", 0) == 0) {
            e.where.replace(0, 12, path);
        }
        return tl::unexpected(e);
    }
    return m;
}

}  // namespace hyphae
