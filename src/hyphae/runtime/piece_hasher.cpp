#include "hyphae/runtime/piece_hasher.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hyphae {
using namespace hyphae::bittorrent;
namespace {

// Pieces are claimed in runs of about this many bytes: large enough that workers rarely meet,
// small enough that both cores finish together.
constexpr std::int64_t run_bytes = 16 << 20;
// Slices this large are hashed straight from a read-only mapping of the page cache: a read()
// would copy every byte once more, and copying costs a sixth of what SHA-1 does.
constexpr std::int64_t map_threshold = 1 << 20;
constexpr std::size_t read_buffer_size = 256 << 10;

class file_handle {
public:
    file_handle() = default;
    file_handle(const file_handle&) = delete;
    file_handle& operator=(const file_handle&) = delete;
    ~file_handle() { close(); }

    result<void> open(const std::string& path, std::int64_t expected_size) {
        close();
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) {
            return fail(errc::io, path, std::string("cannot open: ") + std::strerror(errno));
        }
        struct stat st {};
        if (fstat(fd_, &st) != 0) {
            return fail(errc::io, path, std::string("cannot stat: ") + std::strerror(errno));
        }
        if (st.st_size != expected_size) {
            return fail(errc::io, path,
                        "changed size while the torrent was made (" + std::to_string(expected_size) + " -> " +
                            std::to_string(st.st_size) + " bytes)");
        }
        return {};
    }

    void close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

    int fd() const { return fd_; }

private:
    int fd_ = -1;
};

class mapping {
public:
    mapping() = default;
    mapping(const mapping&) = delete;
    mapping& operator=(const mapping&) = delete;
    ~mapping() { reset(); }

    bool map(int fd, std::int64_t offset, std::int64_t length) {
        reset();
        static const std::int64_t page = sysconf(_SC_PAGESIZE);
        const std::int64_t aligned = offset - offset % page;
        length_ = static_cast<std::size_t>(length + (offset - aligned));
        void* p = mmap(nullptr, length_, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, aligned);
        if (p == MAP_FAILED) {
            length_ = 0;
            return false;
        }
        base_ = static_cast<std::uint8_t*>(p);
        data_ = base_ + (offset - aligned);
        return true;
    }

    void reset() {
        if (base_ != nullptr) {
            munmap(base_, length_);
            base_ = nullptr;
        }
    }

    const std::uint8_t* data() const { return data_; }

private:
    std::uint8_t* base_ = nullptr;
    const std::uint8_t* data_ = nullptr;
    std::size_t length_ = 0;
};

struct shared_state {
    const std::vector<std::string>& paths;
    const file_layout& layout;
    hash_progress& progress;
    std::vector<sha1_hash>& hashes;
    piece_index pieces_per_run;
    std::atomic<piece_index> next_run{0};
    std::mutex error_mutex;
    std::optional<error> first_error;

    void record(error e) {
        std::lock_guard lock(error_mutex);
        if (!first_error) {
            first_error = std::move(e);
        }
        progress.cancel = true;
    }
};

