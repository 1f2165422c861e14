#include "hyphae/runtime/session_runner.hpp"

#include <filesystem>
#include <memory>

#include <sys/stat.h>

#include "hyphae/runtime/atomic_file.hpp"
#include "hyphae/runtime/file_storage.hpp"
#include "hyphae/runtime/runtime_clock.hpp"

namespace hyphae {
namespace {

constexpr std::size_t resume_size_max = 16u << 20;

}  // namespace

session_runner::session_runner(session& s, host_runtime& runtime) : session_(s), runtime_(runtime) {
    runtime_.set_owner(this);
}

void session_runner::on_ready(time_point now, service_id id) {
    session_.on_ready(now, id);
}

bool session_runner::on_pump(time_point now) {
    bool did = false;
    while (auto request = session_.poll_storage_request()) {
        did = true;
        if (const auto* o = std::get_if<storage_requests::open>(&*request)) {
            open(now, *o);
        } else if (const auto* s = std::get_if<storage_requests::save_resume>(&*request)) {
            save(*s);
        } else {
            close(std::get<storage_requests::close>(*request));
        }
    }
    while (auto e = session_.poll_event()) {
        did = true;
        if (on_event) {
            on_event(*e);
        }
    }
    return did;
}

void session_runner::open(time_point now, const storage_requests::open& request) {
    auto storage = file_storage::open(request.meta, request.folder, request.create);
    if (!storage) {
        session_.on_storage_opened(now, request.torrent, tl::unexpected(storage.error()));
        return;
    }
    runtime_.attach_storage(session_.bittorrent_service_id(), request.torrent,
                            std::shared_ptr<block_storage>(std::move(*storage)));
    session_.on_storage_opened(now, request.torrent, {});
}

void session_runner::save(const storage_requests::save_resume& request) {
    auto storage = runtime_.storage(session_.bittorrent_service_id(), request.torrent);
    auto outcome = std::make_shared<result<void>>();
    runtime_.run_on_disk(
        [storage, request, outcome] {
            // Synced first: the file must never claim a piece whose data is not on disk.
            if (!storage) {
                *outcome = fail(errc::io, request.path, "the torrent's files are not open");
                return;
            }
            if (auto synced = storage->sync(); !synced) {
                *outcome = synced;
                return;
            }
            std::error_code ec;
            std::filesystem::create_directories(std::filesystem::path(request.path).parent_path(), ec);
            *outcome = write_file_atomically(request.path, as_chars(request.bytes), overwrite::allow);
        },
        [this, torrent = request.torrent, outcome] {
            session_.on_resume_saved(runtime_now(), torrent, *outcome);
        });
}

void session_runner::close(const storage_requests::close& request) {
    auto storage = runtime_.storage(session_.bittorrent_service_id(), request.torrent);
    runtime_.detach_storage(session_.bittorrent_service_id(), request.torrent);
    if (!request.delete_path) {
        return;
    }
    // Jobs still running hold the storage; it closes its files when the last of them ends.
    runtime_.run_on_disk(
        [storage = std::move(storage), path = *request.delete_path]() mutable {
            storage.reset();
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        },
        [] {});
}

torrent_on_disk probe_torrent_files(const bittorrent::metainfo& meta, const std::string& folder) {
    torrent_on_disk out;
    if (auto bytes = read_whole_file(resume_path(folder, meta.info_hash), resume_size_max)) {
        out.resume = to_buffer(*bytes);
    }
    for (const auto& f : meta.files) {
        struct stat st {};
        if (!f.pad && ::stat((folder + "/" + f.path).c_str(), &st) == 0 && st.st_size > 0) {
            out.data_present = true;
            break;
        }
    }
    return out;
}

}  // namespace hyphae
