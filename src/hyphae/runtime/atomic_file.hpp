#pragma once
// Writes a whole file so that a crash leaves either the old file or the new one, never a torn
// one: write to a temporary file beside it, fsync, rename over, fsync the folder.

#include <string>
#include <string_view>

#include "hyphae/core/error.hpp"

namespace hyphae {

enum class overwrite { allow, refuse };

result<void> write_file_atomically(const std::string& path, std::string_view contents, overwrite mode);

result<std::string> read_whole_file(const std::string& path, std::size_t size_max);

}  // namespace hyphae
