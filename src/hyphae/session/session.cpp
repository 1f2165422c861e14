#include "hyphae/session/session.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "hyphae/proto/bittorrent/resume_data.hpp"

namespace hyphae {
namespace {

constexpr duration tick_interval = std::chrono::seconds(1);

timer_heap::key slot_of(torrent_id t) {
    return static_cast<timer_heap::key>(t & 0xffffffffu);
}

}  // namespace

resume_decision decide_resume(const bittorrent::metainfo& meta, const std::optional<byte_buffer>& resume,
                              bool data_on_disk, bool seed_only) {
    resume_decision out;
    // Pieces resume data does not vouch for are hashed, not trusted: after a crash that keeps what
    // reached the disk without ever marking unverified data complete.
    out.check = seed_only || data_on_disk;
    if (!resume || seed_only) {
        return out;
    }
    auto parsed = bittorrent::parse_resume_data(*resume, meta.info_hash, meta.piece_count());
    if (!parsed) {
        out.warning = "ignoring resume data: " + parsed.error().message();
        return out;
    }
    out.trusted = std::move(parsed->pieces);
    return out;
}

std::string resume_path(const std::string& folder, const sha1_hash& info_hash) {
    return folder + "/.hyphae/" + info_hash.to_hex() + ".resume";
}

session::session(host& h, const session_settings& settings, std::uint64_t seed, time_point now)
    : host_(h), settings_(settings), rng_(seed) {
    bittorrent_ =
        host_.add(now, std::make_unique<bittorrent::bittorrent_service>(settings_.bittorrent, rng_()));
    trackers_ = host_.add(now, std::make_unique<tracker::tracker_client_service>(settings_.trackers, rng_()));
    if (settings_.dht) {
        dht_ = host_.add(now, std::make_unique<dht::dht_node>(*settings_.dht, rng_(), now));
        host_.call<dht::dht_node>(now, dht_, [&](dht::dht_node& n) {
            for (const auto& [name, port] : settings_.dht_bootstrap_names) {
                n.add_bootstrap_name(now, name, port);
            }
            if (!settings_.dht->bootstrap.empty()) {
                n.bootstrap(now);
            }
        });
    }
    next_tick_ = now + tick_interval;
    next_stats_ = now + settings_.tracker_stats_interval;
}

session::~session() = default;

bittorrent::bittorrent_service& session::bt() {
    return host_.get<bittorrent::bittorrent_service>(bittorrent_);
}

tracker::tracker_client_service& session::trackers() {
    return host_.get<tracker::tracker_client_service>(trackers_);
}

dht::dht_node& session::dht_node() {
    return host_.get<dht::dht_node>(dht_);
}

const dht::dht_node* session::dht() const {
    return dht_ == 0 ? nullptr : &const_cast<host&>(host_).get<dht::dht_node>(dht_);
}

const bittorrent::torrent* session::get(torrent_id t) const {
    return const_cast<host&>(host_).get<bittorrent::bittorrent_service>(bittorrent_).get(t);
}

const std::string* session::folder_of(torrent_id t) const {
    auto it = entries_.find(t);
    return it == entries_.end() ? nullptr : &it->second.folder;
}

std::vector<torrent_id> session::torrents() const {
    std::vector<torrent_id> out;
    out.reserve(entries_.size());
    for (const auto& [t, e] : entries_) {
        out.push_back(t);
    }
    std::sort(out.begin(), out.end());
    return out;
}

void session::set_listen_port(time_point now, std::uint16_t port) {
    host_.call<bittorrent::bittorrent_service>(now, bittorrent_, [&](auto& s) { s.set_listen_port(port); });
    host_.call<tracker::tracker_client_service>(now, trackers_, [&](auto& s) { s.set_listen_port(port); });
}

void session::push(torrent_id t, decltype(session_event::what) what) {
    events_.push(session_event{t, std::move(what)});
}

tracker::tracker_stats session::stats_for(time_point now, torrent_id t) const {
    tracker::tracker_stats out;
    const bittorrent::torrent* core = get(t);
    if (core == nullptr) {
        return out;
    }
    const auto s = core->stats(now);
    out.uploaded = s.uploaded;
    out.downloaded = s.downloaded;
    // Without metadata the size is unknown: any 'left' above zero says we are a leecher.
    out.left = core->has_metadata() ? core->meta().total_size - s.verified_bytes : 16 * 1024;
    return out;
}

// ---- commands ----

result<torrent_id> session::add_torrent(time_point now, add_torrent_params params) {
    if (stopping_) {
        return fail(errc::invalid_argument, "add torrent", "the session is stopping");
    }
    bittorrent::add_params p;
    p.peers = std::move(params.peers);
    std::vector<std::vector<std::string>> tiers;
    sha1_hash info_hash;
    std::string warning;
    bool is_private = false;
    if (params.meta) {
        const auto decision =
            decide_resume(*params.meta, params.resume, params.data_on_disk, params.seed_only);
        info_hash = params.meta->info_hash;
        tiers = params.meta->trackers;
        is_private = params.meta->is_private;
        p.source = *params.meta;
        p.have = decision.trusted;
        p.check = decision.check;
        warning = decision.warning;
    } else if (params.magnet) {
        info_hash = params.magnet->info_hash;
        p.source = info_hash;
        for (const std::string& url : params.magnet->trackers) {
            tiers.push_back({url});
        }
        for (const std::string& text : params.magnet->peers) {
            if (auto ep = endpoint::parse(text)) {
                p.peers.push_back(*ep);
            }
        }
    } else {
        return fail(errc::invalid_argument, "add torrent", "neither a torrent nor a magnet link");
    }
    if (bt().find(info_hash)) {
        return fail(errc::invalid_argument, "add torrent", "already added: " + info_hash.to_hex());
    }
    const torrent_id t = host_.call<bittorrent::bittorrent_service>(
        now, bittorrent_, [&](auto& s) { return s.add_torrent(now, std::move(p)); });
    entry& e = entries_[t];
    e.info_hash = info_hash;
    e.folder = params.folder;
    e.policy = params.policy;
    e.use_dht = params.use_dht && dht_ != 0 && !is_private;
    e.dht_retry = settings_.dht_retry_min;
    if (params.use_trackers && !tiers.empty()) {
        e.has_trackers = host_.call<tracker::tracker_client_service>(now, trackers_, [&](auto& s) {
            return s.add(now, t, std::move(tiers), info_hash, bt().peer_id(), bt().listen_port());
        });
    }
    if (params.meta) {
        requests_.push(storage_requests::open{t, *params.meta, params.folder, !params.seed_only});
    } else {
        e.opened = true;  // nothing to open until the metadata comes
    }
    push(t, session_events::added{warning});
    if (!get(t)->checking()) {
        start_announcing(now, t, e);
    }
    return t;
}

void session::remove_torrent(time_point now, torrent_id t, bool delete_data) {
    auto it = entries_.find(t);
    if (it == entries_.end()) {
        return;
    }
    if (it->second.dht_lookup != 0) {
        host_.call<dht::dht_node>(now, dht_, [&](dht::dht_node& n) { n.cancel(it->second.dht_lookup); });
        dht_lookups_.erase(it->second.dht_lookup);
    }
    dht_due_.erase(slot_of(t));
    dht_slots_.erase(slot_of(t));
    if (it->second.has_trackers) {
        host_.call<tracker::tracker_client_service>(now, trackers_, [&](auto& s) { s.remove(now, t); });
    }
    std::optional<std::string> delete_path;
    if (const bittorrent::torrent* core = get(t); delete_data && core != nullptr && core->has_metadata()) {
        delete_path = it->second.folder + "/" + core->meta().name;
    }
    host_.call<bittorrent::bittorrent_service>(now, bittorrent_, [&](auto& s) { s.remove_torrent(now, t); });
    requests_.push(storage_requests::close{t, std::move(delete_path)});
    resume_dirty_.erase(t);
    ratio_watch_.erase(t);
    entries_.erase(it);
    check_stopped(now);
}

void session::add_peers(time_point now, torrent_id t, const std::vector<endpoint>& peers) {
    if (entries_.contains(t)) {
        host_.call<bittorrent::bittorrent_service>(
            now, bittorrent_, [&](auto& s) { s.add_peers(now, t, peers, bittorrent::peer_source::manual); });
    }
}

void session::set_policy(torrent_id t, stop_policy policy) {
    auto it = entries_.find(t);
    if (it == entries_.end()) {
        return;
    }
    it->second.policy = policy;
    if (it->second.complete && !it->second.finished && policy.when == stop_policy::kind::at_ratio) {
        ratio_watch_.insert(t);
    } else {
        ratio_watch_.erase(t);
    }
}

void session::stop(time_point now) {
    if (stopping_) {
        return;
    }
    stopping_ = true;
    stop_deadline_ = now + settings_.stop_timeout;
    for (auto& [t, e] : entries_) {
        stop_torrent(now, t, e);
    }
    check_stopped(now);
}

// ---- storage answers ----

void session::on_storage_opened(time_point now, torrent_id t, const result<void>& opened) {
    auto it = entries_.find(t);
    if (it == entries_.end()) {
        return;
    }
    if (!opened) {
        push(t, session_events::storage_failed{opened.error().message()});
        remove_torrent(now, t, false);
        return;
    }
    it->second.opened = true;
}

void session::on_resume_saved(time_point now, torrent_id t, const result<void>& saved) {
    auto it = entries_.find(t);
    if (it == entries_.end()) {
        check_stopped(now);
        return;
    }
    entry& e = it->second;
    e.resume_saving = false;
    if (!saved) {
        push(t, session_events::resume_save_failed{saved.error().message()});
    }
    if (e.resume_again) {
        e.resume_again = false;
        e.resume_dirty = true;
        resume_dirty_.insert(t);
        if (e.stopped || stopping_) {
            save_resume(now, t, e);  // the snapshot of the stop, not the next tick's
        }
    }
    check_stopped(now);
}

// ---- events of the services ----

void session::on_ready(time_point now, service_id id) {
    if (id == bittorrent_) {
        while (auto e = bt().poll_event()) {
            on_torrent_event(now, std::move(*e));
        }
    } else if (id == trackers_) {
        while (auto e = trackers().poll_event()) {
            on_tracker_event(now, std::move(*e));
        }
    } else if (id == dht_ && dht_ != 0) {
        while (auto e = dht_node().poll_event()) {
            on_dht_event(now, std::move(*e));
        }
    }
}

void session::on_torrent_event(time_point now, bittorrent::bittorrent_event event) {
    using namespace bittorrent::torrent_events;
    const torrent_id t = event.torrent;
    auto it = entries_.find(t);
    if (it == entries_.end()) {
        return;
    }
    entry& e = it->second;
    if (std::holds_alternative<metadata_received>(event.what)) {
        e.opened = false;
        requests_.push(storage_requests::open{t, get(t)->meta(), e.folder, true});
    } else if (std::holds_alternative<checking_done>(event.what)) {
        e.resume_dirty = true;
        resume_dirty_.insert(t);
        start_announcing(now, t, e);
    } else if (std::holds_alternative<piece_verified>(event.what)) {
        const bittorrent::torrent* core = get(t);
        e.downloaded_here = e.downloaded_here || (core != nullptr && !core->checking());
        e.resume_dirty = true;
        resume_dirty_.insert(t);
    } else if (std::holds_alternative<download_complete>(event.what)) {
        e.complete = true;
        // BEP 3: 'completed' when a download completes, not when a check finds the data whole.
        if (e.announcing && e.has_trackers && !e.stopped && e.downloaded_here) {
            host_.call<tracker::tracker_client_service>(
                now, trackers_, [&](auto& s) { s.completed(now, t, stats_for(now, t)); });
        }
        save_resume(now, t, e);
    }
    push(t, std::move(event.what));
    if (e.complete && !e.finished && !e.stopped) {
        if (e.policy.when == stop_policy::kind::at_completion) {
            finish(now, t, e, "complete");
        } else if (e.policy.when == stop_policy::kind::at_ratio) {
            ratio_watch_.insert(t);
        }
    }
}

void session::on_tracker_event(time_point now, tracker::tracker_client_event event) {
    const torrent_id t = event.key;
    auto it = entries_.find(t);
    if (it == entries_.end()) {
        check_stopped(now);
        return;
    }
    if (const auto* found = std::get_if<tracker::peers_found>(&event.event); found && !it->second.stopped) {
        host_.call<bittorrent::bittorrent_service>(now, bittorrent_, [&](auto& s) {
            s.add_peers(now, t, found->peers, bittorrent::peer_source::tracker);
        });
    }
    push(t, std::move(event.event));
    check_stopped(now);
}

void session::on_dht_event(time_point now, dht::dht_event event) {
    if (const auto* found = std::get_if<dht::peers_found>(&event)) {
        auto lookup = dht_lookups_.find(found->id);
        if (lookup == dht_lookups_.end()) {
            return;
        }
        auto it = entries_.find(lookup->second);
        if (it != entries_.end() && !it->second.stopped) {
            host_.call<bittorrent::bittorrent_service>(now, bittorrent_, [&](auto& s) {
                s.add_peers(now, lookup->second, found->peers, bittorrent::peer_source::dht);
            });
        }
    } else if (const auto* done = std::get_if<dht::lookup_done>(&event)) {
        auto lookup = dht_lookups_.find(done->id);
        if (lookup == dht_lookups_.end()) {
            return;
        }
        const torrent_id t = lookup->second;
        dht_lookups_.erase(lookup);
        auto it = entries_.find(t);
        if (it == entries_.end()) {
            return;
        }
        entry& e = it->second;
        e.dht_lookup = 0;
        // Found nobody: ask again soon, then less and less often.
        if (done->peers > 0) {
            e.dht_retry = settings_.dht_retry_min;
            schedule_dht(t, now + settings_.dht_announce_interval);
        } else {
            schedule_dht(t, now + e.dht_retry);
            e.dht_retry = std::min(e.dht_retry * 2, settings_.dht_announce_interval);
        }
        push(t, session_events::dht_announced{done->peers, done->stored, done->stats.elapsed});
    }
}

// ---- discovery ----

void session::start_announcing(time_point now, torrent_id t, entry& e) {
    if (e.announcing || e.stopped) {
        return;
    }
    e.announcing = true;
    if (e.has_trackers) {
        host_.call<tracker::tracker_client_service>(now, trackers_,
                                                    [&](auto& s) { s.start(now, t, stats_for(now, t)); });
    }
    if (e.use_dht) {
        announce_to_dht(now, t, e);
    }
}

void session::announce_to_dht(time_point now, torrent_id t, entry& e) {
    if (e.stopped || e.dht_lookup != 0) {
        return;
    }
    const dht::lookup_id id = host_.call<dht::dht_node>(now, dht_, [&](dht::dht_node& n) {
        return n.announce(now, e.info_hash, bt().listen_port(), e.complete);
    });
    if (id == 0) {
        schedule_dht(t, now + e.dht_retry);  // too many lookups running: later
        return;
    }
    e.dht_lookup = id;
    dht_lookups_[id] = t;
}

void session::schedule_dht(torrent_id t, std::optional<time_point> at) {
    dht_slots_[slot_of(t)] = t;
    dht_due_.set(slot_of(t), at);
}

// ---- resume data, policies, stopping ----

void session::save_resume(time_point now, torrent_id t, entry& e) {
    const bittorrent::torrent* core = get(t);
    if (!e.opened || core == nullptr || !core->has_metadata() || core->checking()) {
        return;  // nothing verified to record yet; it stays dirty
    }
    if (e.resume_saving) {
        e.resume_again = true;
        return;
    }
    // The snapshot comes before the sync the request asks for: every piece it lists was written
    // before it was verified, so the sync makes all of them durable before the file claims them.
    const auto stats = core->stats(now);
    const bittorrent::resume_data snapshot{e.info_hash, core->have(), stats.uploaded, stats.downloaded};
    requests_.push(storage_requests::save_resume{t, resume_path(e.folder, e.info_hash),
                                                 to_buffer(bittorrent::encode_resume_data(snapshot))});
    e.resume_saving = true;
    e.resume_dirty = false;
    e.resume_saved_at = now;
    resume_dirty_.erase(t);
}

void session::finish(time_point now, torrent_id t, entry& e, std::string why) {
    e.finished = true;
    ratio_watch_.erase(t);
    push(t, session_events::finished{std::move(why)});
    stop_torrent(now, t, e);
}

void session::stop_torrent(time_point now, torrent_id t, entry& e) {
    if (e.stopped) {
        return;
    }
    save_resume(now, t, e);
    e.stopped = true;
    if (e.dht_lookup != 0) {
        // The DHT has no 'stopped': its records expire.
        host_.call<dht::dht_node>(now, dht_, [&](dht::dht_node& n) { n.cancel(e.dht_lookup); });
        dht_lookups_.erase(e.dht_lookup);
        e.dht_lookup = 0;
    }
    dht_due_.erase(slot_of(t));
    const tracker::tracker_stats stats = stats_for(now, t);
    host_.call<bittorrent::bittorrent_service>(now, bittorrent_, [&](auto& s) { s.stop_torrent(now, t); });
    if (e.has_trackers && e.announcing) {
        host_.call<tracker::tracker_client_service>(now, trackers_, [&](auto& s) { s.stop(now, t, stats); });
    }
}

void session::check_stopped(time_point now) {
    if (!stopping_ || stopped_) {
        return;
    }
    const bool saving = std::any_of(entries_.begin(), entries_.end(), [](const auto& item) {
        return item.second.resume_saving || item.second.resume_again;
    });
    if ((trackers().idle() && !saving) || now >= stop_deadline_) {
        stopped_ = true;
        push(0, session_events::stopped{});
    }
}

std::optional<time_point> session::next_timer() const {
    std::optional<time_point> next = next_tick_;
    if (auto dht_next = dht_due_.next(); dht_next && *dht_next < *next) {
        next = dht_next;
    }
    if (stopping_ && !stopped_ && stop_deadline_ < *next) {
        next = stop_deadline_;
    }
    return next;
}

void session::on_timer(time_point now) {
    while (auto slot = dht_due_.pop_due(now)) {
        auto owner = dht_slots_.find(*slot);
        if (owner == dht_slots_.end()) {
            continue;
        }
        auto it = entries_.find(owner->second);
        if (it != entries_.end()) {
            announce_to_dht(now, owner->second, it->second);
        }
    }
    if (now >= next_tick_) {
        next_tick_ = now + tick_interval;
        for (const torrent_id t : std::vector<torrent_id>(resume_dirty_.begin(), resume_dirty_.end())) {
            entry& e = entries_.at(t);
            if (now - e.resume_saved_at >= settings_.resume_save_interval) {
                save_resume(now, t, e);
            }
        }
        for (const torrent_id t : std::vector<torrent_id>(ratio_watch_.begin(), ratio_watch_.end())) {
            entry& e = entries_.at(t);
            const bittorrent::torrent* core = get(t);
            const double size = static_cast<double>(core->meta().total_size);
            if (static_cast<double>(core->stats(now).uploaded) >= e.policy.ratio * size) {
                std::array<char, 32> ratio{};
                std::snprintf(ratio.data(), ratio.size(), "%g", e.policy.ratio);
                finish(now, t, e, std::string("ratio ") + ratio.data() + " reached");
            }
        }
        if (now >= next_stats_) {
            next_stats_ = now + settings_.tracker_stats_interval;
            // Commands that make no output: no need to go through the host.
            for (auto& [t, e] : entries_) {
                if (e.has_trackers && e.announcing && !e.stopped) {
                    trackers().set_stats(t, stats_for(now, t));
                }
            }
        }
    }
    check_stopped(now);
}

}  // namespace hyphae
