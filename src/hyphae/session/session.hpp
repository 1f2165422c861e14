#pragma once
// The session: what a user means by "my torrents". It adds and removes torrents and magnet links
// on the host's BitTorrent service, finds them peers through their trackers and the Mainline DHT,
// keeps their resume data, stops them by policy, and stops the whole node gracefully. Both the
// CLI's commands and the daemon call it. Sans-I/O: files are opened, synced and written by
// whoever drives it, through the storage requests it emits.
//
// Driving: the session is the host's owner (host_owner). After every input the driver calls
// on_ready() for each service the host names, then on_pump(), and calls on_timer() at
// next_timer(). Commands (add_torrent, remove_torrent, stop, ...) may come at any time between.
// Outputs, drained by the driver after every call:
//   poll_storage_request()   open a torrent's files; sync them, then write resume data; close
//                            them (deleting the data if asked). Each open and save is answered
//                            through on_storage_opened / on_resume_saved.
//   poll_event()             what a user sees: torrent events, tracker and DHT results,
//                            storage failures, policies met, the node stopped.
//
// Policies:
// - Resume data (decide_resume): pieces it lists are trusted unless the torrent is only being
//   seeded; everything else on disk is hashed first. A torrent's resume data is saved, at most
//   every resume_save_interval while pieces are verified, at completion and at stop, always as
//   a snapshot taken before the storage is synced, so that it never claims a piece whose data is
//   not on disk (the fsync-before-trust rule).
// - Discovery: once a torrent has checked its data (at once for a magnet link) it announces to
//   its trackers (tracker client service, key = its handle) and, unless private or told not to,
//   to the DHT every dht_announce_interval (sooner while it finds nobody); every peer found
//   joins the torrent. 'completed' goes to the trackers once a download here completes (not
//   when a check finds the data whole), 'stopped' when the torrent stops.
// - Stop policy: a torrent whose policy is met (complete; or complete and uploaded ratio x its
//   size) raises `finished` and is stopped.
// - Graceful stop (stop()): resume data of every torrent is saved, every torrent stops and its
//   trackers get 'stopped'; `stopped` is raised once the trackers are done or stop_timeout has
//   passed.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "hyphae/core/bitfield.hpp"
#include "hyphae/core/fifo.hpp"
#include "hyphae/core/rng.hpp"
#include "hyphae/core/timer_heap.hpp"
#include "hyphae/host/host.hpp"
#include "hyphae/host/host_owner.hpp"
#include "hyphae/proto/bittorrent/bittorrent_service.hpp"
#include "hyphae/proto/bittorrent/magnet.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"
#include "hyphae/proto/dht/dht_node.hpp"
#include "hyphae/proto/tracker/tracker_client_service.hpp"

namespace hyphae {

using torrent_id = bittorrent::torrent_handle;

struct session_settings {
    bittorrent::bittorrent_service_config bittorrent{};  // peer id, client name, limits
    tracker::tracker_client_service_config trackers{};
    std::optional<dht::dht_config> dht;  // none: no DHT
    std::vector<std::pair<std::string, std::uint16_t>> dht_bootstrap_names;
    duration dht_announce_interval = std::chrono::minutes(15);  // libtorrent's too
    duration dht_retry_min = std::chrono::seconds(5);           // after a lookup that found nobody
    duration resume_save_interval = std::chrono::seconds(10);
    duration tracker_stats_interval = std::chrono::seconds(5);  // how stale 'uploaded' may be
    duration stop_timeout = std::chrono::seconds(3);            // waiting for 'stopped' answers
};

// When a torrent is done.
struct stop_policy {
    enum class kind : std::uint8_t { never, at_completion, at_ratio };
    kind when = kind::never;
    double ratio = 0;  // at_ratio: uploaded >= ratio x size
};

struct add_torrent_params {
    std::optional<bittorrent::metainfo> meta;  // a .torrent, or
    std::optional<bittorrent::magnet_link> magnet;
    std::string folder;                 // <folder>/<name> holds the data; resume data in <folder>/.hyphae
    std::optional<byte_buffer> resume;  // the resume file's bytes, if there was one
    bool data_on_disk = false;          // some file of the torrent exists and is not empty
    bool seed_only = false;             // verify what is there and serve it (resume data unused)
    std::vector<endpoint> peers;        // dial these too
    stop_policy policy;
    bool use_trackers = true;
    bool use_dht = true;  // ignored for private torrents and sessions without a DHT
};

// What decide_resume makes of a torrent's resume data.
struct resume_decision {
    std::optional<bitfield> trusted;  // pieces taken as verified
    bool check = false;               // hash every other piece on disk first
    std::string warning;              // resume data ignored, and why
};
resume_decision decide_resume(const bittorrent::metainfo& meta, const std::optional<byte_buffer>& resume,
                              bool data_on_disk, bool seed_only);

// <folder>/.hyphae/<info-hash hex>.resume
std::string resume_path(const std::string& folder, const sha1_hash& info_hash);

namespace storage_requests {
struct open {
    torrent_id torrent = 0;
    bittorrent::metainfo meta;
    std::string folder;
    bool create = true;  // make missing files (false: seeding what must be there)
};
// Sync the torrent's storage, then write `bytes` to `path` atomically.
struct save_resume {
    torrent_id torrent = 0;
    std::string path;
    byte_buffer bytes;
};
struct close {
    torrent_id torrent = 0;
    std::optional<std::string> delete_path;  // the torrent's data (<folder>/<name>), to delete
};
}  // namespace storage_requests

using storage_request =
    std::variant<storage_requests::open, storage_requests::save_resume, storage_requests::close>;

namespace session_events {
struct added {
    std::string warning;  // resume data ignored, and why; empty when none
};
struct storage_failed {
    std::string what;  // the torrent is removed
};
struct resume_save_failed {
    std::string what;
};
struct dht_announced {
    std::size_t peers = 0;   // found by its get_peers
    std::size_t stored = 0;  // nodes that took the announce
    duration elapsed{};
};
struct finished {
    std::string why;  // "complete", "ratio 2.0 reached"
};
struct stopped {};  // the whole session: every tracker told, or stop_timeout passed
}  // namespace session_events

struct session_event {
    torrent_id torrent = 0;  // 0 for session-wide events
    std::variant<bittorrent::torrent_event, tracker::tracker_event, session_events::added,
                 session_events::storage_failed, session_events::resume_save_failed,
                 session_events::dht_announced, session_events::finished, session_events::stopped>
        what;
};

class session final : public host_owner {
public:
    // Adds the BitTorrent, tracker client and (with settings.dht) DHT services to `h`.
    session(host& h, const session_settings& settings, std::uint64_t seed, time_point now);
    ~session() override;
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    // The port peers reach us on, once the driver has bound it (TCP, and UDP for the DHT).
    void set_listen_port(time_point now, std::uint16_t port);

