#include "hyphae/proto/tracker/tracker_server.hpp"

#include <algorithm>

#include "hyphae/core/http/http_format.hpp"
#include "hyphae/proto/tracker/tracker_reply.hpp"
#include "hyphae/proto/tracker/udp_tracker_codec.hpp"

namespace hyphae::tracker {
namespace {

// The table's clock starts here, so that times restored from a state file (now - age) and
// connection ids (now - lifetime) never go below zero.
constexpr std::uint32_t clock_origin = 1u << 24;
constexpr std::string_view unregistered = "unregistered torrent";

std::uint32_t whole_seconds(duration d) {
    return static_cast<std::uint32_t>(std::clamp<std::int64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(d).count(), 0, clock_origin));
}

endpoint unmapped(const endpoint& ep) {
    return endpoint{ep.address.unmapped(), ep.port};
}

// The last address of a forwarding header ("client, proxy1, proxy2" -> proxy2's client is the one
// our own proxy saw): the only entry that proxy vouches for.
std::optional<ip_address> forwarded_address(std::string_view value) {
    const std::size_t comma = value.rfind(',');
    std::string_view last = comma == std::string_view::npos ? value : value.substr(comma + 1);
    const std::size_t first = last.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return std::nullopt;
    }
    last = last.substr(first, last.find_last_not_of(" \t") + 1 - first);
    return ip_address::parse(last);
}

// The request lines the tracker answers; others are another service's (or nobody's).
constexpr std::string_view request_lines[] = {"GET /announce", "GET /scrape", "GET /stats", "GET /metrics"};

}  // namespace

tracker_server::tracker_server(const tracker_config& config, std::uint64_t seed, time_point now)
    : config_(config),
      started_(now),
      random_(seed),
      hash_(random_),
      table_(config.limits, hash_),
      connection_ids_(keyed_hash(random_), whole_seconds(config.connection_id_lifetime)),
      rate_limiter_(config.rate_per_address, config.burst_per_address, config.rate_limited_addresses_max,
                    hash_),
      next_tick_(now + std::chrono::seconds(1)) {
    config_.expire_intervals = std::max(config_.expire_intervals, 1u);
    table_.set_creation_filter([this](const sha1_hash& h) { return allowed(h); });
}

std::uint32_t tracker_server::clock(time_point now) const {
    return clock_origin + static_cast<std::uint32_t>(
                              std::chrono::duration_cast<std::chrono::seconds>(now - started_).count());
}

std::uint32_t tracker_server::peer_ttl() const {
    return std::min<std::uint32_t>(clock_origin, whole_seconds(config_.interval) * config_.expire_intervals);
}

bool tracker_server::allowed(const sha1_hash& info_hash) const {
    return !allow_list_ || std::binary_search(allow_list_->begin(), allow_list_->end(), info_hash);
}

std::size_t tracker_server::numwant(std::optional<std::int64_t> asked) const {
    if (!asked || *asked < 0) {
        return std::min(config_.numwant_default, config_.numwant_max);
    }
    return std::min(static_cast<std::size_t>(*asked), config_.numwant_max);
}

tracker_server::announce_answer tracker_server::announce(time_point now, const peer_announce& a) {
    announce_outcome outcome = table_.announce(clock(now), a, peer_ttl(), random_);
    if (outcome.refused) {
        ++counters_.unknown_torrents;
        ++counters_.announce_failures;
        return {std::string(unregistered), {}};
    }
    return {std::nullopt, outcome};
}

// Claims

bool tracker_server::claims_datagram(byte_view bytes) const {
    const auto header = read_udp_request_header(bytes);
    if (!header) {
        return false;
    }
    if (header->connection_id == udp_tracker_protocol_id) {
        return header->action == static_cast<std::uint32_t>(udp_tracker_action::connect);
    }
    return connection_ids::has_our_mark(header->connection_id);
}

claim tracker_server::claims_stream(byte_view first_bytes) const {
    if (config_.claims_every_connection) {
        return claim::yes;
    }
    const std::string_view seen = as_chars(first_bytes);
    for (const std::string_view line : request_lines) {
        if (seen.size() < line.size() ? line.starts_with(seen) : seen.starts_with(line)) {
            return seen.size() < line.size() ? claim::need_more : claim::yes;
        }
    }
    return claim::no;
}

// UDP

