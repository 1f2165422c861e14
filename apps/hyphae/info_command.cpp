#include <memory>

#include "commands.hpp"
#include "torrent_report.hpp"
#include <fmt/format.h>

#include "hyphae/proto/bittorrent/magnet.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"
#include "hyphae/runtime/atomic_file.hpp"
#include "hyphae/runtime/torrent_file.hpp"

namespace hyphae::cli {
using namespace hyphae::bittorrent;
namespace {

constexpr std::size_t files_shown_default = 20;

void print_json(const nlohmann::json& j) {
    // Names need not be UTF-8; replace what is not rather than fail.
    fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

command add_info_command(CLI::App& parent) {
    struct args_t {
        std::string target;
        bool json = false;
        bool all_files = false;
    };
    auto args = std::make_shared<args_t>();
    CLI::App* app = parent.add_subcommand("info", "Show what a .torrent file or a magnet link holds");
    app->add_option("target", args->target, "FILE.torrent or a magnet: link")->required();
    app->add_flag("--json", args->json, "Print JSON instead of text");
    app->add_flag("--all-files", args->all_files, "List every file (default: the first 20)");

    return {app, [args]() -> int {
                if (args->target.rfind("magnet:", 0) == 0) {
                    auto link = parse_magnet(args->target);
                    if (!link) {
                        return report(link.error());
                    }
                    if (args->json) {
                        print_json(to_json(*link));
                    } else {
                        print_report(stdout, *link);
                    }
                    return 0;
                }
                auto m = load_torrent_file(args->target);
                if (!m) {
                    return report(m.error());
                }
                if (args->json) {
                    print_json(to_json(*m));
                } else {
                    print_report(stdout, *m, args->all_files ? SIZE_MAX : files_shown_default);
                }
                return 0;
            }};
}

}  // namespace hyphae::cli
