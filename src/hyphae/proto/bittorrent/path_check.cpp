#include "hyphae/proto/bittorrent/path_check.hpp"

namespace hyphae::bittorrent {

std::optional<std::string> unsafe_path_component(std::string_view component) {
    if (component.empty()) {
        return "empty path component";
    }
    if (component == "." || component == "..") {
        return "path component '" + std::string(component) + "' is not allowed";
    }
    if (component.find('/') != std::string_view::npos) {
        return "path component '" + std::string(component) + "' contains '/'";
    }
    if (component.find('\0') != std::string_view::npos) {
        return "path component contains a NUL byte";
    }
    if (component.size() > 255) {
        return "path component longer than 255 bytes";
    }
    return std::nullopt;
}

}  // namespace hyphae::bittorrent
