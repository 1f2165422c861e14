#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>

#include "commands.hpp"
#include "demo_network.hpp"
#include "demo_tracker.hpp"
#include "human_units.hpp"
#include "torrent_report.hpp"
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyphae/core/rng.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"
#include "hyphae/runtime/atomic_file.hpp"
#include "hyphae/runtime/torrent_file.hpp"

namespace hyphae::cli {
using namespace hyphae::bittorrent;
using namespace hyphae::tracker;
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

bool same_files(const metainfo& meta, const std::string& a, const std::string& b) {
    for (const file_entry& f : meta.files) {
        if (f.pad) {
            continue;
        }
        std::ifstream x(a + "/" + f.path, std::ios::binary);
        std::ifstream y(b + "/" + f.path, std::ios::binary);
        std::vector<char> bx(1 << 20);
        std::vector<char> by(1 << 20);
        while (x && y) {
            x.read(bx.data(), static_cast<std::streamsize>(bx.size()));
            y.read(by.data(), static_cast<std::streamsize>(by.size()));
            if (x.gcount() != y.gcount() || !std::equal(bx.begin(), bx.begin() + x.gcount(), by.begin())) {
                return false;
            }
        }
        if (static_cast<bool>(x) != static_cast<bool>(y)) {
            return false;
        }
    }
    return true;
}

}  // namespace

command add_demo_command(CLI::App& parent) {
    struct args_t {
        std::string dir;
        std::string size = "128M";
        int leechers = 4;
        std::string seed_rate = "32M";
        std::uint64_t seed = 1;
        bool keep = false;
    };
    auto args = std::make_shared<args_t>();
    CLI::App* app = parent.add_subcommand(
        "demo", "The main job: a Hyphae seeder and leechers share a generated torrent over 127.0.0.1");
    app->add_option("--dir", args->dir, "Work folder (default: a new one under /tmp, removed afterwards)");
    app->add_option("--size", args->size, "Size of the shared content (default 128M)");
    app->add_option("--leechers", args->leechers, "Leechers (default 4)")->check(CLI::Range(1, 32));
    app->add_option("--seed-rate", args->seed_rate,
                    "Seeder's upload limit in bytes/s, so leechers must trade (default 32M; 0: none)");
    app->add_option("--seed", args->seed, "Seed of the sample content");
    app->add_flag("--keep", args->keep, "Keep the work folder");

    return {
        app, [args]() -> int {
            const auto size = parse_size(args->size);
            const auto seed_rate = parse_size(args->seed_rate);
            if (!size || *size <= 0 || !seed_rate) {
                fmt::print(stderr, "hyphae demo: --size and --seed-rate take sizes (e.g. 64M, 1G)\n");
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
            const std::string seed_folder = (std::filesystem::path(dir) / "seeder").string();
            const std::filesystem::path root = std::filesystem::path(seed_folder) / "sample";
            fmt::print("[1/4] writing a sample tree of {} to {}\n", format_bytes(*size), root.string());
            if (auto written = write_sample_tree(root, *size, args->seed); !written) {
                return report(written.error());
            }

            demo_tracker tracker;
            auto announce = tracker.start();
            if (!announce) {
                return report(announce.error());
            }
            const std::string torrent = (std::filesystem::path(dir) / "sample.torrent").string();
            fmt::print("[2/4] creating {} with the demo's Hyphae tracker, {}\n", torrent, *announce);
            create_request request;
            request.path = root.string();
            request.output = torrent;
            request.force = true;
            request.options.created_by = "hyphae " HYPHAE_VERSION;
            request.options.creation_date = static_cast<std::int64_t>(std::time(nullptr));
            request.options.trackers = {{*announce}};
            auto created = create_torrent_file(request);
            if (!created) {
                return report(created.error());
            }

            fmt::print(
                "[3/4] 1 seeder{} and {} leechers find each other through the tracker and the DHT, and "
                "share it over TCP\n",
                *seed_rate > 0 ? " (uploading at most " + format_rate(static_cast<double>(*seed_rate)) + ")"
                               : std::string(),
                args->leechers);
            demo_network_options net;
            net.torrent = torrent;
            net.seed_folder = seed_folder;
            net.work_folder = dir;
            net.leechers = args->leechers;
            net.seed_upload_rate = *seed_rate;
            net.through_trackers = true;
            net.dht = true;
            // What the tracker knew while the swarm was whole: the peers say 'stopped' as they leave.
            tracker_figures figures;
            net.all_complete = [&] {
                figures = tracker.figures();
            };
            auto summary = run_demo_network(net);
            tracker.stop();
            if (!summary) {
                return report(summary.error());
            }
            auto m = load_torrent_file(torrent);
            bool identical = m.has_value() && summary->all_verified;
            for (int i = 1; i <= args->leechers && identical; ++i) {
                identical = same_files(*m, seed_folder, dir + "/leecher-" + std::to_string(i));
            }
            const std::int64_t sent = summary->seed_uploaded + summary->leechers_uploaded;
            fmt::print("[4/4] summary\n");
            fmt::print("  {} leechers each got {} in {} ({} in all)\n", args->leechers,
                       format_bytes(summary->size), format_duration(summary->seconds),
                       format_rate(static_cast<double>(summary->size) * args->leechers / summary->seconds));
            fmt::print(
                "  the seeder sent {}; the leechers sent each other {} ({:.0f} % of all data sent)\n",
                format_bytes(summary->seed_uploaded), format_bytes(summary->leechers_uploaded),
                sent > 0 ? 100.0 * static_cast<double>(summary->leechers_uploaded) / static_cast<double>(sent)
                         : 0);
            fmt::print(
                "  the tracker answered {} announces from {} peers of {} swarm; no peer was given an "
                "address\n",
                figures.counters.udp_announces, figures.peers, figures.swarms);
            fmt::print(
                "  the leechers' DHT lookups found {} peers (every node ran a DHT node, joined through the "
                "seeder's)\n",
                summary->dht_peers);
            fmt::print(
                "  every piece verified by SHA-1 on every leecher, copies identical to the original: {}\n",
                identical ? "yes" : "NO");
            if (temporary && !args->keep) {
                std::error_code ec;
                std::filesystem::remove_all(dir, ec);
                fmt::print("removed {} (--keep keeps it)\n", dir);
            } else {
                fmt::print("kept {}\n", dir);
            }
            return identical ? 0 : exit_failure;
        }};
}

}  // namespace hyphae::cli