void tracker_server::on_datagram(time_point now, const endpoint& source, byte_view bytes) {
    ++counters_.udp_datagrams;
    const endpoint from = unmapped(source);
    const auto header = read_udp_request_header(bytes);
    if (!header) {
        ++counters_.udp_malformed;
        notice(from, true, "datagram of " + std::to_string(bytes.size()) + " bytes is too short");
        return;
    }
    if (header->action == static_cast<std::uint32_t>(udp_tracker_action::connect)) {
        if (header->connection_id != udp_tracker_protocol_id) {
            ++counters_.udp_malformed;
            notice(from, true, "connect without the BEP 15 protocol id");
            return;
        }
        if (!rate_limiter_.allow(now, from.address)) {
            ++counters_.rate_limited;
            return;
        }
        ++counters_.udp_connects;
        push_datagram(source, encode_udp_connect_response(header->transaction_id,
                                                          connection_ids_.issue(clock(now), from)));
        return;
    }
    if (!connection_ids_.valid(clock(now), from, header->connection_id)) {
        ++counters_.udp_bad_connection_ids;
        reply_udp_error(source, header->transaction_id, "connection id expired or invalid", bytes.size());
        return;
    }
    if (!rate_limiter_.allow(now, from.address)) {
        ++counters_.rate_limited;
        return;
    }
    on_udp_request(now, source, from, bytes, *header);
}

// Replies go to `source` as the runtime gave it; `from` (IPv4-mapped addresses unmapped) is who asked.
void tracker_server::on_udp_request(time_point now, const endpoint& source, const endpoint& from,
                                    byte_view bytes, const udp_request_header& header) {
    switch (header.action) {
        case static_cast<std::uint32_t>(udp_tracker_action::announce): {
            auto fields = decode_udp_announce_request(bytes);
            if (!fields) {
                ++counters_.udp_malformed;
                reply_udp_error(source, header.transaction_id, fields.error().message(), bytes.size());
                return;
            }
            const announce_request& r = fields->request;
            if (r.port == 0) {
                ++counters_.announce_failures;
                reply_udp_error(source, header.transaction_id, "announce: port 0", bytes.size());
                return;
            }
            peer_announce a;
            a.info_hash = r.info_hash;
            a.peer_id = r.peer_id;
            a.address = endpoint{from.address, r.port};
            if (config_.trust_ip_param && fields->ip != 0 && from.address.is_v4()) {
                a.address.address = ip_address::v4(fields->ip);
            }
            a.seeder = r.left == 0;
            a.event = r.event;
            a.numwant = numwant(r.numwant);
            const announce_answer answer = announce(now, a);
            if (answer.failure) {
                reply_udp_error(source, header.transaction_id, *answer.failure, bytes.size());
                return;
            }
            ++counters_.udp_announces;
            const swarm_counts& c = answer.outcome.counts;
            push_datagram(source,
                          encode_udp_announce_response(
                              header.transaction_id, std::chrono::seconds(whole_seconds(config_.interval)),
                              c.leechers, c.seeders, answer.outcome.peers, from.address.is_v6()));
            return;
        }
        case static_cast<std::uint32_t>(udp_tracker_action::scrape): {
            auto hashes = decode_udp_scrape_request(bytes);
            if (!hashes) {
                ++counters_.udp_malformed;
                reply_udp_error(source, header.transaction_id, hashes.error().message(), bytes.size());
                return;
            }
            std::vector<udp_scrape_entry> entries;
            entries.reserve(hashes->size());
            for (const sha1_hash& h : *hashes) {
                const swarm_counts c = table_.counts(h);  // the table holds allowed swarms only
                entries.push_back({c.seeders, c.completed, c.leechers});
            }
            ++counters_.udp_scrapes;
            push_datagram(source, encode_udp_scrape_response(header.transaction_id, entries));
            return;
        }
        default:
            ++counters_.udp_malformed;
            reply_udp_error(source, header.transaction_id, "unknown action " + std::to_string(header.action),
                            bytes.size());
    }
}

void tracker_server::reply_udp_error(const endpoint& to, std::uint32_t transaction_id,
                                     std::string_view message, std::size_t request_size) {
    notice(to, true, std::string(message));
    // Never larger than what came in: the source may be forged.
    if (request_size <= 8) {
        return;
    }
    message = message.substr(0, request_size - 8);
    ++counters_.udp_errors_sent;
    push_datagram(to, encode_udp_error_response(transaction_id, message));
}

// HTTP

void tracker_server::on_accepted(time_point now, conn_id conn, const endpoint& from) {
    if (sessions_.size() >= config_.http_connections_max) {
        ++counters_.http_connections_refused;
        close(conn, "too many connections");
        notice(from, false, "connection refused: " + std::to_string(sessions_.size()) + " open");
        return;
    }
    ++counters_.http_connections;
    sessions_.try_emplace(conn, http_session{unmapped(from), http::http_request_parser(config_.http), now});
}

void tracker_server::on_closed(time_point, conn_id conn, std::string_view) {
    sessions_.erase(conn);
}

