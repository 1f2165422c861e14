#pragma once
// The demo network's tracker: a Hyphae tracker (a host with the tracker service, under the one
// runtime) on its own thread on 127.0.0.1, through which the demo's peers find each other (the
// hybrid overlay: a coordinator that only introduces peers).

#include <memory>
#include <string>
#include <thread>

#include "hyphae/core/error.hpp"
#include "hyphae/host/host.hpp"
#include "hyphae/proto/tracker/tracker_metrics.hpp"
#include "hyphae/runtime/host_runtime.hpp"

namespace hyphae::cli {

class demo_tracker {
public:
    demo_tracker();
    ~demo_tracker();

    // Binds a free UDP port and starts serving; the announce URL.
    result<std::string> start();
    // The tracker's figures now (asked on its own thread).
    tracker::tracker_figures figures();
    // Stops serving; the tracker's figures at that moment.
    tracker::tracker_figures stop();

private:
    host host_;
    service_id tracker_ = 0;
    std::unique_ptr<host_runtime> runtime_;
    std::thread thread_;
};

}  // namespace hyphae::cli
