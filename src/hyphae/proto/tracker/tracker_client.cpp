#include "hyphae/proto/tracker/tracker_client.hpp"

#include <algorithm>
#include <span>

namespace hyphae::tracker {
namespace {

std::string seconds_text(duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

}  // namespace

tracker_client::tracker_client(std::vector<std::vector<std::string>> tiers, sha1_hash info_hash,
                               id160 peer_id, std::uint16_t listen_port, tracker_client_config config,
                               std::uint64_t rng_seed)
    : config_(std::move(config)),
      info_hash_(info_hash),
      peer_id_(peer_id),
      listen_port_(listen_port),
      rng_(rng_seed),
      key_(static_cast<std::uint32_t>(rng_())) {
    for (const std::vector<std::string>& tier : tiers) {
        std::vector<std::size_t> indices;
        for (const std::string& url : tier) {
            const bool known = std::any_of(trackers_.begin(), trackers_.end(),
                                           [&](const tracker_entry& entry) { return entry.url == url; });
            if (url.empty() || known || trackers_.size() >= config_.trackers_max) {
                continue;
            }
            tracker_entry entry;
            entry.url = url;
            auto parsed = parse_tracker_url(url);
            if (!parsed) {
                entry.unusable_reason = parsed.error().message();
            } else if (parsed->scheme == tracker_scheme::https) {
                entry.unusable_reason = "https trackers are not supported";
            } else {
                entry.parsed = std::move(*parsed);
            }
            indices.push_back(trackers_.size());
            trackers_.push_back(std::move(entry));
        }
        // BEP 12: the order within a tier is random (Fisher-Yates over our own generator, so a
        // seed gives the same order on every standard library).
        for (std::size_t i = indices.size(); i > 1; --i) {
            std::swap(indices[i - 1], indices[rng_.uniform(i)]);
        }
        if (!indices.empty()) {
            tiers_.push_back(std::move(indices));
        }
    }
}

std::vector<std::vector<std::string>> tracker_client::tiers() const {
    std::vector<std::vector<std::string>> out;
    for (const std::vector<std::size_t>& tier : tiers_) {
        std::vector<std::string> urls;
        for (std::size_t index : tier) {
            urls.push_back(trackers_[index].url);
        }
        out.push_back(std::move(urls));
    }
    return out;
}

// ---- commands

void tracker_client::start(time_point now, tracker_stats stats) {
    stats_ = stats;
    if (running_) {
        return;
    }
    running_ = true;
    completed_requested_ = false;
    completed_pending_ = false;
    failed_rounds_ = 0;
    begin_round(now);
}

void tracker_client::completed(time_point now, tracker_stats stats) {
    stats_ = stats;
    if (!running_ || completed_requested_) {
        return;
    }
    completed_requested_ = true;
    completed_pending_ = true;
    // With an announce under way, its success starts the next one at once.
    if (!has_exchange(exchange_kind::announce)) {
        begin_round(now);
    }
}

void tracker_client::stop(time_point now, tracker_stats stats) {
    stats_ = stats;
    if (!running_) {
        return;
    }
    running_ = false;
    next_announce_.reset();
    std::vector<std::uint64_t> announces;
    for (const exchange& ex : exchanges_) {
        if (ex.kind == exchange_kind::announce) {
            announces.push_back(ex.id);
        }
    }
    for (std::uint64_t id : announces) {
        close_exchange(id);
    }
    for (const std::vector<std::size_t>& tier : tiers_) {
        for (std::size_t index : tier) {
            if (trackers_[index].started_sent) {
                trackers_[index].started_sent = false;
                open_exchange(now, index, exchange_kind::stop, announce_event::stopped);
            }
        }
    }
}

void tracker_client::scrape(time_point now) {
    if (has_exchange(exchange_kind::scrape)) {
        return;
    }
    const auto target = scrape_target();
    if (!target) {
        push_event(scrape_failed{"", "no usable tracker"});
        return;
    }
    const tracker_entry& tracker = trackers_[*target];
    if (tracker.parsed->scheme == tracker_scheme::http && !scrape_url(tracker.parsed->target)) {
        push_event(scrape_failed{tracker.url,
                                 "the URL's last path component does not start with 'announce', so "
                                 "it has no scrape URL (BEP 48)"});
        return;
    }
    open_exchange(now, *target, exchange_kind::scrape, announce_event::none);
}

// ---- rounds of announces over the tiers

void tracker_client::begin_round(time_point now) {
    cursor_tier_ = 0;
    cursor_index_ = 0;
    next_announce_.reset();
    announce_from_cursor(now);
}

void tracker_client::announce_from_cursor(time_point now) {
    while (cursor_tier_ < tiers_.size()) {
        const std::vector<std::size_t>& tier = tiers_[cursor_tier_];
        if (cursor_index_ >= tier.size()) {
            ++cursor_tier_;
            cursor_index_ = 0;
            continue;
        }
        const std::size_t index = tier[cursor_index_];
        tracker_entry& tracker = trackers_[index];
        if (!tracker.parsed) {
            if (!tracker.unusable_reported) {
                tracker.unusable_reported = true;
                push_event(announce_failed{tracker.url, event_for(tracker), tracker.unusable_reason});
            }
            ++cursor_index_;
            continue;
        }
        open_exchange(now, index, exchange_kind::announce, event_for(tracker));
        return;
    }
    // Every tracker failed. With none usable, no retry could ever succeed.
    const bool any_usable = std::any_of(trackers_.begin(), trackers_.end(),
                                        [](const tracker_entry& t) { return t.parsed.has_value(); });
    if (any_usable) {
        ++failed_rounds_;
        next_announce_ = now + retry_delay();
    }
}

duration tracker_client::retry_delay() const {
    duration delay = config_.retry_delay_min;
    for (std::uint32_t round = 1; round < failed_rounds_ && delay < config_.retry_delay_max; ++round) {
        delay *= 2;
    }
    return std::min(delay, config_.retry_delay_max);
}

announce_event tracker_client::event_for(const tracker_entry& tracker) const {
    if (!tracker.started_sent) {
        return announce_event::started;
    }
    return completed_pending_ ? announce_event::completed : announce_event::none;
}

announce_request tracker_client::request_for(const tracker_entry& tracker, announce_event event) const {
    announce_request request;
    request.info_hash = info_hash_;
    request.peer_id = peer_id_;
    request.port = listen_port_;
    request.uploaded = stats_.uploaded;
    request.downloaded = stats_.downloaded;
    request.left = stats_.left;
    request.event = event;
    request.numwant = event == announce_event::stopped ? 0 : config_.numwant;
    request.key = key_;
    request.tracker_id = tracker.tracker_id;
    return request;
}

void tracker_client::promote(std::size_t tracker) {
    for (std::vector<std::size_t>& tier : tiers_) {
        const auto it = std::find(tier.begin(), tier.end(), tracker);
        if (it != tier.end()) {
            std::rotate(tier.begin(), it, it + 1);
            return;
        }
    }
}

std::optional<std::size_t> tracker_client::scrape_target() const {
    if (last_answered_) {
        return last_answered_;
    }
    for (const std::vector<std::size_t>& tier : tiers_) {
        for (std::size_t index : tier) {
            if (trackers_[index].parsed) {
                return index;
            }
        }
    }
    return std::nullopt;
}

// ---- exchanges

tracker_client::exchange* tracker_client::find_exchange(std::uint64_t id) {
    const auto it =
        std::find_if(exchanges_.begin(), exchanges_.end(), [&](const exchange& ex) { return ex.id == id; });
    return it == exchanges_.end() ? nullptr : &*it;
}

bool tracker_client::has_exchange(exchange_kind kind) const {
    return std::any_of(exchanges_.begin(), exchanges_.end(),
                       [&](const exchange& ex) { return ex.kind == kind; });
}

void tracker_client::open_exchange(time_point now, std::size_t tracker, exchange_kind kind,
                                   announce_event event) {
    exchange ex;
    ex.id = next_id_++;
    ex.tracker = tracker;
    ex.kind = kind;
    ex.event = event;
    const tracker_entry& entry = trackers_[tracker];
    if (entry.parsed->scheme == tracker_scheme::udp) {
        const bool connected =
            entry.connection_id && now < entry.connection_received + config_.udp_connection_id_lifetime;
        ex.step = connected ? udp_step::request : udp_step::connect;
        ex.transaction_id = static_cast<std::uint32_t>(rng_());
    }
    exchanges_.push_back(ex);
    send(now, exchanges_.back());
}

void tracker_client::send(time_point now, exchange& ex) {
    const tracker_entry& tracker = trackers_[ex.tracker];
    const tracker_url& url = *tracker.parsed;
    if (url.scheme == tracker_scheme::udp) {
        send_udp(now, ex);
        return;
    }
    std::string target = ex.kind == exchange_kind::scrape
                             ? scrape_request_url(*scrape_url(url.target), std::span(&info_hash_, 1))
                             : announce_url(url.target, request_for(tracker, ex.event));
    ex.deadline = now + config_.http_timeout;
    push_request(ex.id, http_get{url.host, url.port, std::move(target), url.host_header()});
}

void tracker_client::send_udp(time_point now, exchange& ex) {
    const tracker_entry& tracker = trackers_[ex.tracker];
    byte_buffer payload;
    if (ex.step == udp_step::connect) {
        payload = encode_udp_connect(ex.transaction_id);
    } else if (ex.kind == exchange_kind::scrape) {
        payload = *encode_udp_scrape(*tracker.connection_id, ex.transaction_id, std::span(&info_hash_, 1));
    } else {
        payload =
            encode_udp_announce(*tracker.connection_id, ex.transaction_id, request_for(tracker, ex.event));
    }
    ex.deadline = now + config_.udp_retransmit_base * (std::int64_t{1} << ex.attempt);
    push_request(ex.id, udp_datagram{tracker.parsed->host, tracker.parsed->port, std::move(payload)});
}

void tracker_client::retransmit(time_point now, std::uint64_t id) {
    exchange* ex = find_exchange(id);
    // A stop is one best-effort attempt; the others follow BEP 15's schedule.
    const int attempts_max = ex->kind == exchange_kind::stop ? 0 : config_.udp_retransmits_max;
    if (ex->attempt >= attempts_max) {
        exchange_failed(now, id,
                        "no answer from the UDP tracker after " + std::to_string(ex->attempt + 1) +
                            (ex->attempt == 0 ? " attempt" : " attempts"));
        return;
    }
    ++ex->attempt;
    const tracker_entry& tracker = trackers_[ex->tracker];
    if (ex->step == udp_step::request &&
        !(tracker.connection_id && now < tracker.connection_received + config_.udp_connection_id_lifetime)) {
        ex->step = udp_step::connect;
        ex->transaction_id = static_cast<std::uint32_t>(rng_());
    }
    send_udp(now, *ex);
}

void tracker_client::close_exchange(std::uint64_t id) {
    std::erase_if(exchanges_, [&](const exchange& ex) { return ex.id == id; });
    push_request(id, request_release{});
}

void tracker_client::exchange_failed(time_point now, std::uint64_t id, std::string reason) {
    const exchange ex = *find_exchange(id);
    close_exchange(id);
    tracker_entry& tracker = trackers_[ex.tracker];
    // A connection id the tracker may no longer honour is not worth keeping.
    tracker.connection_id.reset();
    switch (ex.kind) {
        case exchange_kind::announce:
            push_event(announce_failed{tracker.url, ex.event, std::move(reason)});
            ++cursor_index_;
            announce_from_cursor(now);
            break;
        case exchange_kind::scrape:
            push_event(scrape_failed{tracker.url, std::move(reason)});
            break;
        case exchange_kind::stop:
            push_event(announce_failed{tracker.url, announce_event::stopped, std::move(reason)});
            break;
    }
}

void tracker_client::announce_answered(time_point now, std::uint64_t id, const announce_response& response) {
    const exchange ex = *find_exchange(id);
    close_exchange(id);
    tracker_entry& tracker = trackers_[ex.tracker];
    if (!response.tracker_id.empty()) {
        tracker.tracker_id = response.tracker_id;
    }
    if (ex.kind == exchange_kind::stop) {
        push_event(announce_succeeded{tracker.url, ex.event, duration::zero(), response.complete,
                                      response.incomplete, response.warning_message});
        return;
    }
    tracker.started_sent = true;
    if (ex.event == announce_event::completed) {
        completed_pending_ = false;
    }
    failed_rounds_ = 0;
    last_answered_ = ex.tracker;
    promote(ex.tracker);
    duration delay = response.interval.value_or(
        std::chrono::duration_cast<std::chrono::seconds>(config_.interval_default));
    if (response.min_interval) {
        delay = std::max<duration>(delay, *response.min_interval);
    }
    delay = std::clamp(delay, config_.interval_min, config_.interval_max);
    push_event(announce_succeeded{tracker.url, ex.event, delay, response.complete, response.incomplete,
                                  response.warning_message});
    if (!response.peers.empty()) {
        push_event(peers_found{tracker.url, response.peers});
    }
    if (completed_pending_) {
        begin_round(now);  // completed() came while this announce was under way
    } else {
        next_announce_ = now + delay;
    }
}

void tracker_client::scrape_answered(std::uint64_t id, const std::vector<scrape_entry>& files) {
    const exchange ex = *find_exchange(id);
    close_exchange(id);
    const std::string& url = trackers_[ex.tracker].url;
    const auto entry = std::find_if(files.begin(), files.end(),
                                    [&](const scrape_entry& file) { return file.info_hash == info_hash_; });
    if (entry == files.end()) {
        push_event(scrape_failed{url, "the tracker has no entry for this torrent"});
        return;
    }
    push_event(scrape_result{url, entry->complete, entry->downloaded, entry->incomplete});
}

// ---- inputs

void tracker_client::on_timer(time_point now) {
    std::vector<std::uint64_t> expired;
    for (const exchange& ex : exchanges_) {
        if (ex.deadline <= now) {
            expired.push_back(ex.id);
        }
    }
    for (std::uint64_t id : expired) {
        const exchange* ex = find_exchange(id);
        if (ex == nullptr) {
            continue;
        }
        if (trackers_[ex->tracker].parsed->scheme == tracker_scheme::udp) {
            retransmit(now, id);
        } else {
            exchange_failed(now, id, "no HTTP response within " + seconds_text(config_.http_timeout));
        }
    }
    if (running_ && next_announce_ && *next_announce_ <= now && !has_exchange(exchange_kind::announce)) {
        begin_round(now);
    }
}

void tracker_client::on_http_response(time_point now, std::uint64_t request_id, int status, byte_view body) {
    const exchange* ex = find_exchange(request_id);
    if (ex == nullptr || trackers_[ex->tracker].parsed->scheme != tracker_scheme::http) {
        return;
    }
    if (status != 200) {
        // Some trackers send their 'failure reason' with an error status: it says more.
        std::string reason = "HTTP status " + std::to_string(status);
        auto refusal = parse_announce_response(body, config_.announce);
        if (!refusal && refusal.error().where.ends_with("failure reason")) {
            reason += ": " + refusal.error().what;
        }
        exchange_failed(now, request_id, std::move(reason));
        return;
    }
    if (ex->kind == exchange_kind::scrape) {
        auto response = parse_scrape_response(body, config_.scrape);
        if (!response) {
            exchange_failed(now, request_id, response.error().message());
            return;
        }
        scrape_answered(request_id, response->files);
        return;
    }
    auto response = parse_announce_response(body, config_.announce);
    if (!response) {
        exchange_failed(now, request_id, response.error().message());
        return;
    }
    announce_answered(now, request_id, *response);
}

void tracker_client::on_udp_datagram(time_point now, std::uint64_t request_id, byte_view datagram) {
    exchange* ex = find_exchange(request_id);
    if (ex == nullptr || trackers_[ex->tracker].parsed->scheme != tracker_scheme::udp) {
        return;
    }
    tracker_entry& tracker = trackers_[ex->tracker];
    udp_tracker_limits limits;
    limits.peers_max = config_.udp_peers_max;
    // Over IPv6 the peers are 18 bytes. A DNS name is assumed to resolve to IPv4.
    limits.ipv6_peers = tracker.parsed->host.find(':') != std::string::npos;
    auto response = decode_udp_tracker_response(datagram, limits);
    // Anyone can send a datagram: only a well-formed one with our transaction id counts.
    if (!response || transaction_id_of(*response) != ex->transaction_id) {
        return;
    }
    const udp_tracker_action action = action_of(*response);
    if (action == udp_tracker_action::error) {
        exchange_failed(now, request_id, "tracker error: " + std::get<udp_error_response>(*response).message);
        return;
    }
    if (ex->step == udp_step::connect) {
        if (action != udp_tracker_action::connect) {
            return;
        }
        tracker.connection_id = std::get<udp_connect_response>(*response).connection_id;
        tracker.connection_received = now;
        ex->step = udp_step::request;
        ex->attempt = 0;
        ex->transaction_id = static_cast<std::uint32_t>(rng_());
        send_udp(now, *ex);
        return;
    }
    if (ex->kind == exchange_kind::scrape) {
        if (action != udp_tracker_action::scrape) {
            return;
        }
        const auto& entries = std::get<udp_scrape_response>(*response).entries;
        std::vector<scrape_entry> files;
        if (!entries.empty()) {
            files.push_back(
                scrape_entry{info_hash_, entries[0].seeders, entries[0].completed, entries[0].leechers});
        }
        scrape_answered(request_id, files);
        return;
    }
    if (action != udp_tracker_action::announce) {
        return;
    }
    auto& udp = std::get<udp_announce_response>(*response);
    announce_response answer;
    answer.interval = udp.interval;
    answer.complete = udp.seeders;
    answer.incomplete = udp.leechers;
    answer.peers = std::move(udp.peers);
    announce_answered(now, request_id, answer);
}

void tracker_client::on_request_failed(time_point now, std::uint64_t request_id, std::string reason) {
    if (find_exchange(request_id) != nullptr) {
        exchange_failed(now, request_id, std::move(reason));
    }
}

// ---- outputs

void tracker_client::push_request(std::uint64_t id,
                                  std::variant<http_get, udp_datagram, request_release> action) {
    if (requests_.size() >= config_.requests_queued_max) {
        return;  // the exchange times out like a lost packet
    }
    requests_.push_back(tracker_request{id, std::move(action)});
}

void tracker_client::push_event(tracker_event event) {
    if (events_.size() >= config_.events_queued_max) {
        events_.pop_front();
    }
    events_.push_back(std::move(event));
}

std::optional<tracker_request> tracker_client::poll_request() {
    if (requests_.empty()) {
        return std::nullopt;
    }
    tracker_request request = std::move(requests_.front());
    requests_.pop_front();
    return request;
}

std::optional<tracker_event> tracker_client::poll_event() {
    if (events_.empty()) {
        return std::nullopt;
    }
    tracker_event event = std::move(events_.front());
    events_.pop_front();
    return event;
}

std::optional<time_point> tracker_client::next_timer() const {
    std::optional<time_point> earliest;
    for (const exchange& ex : exchanges_) {
        if (!earliest || ex.deadline < *earliest) {
            earliest = ex.deadline;
        }
    }
    if (running_ && next_announce_ && !has_exchange(exchange_kind::announce) &&
        (!earliest || *next_announce_ < *earliest)) {
        earliest = next_announce_;
    }
    return earliest;
}

}  // namespace hyphae::tracker