// Hashes runs of pieces until none are left, an error occurs, or the work is cancelled.
void hash_worker(shared_state& s) {
    sha1_hasher hasher;
    std::vector<std::uint8_t> buffer(read_buffer_size);
    file_handle file;
    std::size_t open_file = SIZE_MAX;
    const piece_index run_count = (s.layout.piece_count() + s.pieces_per_run - 1) / s.pieces_per_run;

    while (!s.progress.cancel) {
        const piece_index run = s.next_run.fetch_add(1);
        if (run >= run_count) {
            return;
        }
        const piece_index first = run * s.pieces_per_run;
        const piece_index last = std::min<piece_index>(first + s.pieces_per_run, s.layout.piece_count());
        const std::int64_t run_begin = static_cast<std::int64_t>(first) * s.layout.piece_length();
        const std::int64_t run_end =
            std::min(static_cast<std::int64_t>(last) * s.layout.piece_length(), s.layout.total_size());

        // One mapping per large file in this run, made when the run first reaches that file.
        mapping map;
        std::size_t mapped_file = SIZE_MAX;
        std::int64_t mapped_offset = 0;

        for (piece_index piece = first; piece < last && !s.progress.cancel; ++piece) {
            const std::int64_t begin = static_cast<std::int64_t>(piece) * s.layout.piece_length();
            const std::int64_t size = s.layout.piece_size(piece);
            bool ok = true;
            s.layout.for_each_slice(begin, size, [&](const file_slice& slice) {
                if (!ok) {
                    return;
                }
                if (slice.file != open_file) {
                    if (auto r = file.open(s.paths[slice.file], s.layout.file_size(slice.file)); !r) {
                        s.record(r.error());
                        ok = false;
                        return;
                    }
                    open_file = slice.file;
                }
                const std::int64_t file_start = s.layout.file_offset(slice.file);
                const std::int64_t in_run_begin = std::max(run_begin, file_start) - file_start;
                const std::int64_t in_run_end =
                    std::min(run_end, file_start + s.layout.file_size(slice.file)) - file_start;
                if (in_run_end - in_run_begin >= map_threshold) {
                    if (mapped_file != slice.file) {
                        if (!map.map(file.fd(), in_run_begin, in_run_end - in_run_begin)) {
                            s.record(error{errc::io, s.paths[slice.file],
                                           std::string("cannot map: ") + std::strerror(errno)});
                            ok = false;
                            return;
                        }
                        mapped_file = slice.file;
                        mapped_offset = in_run_begin;
                    }
                    hasher.update(byte_view(map.data() + (slice.offset - mapped_offset),
                                            static_cast<std::size_t>(slice.length)));
                    return;
                }
                std::int64_t done = 0;
                while (done < slice.length) {
                    const auto want =
                        static_cast<std::size_t>(std::min<std::int64_t>(slice.length - done, buffer.size()));
                    const ssize_t got = pread(file.fd(), buffer.data(), want, slice.offset + done);
                    if (got < 0 && errno == EINTR) {
                        continue;
                    }
                    if (got <= 0) {
                        s.record(error{errc::io, s.paths[slice.file],
                                       got < 0 ? std::string("cannot read: ") + std::strerror(errno)
                                               : std::string("file shrank while the torrent was made")});
                        ok = false;
                        return;
                    }
                    hasher.update(byte_view(buffer.data(), static_cast<std::size_t>(got)));
                    done += got;
                }
            });
            if (!ok) {
                return;
            }
            s.hashes[piece] = hasher.finish();
            s.progress.bytes_done += size;
        }
    }
}

}  // namespace

result<std::vector<sha1_hash>> hash_pieces(const std::vector<std::string>& paths, const file_layout& layout,
                                           hash_progress& progress, const hash_options& options) {
    if (paths.size() != layout.file_count()) {
        return fail(errc::invalid_argument, "piece hasher", "one path is needed for each file of the layout");
    }
    std::vector<sha1_hash> hashes(layout.piece_count());
    shared_state state{paths,
                       layout,
                       progress,
                       hashes,
                       static_cast<piece_index>(std::max<std::int64_t>(1, run_bytes / layout.piece_length())),
                       {},
                       {},
                       {}};
    const piece_index runs = (layout.piece_count() + state.pieces_per_run - 1) / state.pieces_per_run;
    unsigned threads =
        options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    threads = std::min<unsigned>(threads, std::max<piece_index>(runs, 1));

    std::vector<std::jthread> workers;
    workers.reserve(threads - 1);
    for (unsigned i = 1; i < threads; ++i) {
        workers.emplace_back([&state] { hash_worker(state); });
    }
    hash_worker(state);
    workers.clear();  // joins

    if (state.first_error) {
        return tl::unexpected(*state.first_error);
    }
    if (progress.cancel) {
        return fail(errc::io, "piece hasher", "cancelled");
    }
    return hashes;
}

}  // namespace hyphae
