#pragma once
// The subcommands of `hyphae`. Each registers its options on the parent app and returns what to
// run once the command line has parsed.

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "hyphae/core/error.hpp"
#include "hyphae/runtime/torrent_maker.hpp"

namespace hyphae::cli {

struct command {
    CLI::App* app;
    std::function<int()> run;
};

command add_create_command(CLI::App& parent);
command add_info_command(CLI::App& parent);
command add_demo_command(CLI::App& parent);
command add_get_command(CLI::App& parent);
command add_seed_command(CLI::App& parent);
command add_verify_command(CLI::App& parent);
command add_tracker_command(CLI::App& parent);
command add_dht_command(CLI::App& parent);
command add_sim_command(CLI::App& parent);

// Exit codes: 0 success, 1 the work failed, 2 the command line was wrong.
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

// Prints "hyphae: <where>: <what>" on stderr and returns exit_failure.
int report(const error& e);

struct create_request {
    std::string path;
    std::string output;  // empty: "<name>.torrent" in the current folder
    make_options options;
    bool force = false;
};

struct created_torrent {
    std::string output;
    made_torrent made;
};

// Scans, hashes with a progress display, writes the file atomically, prints a summary.
result<created_torrent> create_torrent_file(const create_request& request);

}  // namespace hyphae::cli
