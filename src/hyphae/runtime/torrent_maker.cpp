#include "hyphae/runtime/torrent_maker.hpp"

namespace hyphae {
using namespace hyphae::bittorrent;

result<made_torrent> make_torrent(const content_tree& content, const make_options& options,
                                  hash_progress& progress) {
    torrent_spec spec;
    spec.name = content.name;
    spec.multi_file = content.multi_file;
    spec.files = content.files;
    spec.piece_length =
        options.piece_length != 0 ? options.piece_length : choose_piece_length(content.total_size);
    spec.trackers = options.trackers;
    spec.web_seeds = options.web_seeds;
    spec.is_private = options.is_private;
    spec.comment = options.comment;
    spec.created_by = options.created_by;
    spec.creation_date = options.creation_date;

    auto layout = validate(spec);
    if (!layout) {
        return tl::unexpected(layout.error());
    }
    std::vector<std::string> paths;
    paths.reserve(content.files.size());
    for (const source_file& f : content.files) {
        paths.push_back(content.absolute_path(f));
    }
    auto hashes = hash_pieces(paths, *layout, progress, hash_options{options.threads});
    if (!hashes) {
        return tl::unexpected(hashes.error());
    }
    const std::string info = encode_info_dictionary(spec, *hashes);
    made_torrent made;
    made.info_hash = sha1(as_bytes(info));
    made.file = encode_torrent_file(spec, info);
    made.piece_length = spec.piece_length;
    made.piece_count = layout->piece_count();
    return made;
}

}  // namespace hyphae