void tracker_server::on_stream_bytes(time_point now, conn_id conn, byte_view bytes) {
    auto it = sessions_.find(conn);
    if (it == sessions_.end()) {
        return;
    }
    http_session& session = it->second;
    session.last_active = now;
    const result<void> fed = session.parser.feed(bytes);
    bool open = true;
    while (open) {
        auto request = session.parser.poll_request();
        if (!request) {
            break;
        }
        open = on_http_request(now, conn, session, *request);
    }
    if (open && !fed) {
        ++counters_.http_malformed;
        notice(session.from, false, fed.error().message());
        write(conn, 400, "Bad Request", "text/plain", fed.error().message() + "\n", true);
        open = false;
    }
    if (!open) {
        sessions_.erase(conn);
    }
}

bool tracker_server::on_http_request(time_point now, conn_id conn, http_session& session,
                                     http::http_request& request) {
    ++counters_.http_requests;
    endpoint from = session.from;
    if (!config_.ip_header.empty()) {
        if (auto header = request.headers.find(config_.ip_header)) {
            if (auto address = forwarded_address(*header)) {
                from.address = address->unmapped();
            }
        }
    }
    const bool close_after = !request.keep_alive;
    if (!rate_limiter_.allow(now, from.address)) {
        ++counters_.rate_limited;
        write(conn, 429, "Too Many Requests", "text/plain", "rate limited\n", true);
        return false;
    }
    if (request.method != "GET") {
        return write(conn, 405, "Method Not Allowed", "text/plain", "only GET\n", close_after) &&
               !close_after;
    }
    const request_target target = split_target(request.target);
    std::string body;
    std::string_view content_type = "text/plain";
    if (target.path == "/announce") {
        body = http_announce(now, from, target.query);
    } else if (target.path == "/scrape") {
        body = http_scrape(from, target.query);
    } else if (target.path == "/stats") {
        body = format_stats_json(figures(now));
        content_type = "application/json";
    } else if (target.path == "/metrics") {
        body = format_metrics(figures(now));
        content_type = "text/plain; version=0.0.4";
    } else {
        ++counters_.http_not_found;
        return write(conn, 404, "Not Found", "text/plain", "not found\n", close_after) && !close_after;
    }
    return write(conn, 200, "OK", content_type, body, close_after) && !close_after;
}

std::string tracker_server::http_announce(time_point now, const endpoint& from, std::string_view query) {
    auto q = parse_announce_query(query, config_.query);
    if (!q) {
        ++counters_.announce_failures;
        notice(from, false, q.error().message());
        return format_failure_reply(q.error().message());
    }
    peer_announce a;
    a.info_hash = q->info_hash;
    a.peer_id = q->peer_id;
    a.address = endpoint{from.address, q->port};
    if (config_.trust_ip_param && q->ip) {
        a.address.address = q->ip->unmapped();
    }
    a.seeder = q->left && *q->left == 0;
    a.event = q->event;
    a.numwant = numwant(q->numwant);
    a.both_families = true;
    const announce_answer answer = announce(now, a);
    if (answer.failure) {
        notice(from, false, "announce: " + *answer.failure);
        return format_failure_reply(*answer.failure);
    }
    ++counters_.http_announces;
    announce_reply reply;
    reply.interval = std::chrono::seconds(whole_seconds(config_.interval));
    reply.min_interval = std::chrono::seconds(whole_seconds(config_.min_interval));
    reply.complete = answer.outcome.counts.seeders;
    reply.incomplete = answer.outcome.counts.leechers;
    reply.downloaded = answer.outcome.counts.completed;
    reply.peers = answer.outcome.peers;
    reply.compact = q->compact;
    return format_announce_reply(reply);
}

std::string tracker_server::http_scrape(const endpoint& from, std::string_view query) {
    auto hashes = parse_scrape_query(query, config_.query);
    if (hashes && hashes->empty()) {
        hashes = fail(errc::unsupported, "scrape", "full scrape is not supported: name info_hash values");
    }
    if (!hashes) {
        ++counters_.announce_failures;
        notice(from, false, hashes.error().message());
        return format_failure_reply(hashes.error().message());
    }
    std::sort(hashes->begin(), hashes->end());
    hashes->erase(std::unique(hashes->begin(), hashes->end()), hashes->end());
    std::vector<scrape_entry> files;
    files.reserve(hashes->size());
    for (const sha1_hash& h : *hashes) {
        const swarm_counts c = table_.counts(h);  // the table holds allowed swarms only
        files.push_back({h, c.seeders, c.completed, c.leechers});
    }
    ++counters_.http_scrapes;
    return format_scrape_reply(files);
}

