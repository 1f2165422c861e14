#include "hyphae_tracker.hpp"

#include <regex>

#include "loopback_client.hpp"

namespace hyphae::test {

hyphae_tracker::hyphae_tracker(const std::string& binary, const std::vector<std::string>& extra) {
    std::vector<std::string> argv{binary, "tracker", "--http", "0", "--udp", "0", "--bind", "127.0.0.1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<background_process>(argv);
    if (!process_->wait_for_line("tracker: ready", std::chrono::seconds(20))) {
        return;
    }
    const std::regex port(R"(tracker: (http|udp) on 127\.0\.0\.1:(\d+))");
    for (const std::string& line : process_->lines()) {
        std::smatch m;
        if (std::regex_search(line, m, port)) {
            (m[1] == "http" ? http_ : udp_) = static_cast<std::uint16_t>(std::stoi(m[2]));
        }
    }
}

std::string hyphae_tracker::output() const {
    return process_->output();
}

nlohmann::json hyphae_tracker::stats() const {
    auto response = http_get(http_, "/stats");
    if (!response || response->status != 200) {
        return nullptr;
    }
    return nlohmann::json::parse(response->body, nullptr, false);
}

}  // namespace hyphae::test
