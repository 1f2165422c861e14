#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "commands.hpp"
#include "progress_display.hpp"
#include <fmt/format.h>

#include "hyphae/proto/bittorrent/metainfo.hpp"
#include "hyphae/proto/bittorrent/resume_data.hpp"
#include "hyphae/runtime/atomic_file.hpp"
#include "hyphae/runtime/disk_pool.hpp"
#include "hyphae/runtime/file_storage.hpp"
#include "hyphae/runtime/torrent_file.hpp"

namespace hyphae::cli {
using namespace hyphae::bittorrent;

command add_verify_command(CLI::App& parent) {
    struct args_t {
        std::string torrent;
        std::string folder;
        unsigned threads = 0;
    };
    auto args = std::make_shared<args_t>();
    CLI::App* app = parent.add_subcommand("verify", "Recheck every piece on disk and update the resume data");
    app->add_option("torrent", args->torrent, "FILE.torrent")->required();
    app->add_option("--data", args->folder, "Folder that holds <name>")->required();
    app->add_option("-t,--threads", args->threads, "Hashing threads (default: one a core)")
        ->check(CLI::Range(1u, 256u));

    return {app, [args]() -> int {
                auto meta = load_torrent_file(args->torrent);
                if (!meta) {
                    return report(meta.error());
                }
                auto storage = file_storage::open(*meta, args->folder, false);
                if (!storage) {
                    return report(storage.error());
                }
                const piece_index count = meta->piece_count();
                bitfield good(count);
                std::mutex mutex;
                std::atomic<std::int64_t> done{0};
                std::string first_problem;
                progress_display display("verifying", meta->total_size);
                {
                    disk_pool pool(args->threads != 0 ? args->threads
                                                      : std::max(1u, std::thread::hardware_concurrency()));
                    for (piece_index p = 0; p < count; ++p) {
                        pool.submit([&, p] {
                            auto hash = (*storage)->hash_piece(p);
                            std::lock_guard lock(mutex);
                            if (hash && *hash == meta->piece_hash(p)) {
                                good.set(p);
                            } else if (!hash && first_problem.empty()) {
                                first_problem = hash.error().message();
                            }
                            done += meta->piece_size(p);
                        });
                    }
                    while (done < meta->total_size) {
                        display.update(done);
                        std::this_thread::sleep_for(std::chrono::milliseconds(100));
                    }
                }
                display.finish(done);
                const std::string resume = args->folder + "/.hyphae/" + meta->info_hash.to_hex() + ".resume";
                std::error_code ec;
                std::filesystem::create_directories(args->folder + "/.hyphae", ec);
                (void)write_file_atomically(
                    resume, encode_resume_data(resume_data{meta->info_hash, good, 0, 0}), overwrite::allow);
                fmt::print("{}: {} of {} pieces good\n", meta->name, good.count(), count);
                if (good.all()) {
                    return 0;
                }
                std::string bad;
                std::size_t listed = 0;
                for (piece_index p = 0; p < count && listed < 20; ++p) {
                    if (!good.test(p)) {
                        bad += (listed++ == 0 ? "" : ", ") + std::to_string(p);
                    }
                }
                fmt::print("bad pieces: {}{}\n", bad, count - good.count() > listed ? ", ..." : "");
                if (!first_problem.empty()) {
                    fmt::print("first read error: {}\n", first_problem);
                }
                return exit_failure;
            }};
}

}  // namespace hyphae::cli