bool tracker_server::write(conn_id conn, int status, std::string_view reason, std::string_view content_type,
                           std::string_view body, bool close_after) {
    std::vector<http::http_header> headers{{"Content-Type", std::string(content_type)}};
    if (close_after) {
        headers.push_back({"Connection", "close"});
    }
    auto bytes = http::format_response(status, reason, headers, body);
    if (!bytes || transmits_.size() >= config_.transmits_queued_max) {
        ++counters_.replies_dropped;
        // Dropping an HTTP answer would leave the client waiting: its connection goes instead.
        close(conn, "answer dropped");
        return false;
    }
    std::vector<out_buffer> data;
    data.push_back(make_out_buffer(*bytes));
    transmits_.push(io::send{conn, std::move(data)});
    if (close_after) {
        transmits_.push(io::close{conn, "answered", true});
    }
    return true;
}

// Both

void tracker_server::push_datagram(const endpoint& to, byte_buffer bytes) {
    if (transmits_.size() >= config_.transmits_queued_max) {
        ++counters_.replies_dropped;
        return;
    }
    transmits_.push(io::datagram{to, std::move(bytes)});
}

void tracker_server::close(conn_id conn, std::string reason) {
    // Closes are never dropped: each ends a connection, and there are at most as many as those.
    transmits_.push(io::close{conn, std::move(reason), false});
}

void tracker_server::notice(const endpoint& from, bool udp, std::string text) {
    if (!config_.report_refusals) {
        return;
    }
    if (events_.size() >= config_.events_queued_max) {
        events_.pop();
    }
    events_.push(tracker_notice{from, udp, std::move(text)});
}

void tracker_server::on_timer(time_point now) {
    if (!next_tick_ || now < *next_tick_) {
        return;
    }
    next_tick_ = now + std::chrono::seconds(1);
    ++ticks_;
    const std::size_t ticks_per_sweep = std::max<std::size_t>(1, whole_seconds(config_.sweep_period));
    const std::size_t buckets = (table_.bucket_count() + ticks_per_sweep - 1) / ticks_per_sweep;
    table_.sweep(clock(now), peer_ttl(), whole_seconds(config_.swarm_idle_max), buckets);
    if (ticks_ % 10 == 0) {
        rate_limiter_.prune(now);
    }
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        if (now - it->second.last_active > config_.http_idle_timeout) {
            ++counters_.http_connections_timed_out;
            close(it->first, "idle");
            notice(it->second.from, false, "connection closed: idle");
            it = sessions_.erase(it);
        } else {
            ++it;
        }
    }
}

std::size_t tracker_server::set_allow_list(time_point, std::optional<std::vector<sha1_hash>> allowed_hashes) {
    if (allowed_hashes) {
        std::sort(allowed_hashes->begin(), allowed_hashes->end());
        allowed_hashes->erase(std::unique(allowed_hashes->begin(), allowed_hashes->end()),
                              allowed_hashes->end());
    }
    allow_list_ = std::move(allowed_hashes);
    if (!allow_list_) {
        return 0;
    }
    return table_.erase_swarms_unless([this](const sha1_hash& h) { return allowed(h); });
}

byte_buffer tracker_server::export_state(time_point now, std::int64_t wall_seconds) const {
    return encode_tracker_state(table_, clock(now), wall_seconds);
}

result<tracker_state_summary> tracker_server::import_state(time_point now, std::int64_t wall_seconds,
                                                           byte_view file) {
    return restore_tracker_state(file, table_, clock(now), wall_seconds, peer_ttl(),
                                 whole_seconds(config_.swarm_idle_max),
                                 [this](const sha1_hash& h) { return allowed(h); });
}

tracker_figures tracker_server::figures(time_point now) const {
    tracker_figures f;
    f.counters = counters_;
    f.swarms = table_.swarms();
    f.peers = table_.peers();
    f.seeders = table_.seeders();
    f.leechers = table_.leechers();
    f.completed = table_.completed_total();
    f.memory_bytes = table_.memory_bytes();
    f.resident_bytes = resident_bytes_;
    f.uptime_seconds = static_cast<std::uint64_t>(
        std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(now - started_).count()));
    f.allow_list_enabled = allow_list_ ? 1 : 0;
    f.allowed_info_hashes = allow_list_ ? allow_list_->size() : 0;
    f.http_connections_open = sessions_.size();
    f.rate_limited_addresses = rate_limiter_.addresses();
    const swarm_table_counters& t = table_.counters();
    f.peers_expired = t.peers_expired;
    f.peers_evicted = t.peers_evicted;
    f.swarms_expired = t.swarms_expired;
    f.swarms_evicted = t.swarms_evicted;
    return f;
}

}  // namespace hyphae::tracker
