#include <chrono>
#include <condition_variable>
#include <ctime>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

#include "commands.hpp"
#include "human_units.hpp"
#include "progress_display.hpp"
#include <fmt/format.h>

#include "hyphae/runtime/atomic_file.hpp"
#include "hyphae/runtime/content_scan.hpp"

namespace hyphae::cli {
using namespace hyphae::bittorrent;

int report(const error& e) {
    fmt::print(stderr, "hyphae: {}\n", e.message());
    return exit_failure;
}

result<created_torrent> create_torrent_file(const create_request& request) {
    auto content = scan_content(request.path);
    if (!content) {
        return tl::unexpected(content.error());
    }
    for (const std::string& warning : content->warnings) {
        fmt::print(stderr, "warning: {}\n", warning);
    }
    const std::string output = request.output.empty() ? content->name + ".torrent" : request.output;

    hash_progress progress;
    progress_display display("hashing", content->total_size);
    const auto start = std::chrono::steady_clock::now();
    result<made_torrent> made = [&] {
        std::mutex mutex;
        std::condition_variable_any wake;
        std::jthread ticker([&](std::stop_token stop) {
            std::unique_lock lock(mutex);
            while (!wake.wait_for(lock, stop, std::chrono::milliseconds(100), [] { return false; }) &&
                   !stop.stop_requested()) {
                display.update(progress.bytes_done);
            }
        });
        return make_torrent(*content, request.options, progress);
    }();
    if (!made) {
        return tl::unexpected(made.error());
    }
    display.finish(progress.bytes_done);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (auto written =
            write_file_atomically(output, made->file, request.force ? overwrite::allow : overwrite::refuse);
        !written) {
        error e = written.error();
        if (e.what == "already exists") {
            e.what += " (--force replaces it)";
        }
        return tl::unexpected(e);
    }
    fmt::print("created {}\n", output);
    fmt::print("info-hash:   {}\n", made->info_hash.to_hex());
    fmt::print("pieces:      {} x {}\n", made->piece_count, format_bytes(made->piece_length));
    fmt::print("hashed:      {} in {} ({})\n", format_bytes(content->total_size), format_duration(seconds),
               format_rate(seconds > 0 ? static_cast<double>(content->total_size) / seconds : 0));
    return created_torrent{output, std::move(*made)};
}

command add_create_command(CLI::App& parent) {
    struct args_t {
        std::string path;
        std::string output;
        std::vector<std::string> trackers;
        std::vector<std::string> web_seeds;
        std::string piece_size;
        bool is_private = false;
        std::string comment;
        bool no_date = false;
        bool force = false;
        unsigned threads = 0;
    };
    auto args = std::make_shared<args_t>();
    CLI::App* app = parent.add_subcommand("create", "Make a .torrent (v1) of a file or folder");
    app->add_option("path", args->path, "File or folder to share")->required();
    app->add_option("-o,--output", args->output, "Where to write the torrent (default: <name>.torrent)");
    app->add_option("--tracker", args->trackers,
                    "Announce URL; repeat for more tiers, or separate URLs of one tier with commas");
    app->add_option("--web-seed", args->web_seeds, "Web seed URL (BEP 19); repeatable");
    app->add_option("--piece-size", args->piece_size,
                    "Piece size in bytes, a power of two from 16K (default: about 1000-2000 pieces)");
    app->add_flag("--private", args->is_private, "Set the private flag (BEP 27)");
    app->add_option("--comment", args->comment, "Comment stored in the torrent");
    app->add_flag("--no-date", args->no_date, "Leave out the creation date");
    app->add_flag("-f,--force", args->force, "Replace the output file if it exists");
    app->add_option("-t,--threads", args->threads, "Hashing threads (default: one a core)")
        ->check(CLI::Range(1u, 256u));

    return {app, [args]() -> int {
                create_request request;
                request.path = args->path;
                request.output = args->output;
                request.force = args->force;
                make_options& o = request.options;
                if (!args->piece_size.empty()) {
                    auto size = parse_size(args->piece_size);
                    if (!size) {
                        fmt::print(stderr,
                                   "hyphae create: --piece-size '{}' is not a size (e.g. 262144, 256K, 1M)\n",
                                   args->piece_size);
                        return exit_usage;
                    }
                    o.piece_length = *size;
                }
                for (const std::string& tier : args->trackers) {
                    std::vector<std::string> urls;
                    for (std::size_t start = 0; start <= tier.size();) {
                        const std::size_t comma = std::min(tier.find(',', start), tier.size());
                        if (comma > start) {
                            urls.push_back(tier.substr(start, comma - start));
                        }
                        start = comma + 1;
                    }
                    if (!urls.empty()) {
                        o.trackers.push_back(std::move(urls));
                    }
                }
                o.web_seeds = args->web_seeds;
                o.is_private = args->is_private;
                o.comment = args->comment;
                o.created_by = "hyphae " HYPHAE_VERSION;
                if (!args->no_date) {
                    o.creation_date = static_cast<std::int64_t>(std::time(nullptr));
                }
                o.threads = args->threads;
                auto created = create_torrent_file(request);
                return created ? 0 : report(created.error());
            }};
}

}  // namespace hyphae::cli
