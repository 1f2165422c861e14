#include "hyphae/runtime/file_storage.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace hyphae {
using namespace hyphae::bittorrent;

struct file_storage::handle {
    int fd = -1;
    bool writable = false;
    ~handle() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

namespace {

tl::unexpected<error> os_error(const std::string& path, const std::string& action) {
    return fail(errc::io, path, action + ": " + std::strerror(errno));
}

// Writes are confined beneath `dir` (openat2 RESOLVE_BENEATH, Linux 5.6+; else the last component
// must not be a symbolic link). Reads follow links, so content can be seeded from linked folders.
int open_beneath(int dir, const std::string& relative, int flags, mode_t mode) {
    if ((flags & O_ACCMODE) == O_RDONLY) {
        return ::openat(dir, relative.c_str(), flags | O_CLOEXEC);
    }
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) != 0 ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const long fd = syscall(SYS_openat2, dir, relative.c_str(), &how, sizeof how);
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) {
        return static_cast<int>(fd);
    }
    return ::openat(dir, relative.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, mode);
}

result<void> make_folders(int dir, const std::string& relative_file, const std::string& shown) {
    std::size_t slash = relative_file.find('/');
    while (slash != std::string::npos) {
        const std::string folder = relative_file.substr(0, slash);
        if (::mkdirat(dir, folder.c_str(), 0755) != 0 && errno != EEXIST) {
            return os_error(shown + "/" + folder, "cannot create folder");
        }
        slash = relative_file.find('/', slash + 1);
    }
    return {};
}

}  // namespace

file_storage::file_storage(const metainfo& meta, std::string folder, int folder_fd, storage_config config)
    : meta_(meta),
      layout_(meta.layout()),
      folder_(std::move(folder)),
      folder_fd_(folder_fd),
      config_(config),
      dirty_(meta.files.size(), false) {}

file_storage::~file_storage() {
    open_.clear();
    ::close(folder_fd_);
}

result<std::unique_ptr<file_storage>> file_storage::open(const metainfo& meta, const std::string& save_folder,
                                                         bool create, storage_config config) {
    if (create && ::mkdir(save_folder.c_str(), 0755) != 0 && errno != EEXIST) {
        return os_error(save_folder, "cannot create folder");
    }
    const int dir = ::open(save_folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        return os_error(save_folder, "cannot open folder");
    }
    std::unique_ptr<file_storage> s(new file_storage(meta, save_folder, dir, config));
    if (create) {
        for (std::size_t i = 0; i < meta.files.size(); ++i) {
            const file_entry& f = meta.files[i];
            if (f.pad) {
                continue;
            }
            if (auto made = make_folders(dir, f.path, save_folder); !made) {
                return tl::unexpected(made.error());
            }
            const int fd = open_beneath(dir, f.path, O_RDWR | O_CREAT, 0644);
            if (fd < 0) {
                return os_error(s->path_of(i), "cannot create");
            }
            struct stat st {};
            const bool grow = ::fstat(fd, &st) == 0 && st.st_size < f.size;
            // Sparse: the size is set, the blocks are allocated as pieces arrive.
            const int rc = grow ? ::ftruncate(fd, f.size) : 0;
            const int err = errno;
            ::close(fd);
            if (rc != 0) {
                errno = err;
                return os_error(s->path_of(i), "cannot set size");
            }
        }
    }
    return s;
}

result<std::shared_ptr<file_storage::handle>> file_storage::file(std::size_t index, bool for_write) {
    std::lock_guard lock(mutex_);
    if (auto it = open_.find(index); it != open_.end() && (it->second->writable || !for_write)) {
        recent_.remove(index);
        recent_.push_back(index);
        return it->second;
    }
    auto h = std::make_shared<handle>();
    h->fd = open_beneath(folder_fd_, meta_.files[index].path, for_write ? O_RDWR : O_RDONLY, 0644);
    if (h->fd < 0) {
        return os_error(path_of(index), "cannot open");
    }
    h->writable = for_write;
    open_[index] = h;
    recent_.remove(index);
    recent_.push_back(index);
    while (open_.size() > config_.open_files_max && !recent_.empty()) {
        // In-flight operations keep their own reference: closing waits for them.
        open_.erase(recent_.front());
        recent_.pop_front();
    }
    return h;
}

