#pragma once
// Runs a session under the one runtime: it is the runtime's host_owner, hands the session the
// services' events, and carries out the session's storage requests with real files: a torrent's
// files opened (file_storage) and attached for its disk jobs, resume data written after a sync
// on a disk thread, files closed or deleted. The session's own events go to on_event, on the
// loop thread, after each pump step.

#include <functional>
#include <optional>
#include <string>

#include "hyphae/host/host_owner.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"
#include "hyphae/runtime/host_runtime.hpp"
#include "hyphae/session/session.hpp"

namespace hyphae {

class session_runner final : public host_owner {
public:
    // Becomes `runtime`'s owner.
    session_runner(session& s, host_runtime& runtime);

    std::function<void(const session_event&)> on_event;

    void on_ready(time_point now, service_id id) override;
    bool on_pump(time_point now) override;
    std::optional<time_point> next_timer() const override { return session_.next_timer(); }
    void on_timer(time_point now) override { session_.on_timer(now); }

private:
    void open(time_point now, const storage_requests::open& request);
    void save(const storage_requests::save_resume& request);
    void close(const storage_requests::close& request);

    session& session_;
    host_runtime& runtime_;
};

// What is on disk for a torrent about to be added: its resume file (if any, read whole) and
// whether any of its files is there and not empty.
struct torrent_on_disk {
    std::optional<byte_buffer> resume;
    bool data_present = false;
};
torrent_on_disk probe_torrent_files(const bittorrent::metainfo& meta, const std::string& folder);

}  // namespace hyphae