    // Commands
    result<torrent_id> add_torrent(time_point now, add_torrent_params params);
    void remove_torrent(time_point now, torrent_id t, bool delete_data);
    void add_peers(time_point now, torrent_id t, const std::vector<endpoint>& peers);
    void set_policy(torrent_id t, stop_policy policy);
    void stop(time_point now);
    bool stopping() const { return stopping_; }

    // Answers to storage requests
    void on_storage_opened(time_point now, torrent_id t, const result<void>& opened);
    void on_resume_saved(time_point now, torrent_id t, const result<void>& saved);

    // host_owner
    void on_ready(time_point now, service_id id) override;
    std::optional<time_point> next_timer() const override;
    void on_timer(time_point now) override;

    // Outputs
    std::optional<storage_request> poll_storage_request() { return requests_.pop(); }
    std::optional<session_event> poll_event() { return events_.pop(); }

    // Queries
    const bittorrent::torrent* get(torrent_id t) const;
    std::vector<torrent_id> torrents() const;
    bool has_dht() const { return dht_ != 0; }
    const dht::dht_node* dht() const;
    service_id bittorrent_service_id() const { return bittorrent_; }
    service_id tracker_service_id() const { return trackers_; }
    service_id dht_service_id() const { return dht_; }
    const std::string* folder_of(torrent_id t) const;

private:
    struct entry {
        sha1_hash info_hash;
        std::string folder;
        stop_policy policy;
        bool has_trackers = false;
        bool use_dht = false;
        bool opened = false;  // its storage (none needed until a magnet link's metadata comes)
        bool announcing = false;
        bool complete = false;
        bool stopped = false;
        bool finished = false;
        bool downloaded_here = false;  // a piece was verified other than by a check: 'completed' is true
        dht::lookup_id dht_lookup = 0;
        duration dht_retry{};
        bool resume_dirty = false;
        bool resume_saving = false;
        bool resume_again = false;  // dirtied while a save was under way
        time_point resume_saved_at{};
    };

    bittorrent::bittorrent_service& bt();
    tracker::tracker_client_service& trackers();
    dht::dht_node& dht_node();
    tracker::tracker_stats stats_for(time_point now, torrent_id t) const;

    void on_torrent_event(time_point now, bittorrent::bittorrent_event e);
    void on_tracker_event(time_point now, tracker::tracker_client_event e);
    void on_dht_event(time_point now, dht::dht_event e);
    void start_announcing(time_point now, torrent_id t, entry& e);
    void announce_to_dht(time_point now, torrent_id t, entry& e);
    void schedule_dht(torrent_id t, std::optional<time_point> at);
    void save_resume(time_point now, torrent_id t, entry& e);
    void finish(time_point now, torrent_id t, entry& e, std::string why);
    void stop_torrent(time_point now, torrent_id t, entry& e);
    void check_stopped(time_point now);
    void push(torrent_id t, decltype(session_event::what) what);

    host& host_;
    session_settings settings_;
    rng rng_;
    service_id bittorrent_ = 0;
    service_id trackers_ = 0;
    service_id dht_ = 0;
    std::unordered_map<torrent_id, entry> entries_;
    std::unordered_map<dht::lookup_id, torrent_id> dht_lookups_;
    timer_heap dht_due_;  // next DHT announce, keyed by the torrent's slot (lower 32 bits)
    std::unordered_map<timer_heap::key, torrent_id> dht_slots_;
    std::set<torrent_id> resume_dirty_;  // waiting for their next save
    std::set<torrent_id> ratio_watch_;   // complete, finishing at a ratio
    time_point next_tick_{};
    time_point next_stats_{};
    bool stopping_ = false;
    bool stopped_ = false;
    time_point stop_deadline_{};
    fifo<storage_request> requests_;
    fifo<session_event> events_;
};

}  // namespace hyphae
