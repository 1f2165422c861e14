#include "hyphae/runtime/atomic_file.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hyphae {
namespace {

tl::unexpected<error> os_error(const std::string& path, const std::string& action) {
    return fail(errc::io, path, action + ": " + std::strerror(errno));
}

std::string parent_folder(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    if (slash == std::string::npos) {
        return ".";
    }
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

result<void> write_file_atomically(const std::string& path, std::string_view contents, overwrite mode) {
    const std::string folder = parent_folder(path);
    std::string temp = path + ".tmp.XXXXXX";
    const int fd = mkostemp(temp.data(), O_CLOEXEC);
    if (fd < 0) {
        return os_error(temp, "cannot create temporary file");
    }
    auto abandon = [&](const std::string& action) {
        auto e = os_error(path, action);
        ::close(fd);
        ::unlink(temp.c_str());
        return e;
    };
    fchmod(fd, 0644);
    std::size_t written = 0;
    while (written < contents.size()) {
        const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return abandon("cannot write");
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        return abandon("cannot fsync");
    }
    if (::close(fd) != 0) {
        ::unlink(temp.c_str());
        return os_error(path, "cannot close");
    }
    const unsigned flags = mode == overwrite::refuse ? RENAME_NOREPLACE : 0;
    if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, path.c_str(), flags) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        errno = err;
        if (err == EEXIST) {
            return fail(errc::io, path, "already exists");
        }
        return os_error(path, "cannot rename into place");
    }
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    return {};
}

result<std::string> read_whole_file(const std::string& path, std::size_t size_max) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return os_error(path, "cannot open");
    }
    std::string out;
    char buffer[64 * 1024];
    while (true) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            auto e = os_error(path, "cannot read");
            ::close(fd);
            return e;
        }
        if (n == 0) {
            break;
        }
        if (out.size() + static_cast<std::size_t>(n) > size_max) {
            ::close(fd);
            return fail(errc::limit_exceeded, path, "larger than " + std::to_string(size_max) + " bytes");
        }
        out.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

}  // namespace hyphae
