#include "demo_tracker.hpp"

#include <random>

namespace hyphae::cli {
using namespace hyphae::tracker;

demo_tracker::demo_tracker() {
    tracker_config config;
    config.rate_per_address = 0;  // every demo peer comes from 127.0.0.1
    core_ = std::make_unique<tracker_server>(config, std::random_device{}(), runtime_now());
    tracker_runtime_config rc;
    rc.bind_address = "127.0.0.1";
    rc.udp_port = 0;
    runtime_ = std::make_unique<tracker_runtime>(*core_, rc);
}

demo_tracker::~demo_tracker() {
    stop();
}

result<std::string> demo_tracker::start() {
    if (auto opened = runtime_->open(); !opened) {
        return tl::unexpected(opened.error());
    }
    thread_ = std::thread([this] { runtime_->run(); });
    return "udp://" + runtime_->udp_endpoint()->to_string() + "/announce";
}

tracker_figures demo_tracker::stop() {
    if (thread_.joinable()) {
        runtime_->stop();
        thread_.join();
    }
    return core_->figures(runtime_now());
}

}  // namespace hyphae::cli
