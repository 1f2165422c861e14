#include "hyphae/proto/dht/routing_table.hpp"

#include <algorithm>
#include <limits>
#include <tuple>

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/bencode_writer.hpp"

namespace hyphae::dht {
namespace {

constexpr std::size_t id_bits = node_id::size * 8;

std::uint8_t narrow(std::size_t value, std::size_t low, std::size_t high) {
    return static_cast<std::uint8_t>(std::clamp(value, low, high));
}

std::uint32_t whole_seconds(duration d) {
    const auto s = std::chrono::duration_cast<seconds>(d).count();
    return static_cast<std::uint32_t>(
        std::clamp<std::int64_t>(s, 1, std::numeric_limits<std::uint32_t>::max()));
}

bool bit_of(const node_id& id, std::size_t bit) {
    return ((id.bytes[bit / 8] >> (7 - bit % 8)) & 1) != 0;
}

void set_bit(node_id& id, std::size_t bit, bool value) {
    const auto mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
    id.bytes[bit / 8] =
        static_cast<std::uint8_t>(value ? id.bytes[bit / 8] | mask : id.bytes[bit / 8] & ~mask);
}

}  // namespace

bool is_local_address(const ip_address& address) {
    const ip_address a = address.unmapped();
    const byte_view b = a.bytes();
    if (a.is_v4()) {
        return b[0] == 10 || b[0] == 127 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
               (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254);
    }
    return a.is_loopback() || (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

bool same_ip_prefix(const ip_address& a, const ip_address& b) {
    if (a.is_v4() != b.is_v4()) {
        return false;
    }
    const std::size_t prefix = a.is_v4() ? 3 : 8;
    return std::equal(a.bytes().begin(), a.bytes().begin() + prefix, b.bytes().begin());
}

routing_table::routing_table(const node_id& self, const routing_table_config& config, time_point now)
    : self_(self),
      limits_{narrow(config.bucket_size, 1, 255),
              narrow(config.replacements_max, 0, 255),
              narrow(config.buckets_max, 1, id_bits),
              narrow(config.fail_limit, 1, 255),
              whole_seconds(config.questionable_after),
              whole_seconds(config.refresh_interval),
              config.restrict_ips,
              config.prefer_verified,
              config.require_verified,
              config.prefer_long_lived},
      epoch_(now) {
    buckets_.reserve(1);
    buckets_.emplace_back();
}

std::uint32_t routing_table::seconds_of(time_point now) const {
    if (now <= epoch_) {
        return 0;
    }
    const auto s = std::chrono::duration_cast<seconds>(now - epoch_).count();
    return static_cast<std::uint32_t>(std::min<std::int64_t>(s, std::numeric_limits<std::uint32_t>::max()));
}

bool routing_table::is_bad(const entry& e) const {
    // A contact that never answered has shown nothing worth a second try.
    return e.fails >= limits_.fail_limit || (!has(e, flag_confirmed) && e.fails > 0);
}

bool routing_table::is_good(const entry& e, std::uint32_t now_s) const {
    const std::uint32_t idle = now_s >= e.last_active ? now_s - e.last_active : 0;
    return has(e, flag_confirmed) && e.fails == 0 && idle < limits_.questionable_after_s;
}

node_state routing_table::state_of(const entry& e, std::uint32_t now_s) const {
    if (is_bad(e)) {
        return node_state::bad;
    }
    return is_good(e, now_s) ? node_state::good : node_state::questionable;
}

node_info routing_table::info_of(const entry& e, std::size_t bi, bool replacement,
                                 std::uint32_t now_s) const {
    node_info info;
    info.contact = {e.id, e.ep};
    info.state = state_of(e, now_s);
    info.confirmed = has(e, flag_confirmed);
    info.verified = has(e, flag_verified);
    info.ping_pending = has(e, flag_ping_pending);
    info.replacement = replacement;
    info.fails = e.fails;
    if (e.rtt_ms != rtt_unknown) {
        info.rtt = milliseconds(e.rtt_ms);
    }
    info.last_active = epoch_ + seconds(e.last_active);
    info.bucket = bi;
    return info;
}

std::size_t routing_table::bucket_of(const node_id& id) const {
    const auto shared = static_cast<std::size_t>(common_prefix_bits(self_, id));
    return std::min(shared, buckets_.size() - 1);
}

routing_table::entry& routing_table::at(const location& loc) {
    bucket& b = buckets_[loc.bucket];
    return loc.live ? b.live[loc.index] : b.replacements[loc.index];
}

const routing_table::entry& routing_table::at(const location& loc) const {
    const bucket& b = buckets_[loc.bucket];
    return loc.live ? b.live[loc.index] : b.replacements[loc.index];
}

std::optional<routing_table::location> routing_table::locate(const node_id& id) const {
    const std::size_t bi = bucket_of(id);
    const bucket& b = buckets_[bi];
    for (std::size_t i = 0; i < b.live.size(); ++i) {
        if (b.live[i].id == id) {
            return location{bi, i, true};
        }
    }
    for (std::size_t i = 0; i < b.replacements.size(); ++i) {
        if (b.replacements[i].id == id) {
            return location{bi, i, false};
        }
    }
    return std::nullopt;
}

std::optional<routing_table::location> routing_table::locate_endpoint(const endpoint& ep) const {
    for (std::size_t bi = 0; bi < buckets_.size(); ++bi) {
        const bucket& b = buckets_[bi];
        for (std::size_t i = 0; i < b.live.size(); ++i) {
            if (b.live[i].ep.port == ep.port && b.live[i].ep == ep) {
                return location{bi, i, true};
            }
        }
        for (std::size_t i = 0; i < b.replacements.size(); ++i) {
            if (b.replacements[i].ep.port == ep.port && b.replacements[i].ep == ep) {
                return location{bi, i, false};
            }
        }
    }
    return std::nullopt;
}

void routing_table::erase(const location& loc) {
    auto& list = loc.live ? buckets_[loc.bucket].live : buckets_[loc.bucket].replacements;
    list.erase(list.begin() + static_cast<std::ptrdiff_t>(loc.index));
}

placement routing_table::heard_response(time_point now, const node_contact& contact, duration rtt,
                                        bool verified) {
    return observe(now, contact, verified, source::response, rtt);
}

placement routing_table::heard_query(time_point now, const node_contact& contact, bool verified) {
    return observe(now, contact, verified, source::query, {});
}

placement routing_table::heard_of(time_point now, const node_contact& contact, bool verified) {
    return observe(now, contact, verified, source::hearsay, {});
}

void routing_table::touch(entry& e, std::uint32_t now_s, bool verified, source from, duration rtt) const {
    if (verified) {
        e.flags |= flag_verified;  // a function of (id, address): true once is true for this endpoint
    }
    if (from == source::response) {
        const auto ms = std::chrono::duration_cast<milliseconds>(rtt).count();
        const auto sample = static_cast<std::uint16_t>(std::clamp<std::int64_t>(ms, 0, rtt_unknown - 1));
        e.rtt_ms =
            e.rtt_ms == rtt_unknown ? sample : static_cast<std::uint16_t>((3u * e.rtt_ms + sample) / 4);
        e.flags = static_cast<std::uint8_t>((e.flags | flag_confirmed) & ~flag_ping_pending);
        e.fails = 0;
        e.last_active = now_s;
    } else if (from == source::query || !has(e, flag_confirmed)) {
        e.last_active = now_s;
    }
}

placement routing_table::observe(time_point now, const node_contact& contact, bool verified, source from,
                                 duration rtt) {
    if (contact.id == self_ || contact.ep.port == 0 || contact.ep.address.is_unspecified()) {
        return placement::refused;
    }
    if (limits_.require_verified && !verified && !is_local_address(contact.ep.address)) {
        ++counters_.refused_unverified;
        return placement::refused;
    }
    const std::uint32_t now_s = seconds_of(now);
    const auto known = locate(contact.id);
    if (known && at(*known).ep == contact.ep) {
        entry& e = at(*known);
        touch(e, now_s, verified, from, rtt);
        if (known->live) {
            if (from == source::response) {
                buckets_[known->bucket].last_active = now_s;
            }
            return placement::live;
        }
        // A waiting replacement heard again may now win a live slot.
        const entry carried = e;
        erase(*known);
        return insert(now_s, carried, from == source::response);
    }
    // Only an answer from the endpoint we queried may overwrite, and never a good entry.
    auto may_overwrite = [&](const entry& old) {
        return is_bad(old) || (from == source::response && !is_good(old, now_s));
    };
    const auto other = locate_endpoint(contact.ep);
    if ((known && !may_overwrite(at(*known))) || (other && !may_overwrite(at(*other)))) {
        ++counters_.refused_hijack;
        return placement::refused;
    }
    std::optional<std::size_t> emptied[2];
    if (other) {
        emptied[0] = other->live ? std::optional(other->bucket) : std::nullopt;
        erase(*other);
    }
    if (known) {
        // Located again: erasing `other` may have moved it.
        const auto again = locate(contact.id);
        emptied[1] = again->live ? std::optional(again->bucket) : std::nullopt;
        erase(*again);
    }
    entry fresh{contact.id, contact.ep};
    touch(fresh, now_s, verified, from, rtt);
    fresh.last_active = now_s;
    const placement placed = insert(now_s, fresh, from == source::response);
    for (const auto& bi : emptied) {
        if (bi) {
            fill_from_cache(buckets_[*bi]);
        }
    }
    return placed;
}

bool routing_table::make_room_for_ip(bucket& b, const entry& e) const {
    if (!limits_.restrict_ips || is_local_address(e.ep.address)) {
        return true;
    }
    auto conflicts = [&](const entry& other) {
        return same_ip_prefix(other.ep.address, e.ep.address);
    };
    auto blocks = [&](const entry& other) {
        return conflicts(other) && !is_bad(other);
    };
    if (std::any_of(b.live.begin(), b.live.end(), blocks) ||
        std::any_of(b.replacements.begin(), b.replacements.end(), blocks)) {
        return false;
    }
    // Bad entries of the same prefix yield, so that a node back on a new port is not shut out.
    std::erase_if(b.live, conflicts);
    std::erase_if(b.replacements, conflicts);
    return true;
}

placement routing_table::insert(std::uint32_t now_s, entry e, bool responded) {
    const bool confirmed = has(e, flag_confirmed);
    for (;;) {
        const std::size_t bi = bucket_of(e.id);
        bucket& b = buckets_[bi];
        if (!make_room_for_ip(b, e)) {
            ++counters_.refused_ip;
            return placement::refused;
        }
        if (b.live.size() < limits_.bucket_size) {
            b.live.push_back(e);
            b.last_active = confirmed ? now_s : b.last_active;
            ++counters_.added;
            return placement::live;
        }
        if (bi + 1 == buckets_.size() && buckets_.size() < limits_.buckets_max) {
            split();
            continue;
        }
        // Victims by preference; good nodes are never among them.
        auto pick = [&](auto&& eligible) -> std::optional<std::size_t> {
            std::optional<std::size_t> best;
            for (std::size_t i = 0; i < b.live.size(); ++i) {
                const entry& v = b.live[i];
                if (eligible(v) && (!best || std::tie(b.live[*best].fails, v.last_active) <
                                                 std::tie(v.fails, b.live[*best].last_active))) {
                    best = i;
                }
            }
            return best;
        };
        std::optional<std::size_t> victim = pick([&](const entry& v) { return is_bad(v); });
        std::uint32_t* reason = &counters_.replaced_bad;
        if (!victim && confirmed) {
            victim = pick([&](const entry& v) { return !has(v, flag_confirmed); });
            reason = &counters_.replaced_unconfirmed;
        }
        if (!victim && confirmed && limits_.prefer_verified && has(e, flag_verified)) {
            victim = pick([&](const entry& v) { return !has(v, flag_verified) && !is_good(v, now_s); });
            reason = &counters_.replaced_unverified;
        }
        if (!victim && responded && !limits_.prefer_long_lived) {
            // Prefer fresh: the live entry heard from longest ago gives way, good or not.
            for (std::size_t i = 0; i < b.live.size(); ++i) {
                if (!victim || b.live[i].last_active < b.live[*victim].last_active) {
                    victim = i;
                }
            }
            reason = &counters_.replaced_live;
        }
        if (victim) {
            b.live[*victim] = e;
            b.last_active = confirmed ? now_s : b.last_active;
            ++*reason;
            ++counters_.added;
            return placement::live;
        }
        if (limits_.replacements_max == 0) {
            return placement::refused;
        }
        cache(b, e);
        return placement::replacement;
    }
}

void routing_table::cache(bucket& b, const entry& e) {
    if (b.replacements.size() >= limits_.replacements_max) {
        // Hearsay is cheap to send: a flood of it must not flush the responders waiting here.
        auto oldest = std::find_if(b.replacements.begin(), b.replacements.end(),
                                   [](const entry& r) { return !has(r, flag_confirmed); });
        b.replacements.erase(oldest == b.replacements.end() ? b.replacements.begin() : oldest);
    }
    b.replacements.push_back(e);
    ++counters_.cached;
}

void routing_table::fill_from_cache(bucket& b) {
    while (b.live.size() < limits_.bucket_size && !b.replacements.empty()) {
        auto score = [&](const entry& r) {
            return std::pair(has(r, flag_confirmed), limits_.prefer_verified && has(r, flag_verified));
        };
        // Newest last: scanning backwards, the first best score is the most recently heard.
        std::size_t best = b.replacements.size() - 1;
        for (std::size_t i = best; i-- > 0;) {
            if (score(b.replacements[best]) < score(b.replacements[i])) {
                best = i;
            }
        }
        b.live.push_back(b.replacements[best]);
        b.replacements.erase(b.replacements.begin() + static_cast<std::ptrdiff_t>(best));
        ++counters_.promoted;
    }
}

void routing_table::split() {
    const std::size_t deeper_index = buckets_.size();
    // Exact growth: at most 160 splits, and spare capacity would be paid 10^6 times.
    buckets_.reserve(deeper_index + 1);
    buckets_.emplace_back();
    bucket& old = buckets_[deeper_index - 1];
    bucket& deeper = buckets_[deeper_index];
    deeper.last_active = old.last_active;
    auto moves = [&](const entry& e) {
        return static_cast<std::size_t>(common_prefix_bits(self_, e.id)) >= deeper_index;
    };
    for (const entry& e : old.live) {
        if (moves(e)) {
            deeper.live.push_back(e);
        }
    }
    for (const entry& e : old.replacements) {
        if (moves(e)) {
            deeper.replacements.push_back(e);
        }
    }
    std::erase_if(old.live, moves);
    std::erase_if(old.replacements, moves);
    fill_from_cache(old);
    fill_from_cache(deeper);
    ++counters_.splits;
}

void routing_table::heard_failure(time_point /*now*/, const node_contact& contact) {
    const auto loc = locate(contact.id);
    if (!loc || at(*loc).ep != contact.ep) {
        return;
    }
    entry& e = at(*loc);
    e.fails = static_cast<std::uint8_t>(std::min(e.fails + 1, 255));
    e.flags = static_cast<std::uint8_t>(e.flags & ~flag_ping_pending);
    if (!is_bad(e)) {
        return;
    }
    bucket& b = buckets_[loc->bucket];
    // Without a replacement the bad node keeps its slot: it might come back, and any newcomer
    // may take the slot meanwhile.
    if (!loc->live || !b.replacements.empty()) {
        erase(*loc);
        fill_from_cache(b);
    }
}

std::optional<node_contact> routing_table::next_ping(time_point now) {
    const std::uint32_t now_s = seconds_of(now);
    std::optional<location> best;
    std::tuple<bool, bool, std::uint32_t> best_key{};
    for (std::size_t bi = 0; bi < buckets_.size(); ++bi) {
        const bucket& b = buckets_[bi];
        const bool uncontested = b.replacements.empty();
        for (std::size_t i = 0; i < b.live.size(); ++i) {
            const entry& e = b.live[i];
            if (has(e, flag_ping_pending) || is_bad(e) || is_good(e, now_s)) {
                continue;
            }
            const std::tuple key{uncontested, has(e, flag_confirmed), e.last_active};
            if (!best || key < best_key) {
                best = location{bi, i, true};
                best_key = key;
            }
        }
    }
    if (!best) {
        return std::nullopt;
    }
    entry& e = at(*best);
    e.flags |= flag_ping_pending;
    return node_contact{e.id, e.ep};
}

node_id routing_table::random_id_in(std::size_t bi, rng& random) const {
    node_id id;
    for (std::size_t at = 0; at < node_id::size; at += 8) {
        const std::uint64_t word = random();
        for (std::size_t i = 0; i < 8 && at + i < node_id::size; ++i) {
            id.bytes[at + i] = static_cast<std::uint8_t>(word >> (8 * i));
        }
    }
    // Bucket bi shares bi bits with self; below the last one, bit bi differs.
    for (std::size_t bit = 0; bit < bi; ++bit) {
        set_bit(id, bit, bit_of(self_, bit));
    }
    if (bi + 1 < buckets_.size()) {
        set_bit(id, bi, !bit_of(self_, bi));
    }
    return id;
}

std::optional<node_id> routing_table::next_refresh_target(time_point now, rng& random) {
    const std::uint32_t now_s = seconds_of(now);
    std::optional<std::size_t> oldest;
    for (std::size_t bi = 0; bi < buckets_.size(); ++bi) {
        const std::uint32_t last = buckets_[bi].last_active;
        if (now_s - std::min(last, now_s) >= limits_.refresh_interval_s &&
            (!oldest || last < buckets_[*oldest].last_active)) {
            oldest = bi;
        }
    }
    if (!oldest) {
        return std::nullopt;
    }
    buckets_[*oldest].last_active = now_s;
    return random_id_in(*oldest, random);
}

std::vector<node_contact> routing_table::closest(const node_id& target, std::size_t count,
                                                 closest_filter filter) const {
    std::vector<node_contact> out;
    if (count == 0) {
        return out;
    }
    out.reserve(std::min<std::size_t>(count, 64));
    std::array<const entry*, 255> scratch{};
    auto eligible = [&](const entry& e) {
        return !is_bad(e) && (filter == closest_filter::live || (has(e, flag_confirmed) && e.fails == 0));
    };
    // Each bucket is a subtree, so its distances to target form one interval: take buckets
    // nearest interval first and sort within one only.
    auto take = [&](std::size_t bi) {
        std::size_t found = 0;
        for (const entry& e : buckets_[bi].live) {
            if (eligible(e)) {
                scratch[found++] = &e;
            }
        }
        const std::size_t wanted = std::min(found, count - out.size());
        auto nearer = [&](const entry* a, const entry* b) {
            return closer_to(target, a->id, b->id);
        };
        std::partial_sort(scratch.begin(), scratch.begin() + wanted, scratch.begin() + found, nearer);
        for (std::size_t i = 0; i < wanted; ++i) {
            out.push_back({scratch[i]->id, scratch[i]->ep});
        }
        return out.size() == count;
    };
    // Bucket i < last differs from target at bit i exactly when target agrees with self there:
    // those buckets (ascending) are nearer than the last bucket, the others (descending) farther.
    const node_id toward = self_ ^ target;
    const std::size_t last = buckets_.size() - 1;
    for (std::size_t bi = 0; bi < last; ++bi) {
        if (bit_of(toward, bi) && take(bi)) {
            return out;
        }
    }
    if (take(last)) {
        return out;
    }
    for (std::size_t bi = last; bi-- > 0;) {
        if (!bit_of(toward, bi) && take(bi)) {
            return out;
        }
    }
    return out;
}

std::optional<node_info> routing_table::find(const node_id& id, time_point now) const {
    const auto loc = locate(id);
    if (!loc) {
        return std::nullopt;
    }
    return info_of(at(*loc), loc->bucket, !loc->live, seconds_of(now));
}

std::size_t routing_table::size() const {
    std::size_t n = 0;
    for (const bucket& b : buckets_) {
        n += static_cast<std::size_t>(
            std::count_if(b.live.begin(), b.live.end(), [&](const entry& e) { return !is_bad(e); }));
    }
    return n;
}

bool routing_table::has_at_least(std::size_t n) const {
    std::size_t seen = 0;
    for (const bucket& b : buckets_) {
        for (const entry& e : b.live) {
            if (seen >= n) {
                return true;
            }
            seen += is_bad(e) ? 0 : 1;
        }
    }
    return seen >= n;
}

std::size_t routing_table::replacement_count() const {
    std::size_t n = 0;
    for (const bucket& b : buckets_) {
        n += b.replacements.size();
    }
    return n;
}

std::size_t routing_table::memory_bytes() const {
    std::size_t bytes = sizeof(*this) + buckets_.capacity() * sizeof(bucket);
    for (const bucket& b : buckets_) {
        bytes += (b.live.capacity() + b.replacements.capacity()) * sizeof(entry);
    }
    return bytes;
}

std::string routing_table::save() const {
    std::string v4;
    std::string v6;
    for (const bucket& b : buckets_) {
        for (const entry& e : b.live) {
            if (!is_bad(e)) {
                append_compact_node(e.ep.address.is_v6() ? v6 : v4, {e.id, e.ep});
            }
        }
    }
    std::string out;
    bencode_writer w(out);
    w.begin_dict().key("id").string(self_.chars()).key("nodes").string(v4).key("nodes6").string(v6).end();
    return out;
}

result<saved_table> routing_table::parse_saved(byte_view data, std::size_t contacts_max) {
    const std::string where = "dht routing table";
    bdecode_limits limits;
    limits.depth_max = 8;
    limits.values_max = 4096;
    auto doc = bdecode(data, limits);
    if (!doc) {
        return fail(errc::invalid_input, where, "bencode: " + doc.error().message());
    }
    const bnode root = doc->root();
    if (!root.is_dict()) {
        return fail(errc::invalid_input, where, "not a dictionary");
    }
    const auto id_bytes = root.find_string("id");
    const auto id = id_bytes ? node_id::from_bytes(*id_bytes) : std::nullopt;
    if (!id) {
        return fail(errc::invalid_input, where + ": id", "missing or not 20 bytes");
    }
    saved_table saved{*id, {}};
    for (const bool v6 : {false, true}) {
        const std::string key = v6 ? "nodes6" : "nodes";
        const bnode node = root.find(key);
        if (!node.valid()) {
            continue;
        }
        if (!node.is_string()) {
            return fail(errc::invalid_input, where + ": " + key, "not a string");
        }
        const std::string_view text = *node.as_string();
        const std::size_t record = v6 ? compact_node_v6_size : compact_node_v4_size;
        if (text.size() % record != 0) {
            return fail(
                errc::invalid_input, where + ": " + key,
                "length " + std::to_string(text.size()) + " is not a multiple of " + std::to_string(record));
        }
        if (saved.nodes.size() + text.size() / record > contacts_max) {
            return fail(errc::limit_exceeded, where + ": " + key,
                        "more than " + std::to_string(contacts_max) + " contacts");
        }
        auto contacts = parse_compact_nodes(as_bytes(text), v6);
        saved.nodes.insert(saved.nodes.end(), contacts->begin(), contacts->end());
    }
    return saved;
}

}  // namespace hyphae::dht
