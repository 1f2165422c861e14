// Fixture for the layering test: the include below breaks a rule and must be reported.
#include "hyphae/sim/event_queue.hpp"
// Reading time handed in is allowed: on_timer(time_point now), runtime(now), time_point(x).
inline int fine(int now) { return now; }
