#include "hyphae_dht.hpp"

#include <sstream>

namespace hyphae::test {

hyphae_dht_node::hyphae_dht_node(const std::string& binary, const std::vector<std::string>& bootstrap,
                                 const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {binary, "dht", "run", "--bind", "127.0.0.1", "--port", "0"};
    for (const auto& b : bootstrap) {
        argv.push_back("--bootstrap");
        argv.push_back(b);
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<background_process>(argv);
    if (auto id = process_->wait_for_line("dht: node id ", std::chrono::seconds(20))) {
        node_id_hex_ = id->substr(id->find("id ") + 3, 40);
    }
    if (auto line = process_->wait_for_line("dht: listening on ", std::chrono::seconds(20))) {
        port_ = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
    }
}

run_result run_dht_command(const std::string& binary, std::vector<std::string> args,
                           const std::vector<std::string>& bootstrap, std::chrono::milliseconds deadline) {
    std::vector<std::string> argv = {binary, "dht"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--bind", "127.0.0.1"});
    for (const auto& b : bootstrap) {
        argv.push_back("--bootstrap");
        argv.push_back(b);
    }
    return run(argv, deadline);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        out.push_back(line);
    }
    return out;
}

}  // namespace hyphae::test
