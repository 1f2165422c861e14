#include "hyphae/sim/swarm_simulation.hpp"

#include <algorithm>

#include "hyphae/sim/distributions.hpp"

namespace hyphae::sim {

namespace {

constexpr std::uint8_t tag_join = 0;
constexpr std::uint8_t tag_announce = 1;
constexpr std::uint16_t listen_port = 6881;

float bytes_per_second(double kbps) {
    return static_cast<float>(kbps * 1000 / 8);
}

}  // namespace

struct swarm_simulation::peer {
    std::unique_ptr<memory_storage> storage;
    bittorrent::torrent_handle torrent = 0;
    service_id bittorrent = 0;
    bool seeder = false;
    bool complete = false;
    bool joined = false;
};

swarm_simulation::swarm_simulation(const scenario& s, std::uint64_t seed, progress_callback progress)
    : scenario_(s),
      seed_(seed),
      progress_(std::move(progress)),
      latency_(s.network.latency),
      net_(network_params{.seed = mix(seed, 1), .disk_latency = duration::zero()}, &latency_),
      rng_(mix(seed, 2)) {
    const auto& w = scenario_.swarm;
    content_ = shared_content::make("swarm-" + std::to_string(seed), w.size, w.piece_length, mix(seed, 3));
    start_ = net_.now();
    net_.set_disk(
        [this](host_index at, const routed_disk_job& job) { return peers_[at].storage->run(job.job); });
    net_.set_ready_handler([this](host_index at, time_point now, service_id id) { on_ready(at, now, id); });
    net_.set_user_handler([this](const event& e) {
        if (e.tag == tag_join) {
            join(e.node);
        } else {
            announce(e.node);
        }
    });

    const std::uint32_t hosts = w.seeders + w.leechers;
    peers_.resize(hosts);
    leechers_.resize(w.leechers);
    for (std::uint32_t i = 0; i < hosts; ++i) {
        const bool seeder = i < w.seeders;
        host_options o;
        o.place = latency_.place(rng_);
        o.link.up_bytes_per_second = bytes_per_second(seeder ? w.seed_upload_kbps : w.peer_upload_kbps);
        o.link.down_bytes_per_second = bytes_per_second(seeder ? 0 : w.peer_download_kbps);
        const host_index h = net_.add_host(net_.next_address(), o);
        peers_[h].seeder = seeder;
        if (seeder) {
            join(h);
        } else {
            leechers_[h - w.seeders].host = h;
            // Evenly over the window, so that the arrival process is the scenario's, not the seed's.
            const double at = static_cast<double>(w.join_window.count()) * (h - w.seeders + 0.5) / w.leechers;
            net_.schedule(start_ + duration(static_cast<std::int64_t>(at)), tag_join, h);
        }
    }
    end_ = start_ + w.time_limit;
}

swarm_simulation::~swarm_simulation() = default;

void swarm_simulation::join(host_index h) {
    const auto& w = scenario_.swarm;
    peer& p = peers_[h];
    const time_point now = net_.now();
    p.joined = true;
    p.storage = std::make_unique<memory_storage>(content_, p.seeder);
    bittorrent::bittorrent_service_config c;
    c.torrent.connections_max = w.connections_max;
    c.torrent.listen_port = listen_port;
    host& hst = net_.at(h);
    p.bittorrent = hst.add(now, std::make_unique<bittorrent::bittorrent_service>(c, mix(seed_, mix(h, 4))));
    bittorrent::add_params params;
    params.source = content_->meta();
    if (p.seeder) {
        params.have = bitfield(content_->meta().piece_count(), true);
        p.complete = true;
    }
    p.torrent = net_.call<bittorrent::bittorrent_service>(
        h, p.bittorrent,
        [&](bittorrent::bittorrent_service& bt) { return bt.add_torrent(now, std::move(params)); });
    if (!p.seeder) {
        leechers_[h - w.seeders].joined = now;
        announce(h);
    }
    present_.push_back(h);
}

void swarm_simulation::announce(host_index h) {
    const auto& w = scenario_.swarm;
    peer& p = peers_[h];
    if (p.complete || !net_.up(h)) {
        return;
    }
    // As a tracker answers: a random sample of the swarm, never the asker.
    std::vector<endpoint> found;
    const std::size_t want = std::min<std::size_t>(w.peers_per_announce, present_.size());
    std::vector<host_index> picked;
    for (std::size_t attempt = 0; picked.size() < want && attempt < 4 * want + 16; ++attempt) {
        const host_index other = present_[rng_.uniform(present_.size())];
        if (other != h && net_.up(other) && std::find(picked.begin(), picked.end(), other) == picked.end()) {
            picked.push_back(other);
            found.push_back(net_.address_of(other));
        }
    }
    const time_point now = net_.now();
    net_.call<bittorrent::bittorrent_service>(h, p.bittorrent, [&](bittorrent::bittorrent_service& bt) {
        bt.add_peers(now, p.torrent, found, bittorrent::peer_source::tracker);
    });
    net_.schedule(now + w.reannounce, tag_announce, h);
}

void swarm_simulation::on_ready(host_index at, time_point now, service_id id) {
    peer& p = peers_[at];
    auto& bt = net_.at(at).get<bittorrent::bittorrent_service>(id);
    bool done = false;
    while (auto e = bt.poll_event()) {
        if (std::holds_alternative<bittorrent::torrent_events::download_complete>(e->what) && !p.complete) {
            done = true;
        }
    }
    if (!done) {
        return;
    }
    p.complete = true;
    leecher_record& r = leechers_[at - scenario_.swarm.seeders];
    r.completed = now;
    ++completed_;
    if (progress_) {
        progress_(
            {completed_, scenario_.swarm.leechers, net_.counters().events, now - start_, end_ - start_});
    }
    if (scenario_.swarm.leave_when_done) {
        const auto stats = bt.get(p.torrent)->stats(now);
        r.uploaded = stats.uploaded;
        r.downloaded = stats.downloaded;
        ++gone_;
        net_.take_down(at);
    }
}

void swarm_simulation::run() {
    const std::uint32_t leechers = scenario_.swarm.leechers;
    std::uint64_t next_report = 1 << 20;
    net_.run_until(
        [&] {
            if (progress_ && net_.counters().events >= next_report) {
                next_report += 1 << 20;
                progress_({completed_, leechers, net_.counters().events, net_.now() - start_, end_ - start_});
            }
            return completed_ == leechers;
        },
        end_);
    end_ = net_.now();
    collect_stats();
    if (progress_) {
        progress_({completed_, leechers, net_.counters().events, end_ - start_, end_ - start_});
    }
}

void swarm_simulation::collect_stats() {
    const auto& w = scenario_.swarm;
    for (host_index h = 0; h < peers_.size(); ++h) {
        if (!net_.up(h) || !peers_[h].joined) {
            continue;
        }
        const auto* t =
            net_.at(h).get<bittorrent::bittorrent_service>(peers_[h].bittorrent).get(peers_[h].torrent);
        if (t == nullptr) {
            continue;
        }
        const auto stats = t->stats(end_);
        if (peers_[h].seeder) {
            seed_uploaded_ += stats.uploaded;
        } else {
            leechers_[h - w.seeders].uploaded = stats.uploaded;
            leechers_[h - w.seeders].downloaded = stats.downloaded;
        }
    }
}

std::uint64_t swarm_simulation::bad_writes() const {
    std::uint64_t n = 0;
    for (const peer& p : peers_) {
        n += p.storage ? p.storage->bad_writes() : 0;
    }
    return n;
}

}  // namespace hyphae::sim
