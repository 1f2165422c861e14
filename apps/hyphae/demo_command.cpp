#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>

#include "commands.hpp"
#include "human_units.hpp"
#include "torrent_report.hpp"
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyphae/core/rng.hpp"
#include "hyphae/proto/torrent/metainfo.hpp"
#include "hyphae/runtime/atomic_file.hpp"

namespace hyphae::cli {
namespace {

struct sample_file {
    const char* path;
    double share;  // of the requested size
};

// Nested folders, an empty file and a file that spans pieces: what real content looks like.
constexpr sample_file sample_files[] = {
    {"README.txt", 0.0},
    {"empty.txt", 0.0},
    {"media/clip-1.bin", 0.55},
    {"media/clip-2.bin", 0.30},
    {"media/notes/a.txt", 0.001},
    {"media/notes/b.txt", 0.002},
    {"media-extra/data.bin", 0.147},
};

result<void> write_sample_tree(const std::filesystem::path& root, std::int64_t size, std::uint64_t seed) {
    rng random(seed);
    std::vector<char> block(1 << 20);
    for (const sample_file& f : sample_files) {
        const std::filesystem::path path = root / f.path;
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        if (ec) {
            return fail(errc::io, path.parent_path().string(), "cannot create folder: " + ec.message());
        }
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        if (std::string_view(f.path) == "README.txt") {
            out << "A sample tree made by `hyphae demo` to show torrent creation.\n";
        }
        auto remaining = static_cast<std::int64_t>(static_cast<double>(size) * f.share);
        while (remaining > 0 && out) {
            for (std::size_t i = 0; i < block.size(); i += 8) {
                const std::uint64_t word = random();
                std::memcpy(block.data() + i, &word, 8);
            }
            const auto n = static_cast<std::streamsize>(std::min<std::int64_t>(remaining, block.size()));
            out.write(block.data(), n);
            remaining -= n;
        }
        if (!out) {
            return fail(errc::io, path.string(), std::string("cannot write: ") + std::strerror(errno));
        }
    }
    return {};
}

}  // namespace

command add_demo_command(CLI::App& parent) {
    struct args_t {
        std::string dir;
        std::string size = "256M";
        std::uint64_t seed = 1;
        bool keep = false;
    };
    auto args = std::make_shared<args_t>();
    CLI::App* app = parent.add_subcommand(
        "demo", "The main job on this machine: make a sample tree, create a torrent of it, read it back");
    app->add_option("--dir", args->dir, "Work folder (default: a new one under /tmp, removed afterwards)");
    app->add_option("--size", args->size, "Size of the sample tree (default 256M)");
    app->add_option("--seed", args->seed, "Seed of the sample content");
    app->add_flag("--keep", args->keep, "Keep the work folder");

    return {app, [args]() -> int {
                const auto size = parse_size(args->size);
                if (!size || *size <= 0) {
                    fmt::print(stderr, "hyphae demo: --size '{}' is not a size (e.g. 64M, 1G)\n", args->size);
                    return exit_usage;
                }
                std::string dir = args->dir;
                const bool temporary = dir.empty();
                if (temporary) {
                    std::string pattern =
                        (std::filesystem::temp_directory_path() / "hyphae-demo-XXXXXX").string();
                    if (mkdtemp(pattern.data()) == nullptr) {
                        return report(
                            error{errc::io, pattern, std::string("cannot create: ") + std::strerror(errno)});
                    }
                    dir = pattern;
                }
                const std::filesystem::path root = std::filesystem::path(dir) / "sample";
                fmt::print("[1/3] writing a sample tree of {} to {}\n", format_bytes(*size), root.string());
                if (auto written = write_sample_tree(root, *size, args->seed); !written) {
                    return report(written.error());
                }

                const std::string torrent = (std::filesystem::path(dir) / "sample.torrent").string();
                fmt::print("[2/3] creating {}\n", torrent);
                create_request request;
                request.path = root.string();
                request.output = torrent;
                request.force = true;
                request.options.created_by = "hyphae " HYPHAE_VERSION;
                request.options.creation_date = static_cast<std::int64_t>(std::time(nullptr));
                request.options.trackers = {{"http://127.0.0.1:6969/announce"}};
                auto created = create_torrent_file(request);
                if (!created) {
                    return report(created.error());
                }

                fmt::print("[3/3] reading it back (hyphae info {})\n", torrent);
                auto bytes = read_whole_file(torrent, 64u << 20);
                if (!bytes) {
                    return report(bytes.error());
                }
                auto m = parse_metainfo(as_bytes(*bytes));
                if (!m) {
                    return report(m.error());
                }
                print_report(stdout, *m, 20);
                if (m->info_hash != created->made.info_hash) {
                    fmt::print(stderr, "hyphae demo: the info-hash read back differs from the one created\n");
                    return exit_failure;
                }
                if (temporary && !args->keep) {
                    std::error_code ec;
                    std::filesystem::remove_all(dir, ec);
                    fmt::print("removed {} (--keep keeps it)\n", dir);
                } else {
                    fmt::print("kept {}\n", dir);
                }
                return 0;
            }};
}

}  // namespace hyphae::cli
