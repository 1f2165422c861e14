#pragma once
// The error carried by every tl::expected result at a module edge: which module and where in the
// input (`where`), and what is wrong (`what`), so a message can be shown to a user unchanged.

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace hyphae {

enum class errc {
    invalid_input,   // malformed bytes or text from outside
    unsupported,     // well-formed, but a feature we do not implement
    limit_exceeded,  // a configured bound was hit
    io,              // the operating system refused (runtime layer only)
    invalid_argument,
};

struct error {
    errc code = errc::invalid_input;
    std::string where;  // e.g. "torrent file: info.files[2].path", "magnet link: xt"
    std::string what;   // e.g. "path component '..' is not allowed"

    std::string message() const { return where.empty() ? what : where + ": " + what; }
};

template <class T>
using result = tl::expected<T, error>;

inline tl::unexpected<error> fail(errc code, std::string where, std::string what) {
    return tl::unexpected<error>(error{code, std::move(where), std::move(what)});
}

}  // namespace hyphae
