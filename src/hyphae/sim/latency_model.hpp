#pragma once
// Round-trip times between simulated nodes: a synthetic coordinate model in the style of Vivaldi's
// "2-D plus height" embedding (Dabek et al., SIGCOMM 2004), which fits the King data set (RTTs
// between 1740 DNS servers, Gummadi et al., IMW 2002) with a median error of about 11%.
//
//   rtt(a, b) = |pos(a) - pos(b)| + access(a) + access(b)
//
// - pos: a point on a plane whose distances are propagation delay. Nodes fall into five weighted
//   regions (continents) whose centres reproduce rough inter-continental RTTs (North America to
//   Europe ~90 ms, to East Asia ~150 ms, Europe to East Asia ~230 ms), spread normally within one.
// - access: the access link (Vivaldi's height), lognormal: most hosts add a few ms, a long tail
//   adds hundreds (ADSL buffers add hundreds of ms on BitTorrent peers: Steiner & Biersack,
//   Networking 2009; Azureus RTTs span four orders of magnitude: Ledlie et al., NSDI 2007).
//
// The shape parameters are in a reference geometry; the constructor then scales the whole model so
// that the median RTT between random pairs is rtt_median_ms (calibrated once on a fixed-seed
// sample, so the same config always gives the same model). The reference geometry alone has a
// median of ~197 ms, so the default 100 ms shrinks distances to ~0.51 (NA-EU ~46 ms). Defaults give
// p10 32, p50 100, p90 161, p99 271, p99.9 ~500 ms.

#include <cmath>
#include <cstdint>

#include "hyphae/core/rng.hpp"
#include "hyphae/core/time.hpp"

namespace hyphae::sim {

struct latency_config {
    double rtt_median_ms = 100;  // median round-trip time between two random nodes
    double jitter = 0.0;  // per-datagram extra delay, fraction of the one-way delay (uniform 0..jitter)
    // Shape, in the reference geometry (continent centres as above), before scaling:
    double region_spread_ms = 18;   // standard deviation of a node's position around its region's centre
    double access_median_ms = 15;   // median access delay of one node (its share of an RTT)
    double access_sigma = 1.2;      // lognormal sigma of the access delay: the tail
    double access_max_ratio = 100;  // an access delay is capped at this many medians (z = 3.8 at sigma 1.2)
};

// One node's place: 12 bytes, so that 10^6 nodes cost 12 MB. Units are final milliseconds of RTT.
struct node_place {
    float x = 0, y = 0;
    float access_ms = 0;
};
static_assert(sizeof(node_place) <= 16);

class latency_model {
public:
    explicit latency_model(const latency_config& config);

    // A new node's position: draws a region, a point in it and an access delay.
    node_place place(rng& random) const;

    // Half the RTT; deterministic and symmetric. At least access_min_ms, even for a == b.
    duration one_way(const node_place& a, const node_place& b) const {
        const double dx = double{a.x} - double{b.x};
        const double dy = double{a.y} - double{b.y};
        const double rtt_ms = std::sqrt(dx * dx + dy * dy) + (double{a.access_ms} + double{b.access_ms});
        return duration{static_cast<std::int64_t>(rtt_ms * 0.5e6)};
    }

    // one_way() stretched by a uniform factor in [1, 1 + jitter); draws nothing when jitter is 0.
    duration one_way(const node_place& a, const node_place& b, rng& random) const;

    const latency_config& config() const { return config_; }

    // Reference geometry to final milliseconds, as calibrated by the constructor.
    double scale() const { return scale_; }

    // No access delay is below this (final ms): keeps every one_way() positive.
    static constexpr double access_min_ms = 0.1;

private:
    node_place place_unscaled(rng& random) const;

    latency_config config_;
    double scale_ = 1;
};

}  // namespace hyphae::sim
