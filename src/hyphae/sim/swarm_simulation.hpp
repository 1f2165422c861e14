#pragma once
// Runs a swarm scenario: seeders and leechers of one torrent, each a host whose one service is the
// unchanged BitTorrent service, over the network model (latency_model places, access-link caps),
// with memory storage over one shared content. Deterministic for a seed.
//
// The simulation plays the tracker: a leecher arriving gets up to peers_per_announce peers drawn
// from those present (seeders included), and again every reannounce until it is complete. It
// drains each host's BitTorrent events through the network's ready handler and notes when each
// leecher completes; a leecher that leaves when done is taken down at once.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "hyphae/core/rng.hpp"
#include "hyphae/proto/bittorrent/bittorrent_service.hpp"
#include "hyphae/sim/latency_model.hpp"
#include "hyphae/sim/memory_storage.hpp"
#include "hyphae/sim/network.hpp"
#include "hyphae/sim/scenario.hpp"

namespace hyphae::sim {

struct leecher_record {
    host_index host = 0;
    time_point joined{};
    std::optional<time_point> completed;
    std::int64_t uploaded = 0;  // payload, by its torrent's count
    std::int64_t downloaded = 0;
};

struct swarm_progress {
    std::uint32_t completed = 0;
    std::uint32_t leechers = 0;
    std::uint64_t events = 0;
    duration elapsed{};  // virtual time since the start
    duration limit{};
};

class swarm_simulation {
public:
    using progress_callback = std::function<void(const swarm_progress&)>;

    swarm_simulation(const scenario& s, std::uint64_t seed, progress_callback progress = {});
    ~swarm_simulation();
    swarm_simulation(const swarm_simulation&) = delete;
    swarm_simulation& operator=(const swarm_simulation&) = delete;

    void run();

    const scenario& config() const { return scenario_; }
    std::uint64_t seed() const { return seed_; }
    const std::vector<leecher_record>& leechers() const { return leechers_; }
    std::uint32_t completed() const { return completed_; }
    std::int64_t seed_upload_bytes() const { return seed_uploaded_; }
    std::uint64_t bad_writes() const;  // blocks that did not match the content: must be 0
    const network_counters& counters() const { return net_.counters(); }
    time_point start_time() const { return start_; }
    time_point end_time() const { return end_; }
    const shared_content& content() const { return *content_; }

private:
    struct peer;

    void join(std::uint32_t leecher);
    void announce(std::uint32_t leecher);
    void on_ready(host_index at, time_point now, service_id id);
    void collect_stats();

    scenario scenario_;
    std::uint64_t seed_;
    progress_callback progress_;
    latency_model latency_;
    network net_;
    rng rng_;
    std::shared_ptr<const shared_content> content_;
    std::vector<peer> peers_;               // seeders first, then leechers, by host index
    std::vector<host_index> present_;       // who a tracker would hand out
    std::vector<leecher_record> leechers_;  // by leecher number
    std::uint32_t completed_ = 0;
    std::uint32_t gone_ = 0;  // left when done
    std::int64_t seed_uploaded_ = 0;
    time_point start_{};
    time_point end_{};
};

}  // namespace hyphae::sim
