#pragma once
// Which file names from a torrent may touch the disk. A torrent is untrusted input: a path must
// never leave the download folder or name something the file system cannot hold.

#include <optional>
#include <string>
#include <string_view>

namespace hyphae::bittorrent {

// Why `component` is not a safe single path component (empty, ".", "..", contains '/' or NUL,
// longer than 255 bytes), or empty if it is safe.
std::optional<std::string> unsafe_path_component(std::string_view component);

}  // namespace hyphae::bittorrent
