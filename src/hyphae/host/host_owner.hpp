#pragma once
// What sits above a host and reacts to its services' typed events: the session, a command of the
// CLI, a test. A driver (the runtime, the simulator) calls it after every input, for each service
// the host names in poll_ready(), then on_pump(), and when its own deadline comes; it answers by
// calling services through host::call, whose outputs the driver then drains like any other.

#include <optional>

#include "hyphae/core/service.hpp"
#include "hyphae/core/time.hpp"

namespace hyphae {

class host_owner {
public:
    virtual ~host_owner() = default;
    // Service `id` has events: drain them (host::get<S>(id).poll_event()) and act on them.
    virtual void on_ready(time_point now, service_id id) = 0;
    // After the ready services: carry out the owner's own pending work (a session's storage
    // requests, say); true when anything was done, so that the driver drains the host again.
    virtual bool on_pump(time_point now) {
        (void)now;
        return false;
    }
    // The owner's own deadline (a periodic save, a stop policy), if any.
    virtual std::optional<time_point> next_timer() const { return std::nullopt; }
    virtual void on_timer(time_point now) { (void)now; }
};

}  // namespace hyphae
