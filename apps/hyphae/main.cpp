// hyphae: the command-line front of the node. Exceptions end here; everything below returns
// errors as values.

#include <exception>
#include <vector>

#include "commands.hpp"
#include <fmt/format.h>

int main(int argc, char** argv) {
    using namespace hyphae::cli;
    CLI::App app{"Hyphae: a peer-to-peer node (BitTorrent, Mainline DHT, trackers)", "hyphae"};
    app.set_version_flag("--version", "hyphae " HYPHAE_VERSION);
    app.require_subcommand(1);
    const std::vector<command> commands = {
        add_create_command(app),  add_info_command(app),   add_get_command(app),
        add_seed_command(app),    add_verify_command(app), add_demo_command(app),
        add_tracker_command(app), add_dht_command(app),    add_sim_command(app)};
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : exit_usage;
    }
    try {
        for (const command& c : commands) {
            if (c.app->parsed()) {
                return c.run();
            }
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "hyphae: unexpected error: {}\n", e.what());
        return exit_failure;
    }
    return exit_usage;
}
