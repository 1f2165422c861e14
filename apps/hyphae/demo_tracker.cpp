#include "demo_tracker.hpp"

#include <future>
#include <random>

#include "hyphae/proto/tracker/tracker_server.hpp"
#include "hyphae/runtime/runtime_clock.hpp"

namespace hyphae::cli {
using namespace hyphae::tracker;

demo_tracker::demo_tracker() {
    tracker_config config;
    config.rate_per_address = 0;  // every demo peer comes from 127.0.0.1
    tracker_ = host_.add(runtime_now(),
                         std::make_unique<tracker_server>(config, std::random_device{}(), runtime_now()));
    runtime_config rc;
    rc.bind_address = "127.0.0.1";
    rc.udp = runtime_config::udp_mode::port;
    rc.udp_port = 0;
    runtime_ = std::make_unique<host_runtime>(host_, rc);
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

tracker_figures demo_tracker::figures() {
    if (!thread_.joinable()) {
        return host_.get<tracker_server>(tracker_).figures(runtime_now());
    }
    std::promise<tracker_figures> answer;
    auto figures = answer.get_future();
    asio::post(runtime_->context(),
               [&] { answer.set_value(host_.get<tracker_server>(tracker_).figures(runtime_now())); });
    return figures.get();
}

tracker_figures demo_tracker::stop() {
    if (thread_.joinable()) {
        runtime_->stop();
        thread_.join();
    }
    return host_.get<tracker_server>(tracker_).figures(runtime_now());
}

}  // namespace hyphae::cli
