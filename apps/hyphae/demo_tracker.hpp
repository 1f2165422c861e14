#pragma once
// The demo network's tracker: a Hyphae tracker on its own thread on 127.0.0.1, through which the
// demo's peers find each other (the hybrid overlay: a coordinator that only introduces peers).

#include <memory>
#include <string>
#include <thread>

#include "hyphae/core/error.hpp"
#include "hyphae/proto/tracker/tracker_metrics.hpp"
#include "hyphae/proto/tracker/tracker_server.hpp"
#include "hyphae/runtime/tracker_runtime.hpp"

namespace hyphae::cli {

class demo_tracker {
public:
    demo_tracker();
    ~demo_tracker();

    // Binds a free UDP port and starts serving; the announce URL.
    result<std::string> start();
    // Stops serving; the tracker's figures at that moment.
    tracker::tracker_figures stop();

private:
    std::unique_ptr<tracker::tracker_server> core_;
    std::unique_ptr<tracker_runtime> runtime_;
    std::thread thread_;
};

}  // namespace hyphae::cli