std::shared_ptr<file_storage::piece_progress> file_storage::progress_of(piece_index piece, bool create) {
    std::lock_guard lock(mutex_);
    auto it = progress_.find(piece);
    if (it != progress_.end()) {
        return it->second;
    }
    if (!create) {
        return nullptr;
    }
    return progress_.emplace(piece, std::make_shared<piece_progress>()).first->second;
}

void file_storage::hash_in_order(piece_index piece, std::uint32_t begin, byte_view data) {
    auto progress = progress_of(piece, begin == 0);
    if (!progress) {
        return;
    }
    std::lock_guard lock(progress->mutex);
    if (progress->hashed == begin) {
        progress->hasher.update(data);
        progress->hashed += static_cast<std::uint32_t>(data.size());
    }
}

result<void> file_storage::write(piece_index piece, std::uint32_t begin, byte_view data) {
    const std::int64_t offset = static_cast<std::int64_t>(piece) * meta_.piece_length + begin;
    result<void> outcome;
    layout_.for_each_slice(offset, static_cast<std::int64_t>(data.size()), [&](const file_slice& s) {
        if (!outcome || meta_.files[s.file].pad) {
            return;
        }
        auto h = file(s.file, true);
        if (!h) {
            outcome = tl::unexpected(h.error());
            return;
        }
        const std::uint8_t* src = data.data() + (layout_.file_offset(s.file) + s.offset - offset);
        std::int64_t done = 0;
        while (done < s.length) {
            const ssize_t n =
                ::pwrite((*h)->fd, src + done, static_cast<std::size_t>(s.length - done), s.offset + done);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                outcome = os_error(path_of(s.file), "cannot write");
                return;
            }
            done += n;
        }
        std::lock_guard lock(mutex_);
        dirty_[s.file] = true;
    });
    if (outcome) {
        hash_in_order(piece, begin, data);
    }
    return outcome;
}

result<std::vector<std::uint8_t>> file_storage::read(piece_index piece, std::uint32_t begin,
                                                     std::uint32_t length) {
    const std::int64_t offset = static_cast<std::int64_t>(piece) * meta_.piece_length + begin;
    std::vector<std::uint8_t> out(length, 0);
    result<void> outcome;
    layout_.for_each_slice(offset, length, [&](const file_slice& s) {
        if (!outcome || meta_.files[s.file].pad) {
            return;  // pad files read as zeros
        }
        auto h = file(s.file, false);
        if (!h) {
            outcome = tl::unexpected(h.error());
            return;
        }
        std::uint8_t* dst = out.data() + (layout_.file_offset(s.file) + s.offset - offset);
        std::int64_t done = 0;
        while (done < s.length) {
            const ssize_t n =
                ::pread((*h)->fd, dst + done, static_cast<std::size_t>(s.length - done), s.offset + done);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                outcome = os_error(path_of(s.file), "cannot read");
                return;
            }
            if (n == 0) {
                outcome = fail(errc::io, path_of(s.file), "shorter than the torrent says");
                return;
            }
            done += n;
        }
    });
    if (!outcome) {
        return tl::unexpected(outcome.error());
    }
    return out;
}

result<sha1_hash> file_storage::hash_piece(piece_index piece) {
    const auto size = static_cast<std::uint32_t>(meta_.piece_size(piece));
    std::shared_ptr<piece_progress> progress;
    {
        std::lock_guard lock(mutex_);
        if (auto it = progress_.find(piece); it != progress_.end()) {
            progress = std::move(it->second);
            progress_.erase(it);  // a piece that fails starts again from its first block
        }
    }
    if (!progress) {
        auto bytes = read(piece, 0, size);
        if (!bytes) {
            return tl::unexpected(bytes.error());
        }
        return sha1(*bytes);
    }
    std::lock_guard lock(progress->mutex);
    if (progress->hashed < size) {
        auto rest = read(piece, progress->hashed, size - progress->hashed);
        if (!rest) {
            return tl::unexpected(rest.error());
        }
        progress->hasher.update(*rest);
    }
    return progress->hasher.finish();
}

result<void> file_storage::sync() {
    std::vector<std::size_t> files;
    {
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < dirty_.size(); ++i) {
            if (dirty_[i]) {
                files.push_back(i);
                dirty_[i] = false;
            }
        }
    }
    for (std::size_t i : files) {
        auto h = file(i, true);
        if (!h) {
            return tl::unexpected(h.error());
        }
        if (::fdatasync((*h)->fd) != 0) {
            return os_error(path_of(i), "cannot sync");
        }
    }
    return {};
}

}  // namespace hyphae
