#include "hyphae/proto/dht/item_store.hpp"

#include <algorithm>
#include <string_view>

namespace hyphae::dht {
namespace {

bool same_bytes(const std::string& stored, byte_view value) {
    return std::string_view(stored) == as_chars(value);
}

}  // namespace

item_store::item_store(const item_store_config& config, const keyed_hash& hash)
    : config_(config), items_(0, target_hasher{hash}) {
    config_.items_max = std::max<std::size_t>(config_.items_max, 1);
}

item_store::item_map::iterator item_store::find_live(time_point now, const sha1_hash& target) {
    auto it = items_.find(target);
    if (it != items_.end() && !alive(now, it->second)) {
        erase(it);
        ++counters_.expired;
        return items_.end();
    }
    return it;
}

void item_store::erase(item_map::iterator it) {
    bytes_ -= it->second.value.size();
    items_.erase(it);
}

void item_store::release_if_empty() {
    // A table keeps its buckets when emptied; a million idle simulated nodes should not.
    if (items_.empty() && items_.bucket_count() > 1) {
        items_ = item_map(0, items_.hash_function());
    }
}

void item_store::make_room(std::size_t adding, std::size_t extra_bytes, const sha1_hash& keep) {
    // One scan an eviction: items_max is small (hundreds), and puts are rare next to gets.
    while (items_.size() + adding > config_.items_max || bytes_ + extra_bytes > config_.bytes_max) {
        auto oldest = items_.end();
        for (auto it = items_.begin(); it != items_.end(); ++it) {
            if (it->first != keep &&
                (oldest == items_.end() || it->second.refreshed < oldest->second.refreshed)) {
                oldest = it;
            }
        }
        if (oldest == items_.end()) {
            return;
        }
        erase(oldest);
        ++counters_.evicted;
    }
}

item_result<put_outcome> item_store::put_immutable(time_point now, const sha1_hash& target, byte_view value) {
    if (value.size() > config_.value_size_max || value.size() > config_.bytes_max) {
        return item_fail(item_errc::value_too_big);
    }
    if (immutable_target(value) != target) {
        return item_fail(item_errc::protocol_error);
    }
    if (auto it = find_live(now, target); it != items_.end()) {
        if (it->second.signed_part) {
            return item_fail(item_errc::protocol_error);
        }
        it->second.refreshed = now;
        return put_outcome::refreshed;
    }
    make_room(1, value.size(), target);
    items_.emplace(target, entry{std::string(as_chars(value)), now, nullptr});
    bytes_ += value.size();
    return put_outcome::stored;
}

item_result<put_outcome> item_store::put_mutable(time_point now, const mutable_put& put) {
    if (put.value.size() > config_.bytes_max) {
        return item_fail(item_errc::value_too_big);
    }
    if (auto sizes = check_sizes(put.salt, put.value, config_.value_size_max); !sizes) {
        return tl::unexpected(sizes.error());
    }
    const sha1_hash target = mutable_target(put.key, put.salt);
    auto it = find_live(now, target);
    if (it != items_.end()) {
        entry& stored = it->second;
        if (!stored.signed_part || stored.signed_part->key != put.key) {
            return item_fail(item_errc::protocol_error);
        }
        signed_fields& fields = *stored.signed_part;
        const bool same_value = same_bytes(stored.value, put.value);
        const auto update = check_mutable_update(fields.seq, same_value, put.seq, put.cas);
        if (!update) {
            return tl::unexpected(update.error());
        }
        if (*update == mutable_update::refresh) {
            // The stored item was verified when it came; the same bytes need no second look.
            if (put.sig != fields.sig && !valid_signature(put.key, put.salt, put.seq, put.sig, put.value)) {
                return item_fail(item_errc::invalid_signature);
            }
            stored.refreshed = now;
            return put_outcome::refreshed;
        }
        if (!valid_signature(put.key, put.salt, put.seq, put.sig, put.value)) {
            return item_fail(item_errc::invalid_signature);
        }
        const std::size_t old_size = stored.value.size();
        make_room(0, put.value.size() > old_size ? put.value.size() - old_size : 0, target);
        // make_room never evicts `target`, so `stored` still refers to it.
        stored.value.assign(as_chars(put.value));
        bytes_ = bytes_ - old_size + put.value.size();
        fields.seq = put.seq;
        fields.sig = put.sig;
        stored.refreshed = now;
        return put_outcome::replaced;
    }
    if (!valid_signature(put.key, put.salt, put.seq, put.sig, put.value)) {
        return item_fail(item_errc::invalid_signature);
    }
    make_room(1, put.value.size(), target);
    items_.emplace(target, entry{std::string(as_chars(put.value)), now,
                                 std::make_unique<signed_fields>(signed_fields{put.key, put.sig, put.seq})});
    bytes_ += put.value.size();
    return put_outcome::stored;
}

std::optional<item_answer> item_store::get(time_point now, const sha1_hash& target,
                                           std::optional<std::int64_t> seq) const {
    auto it = items_.find(target);
    if (it == items_.end() || !alive(now, it->second)) {
        return std::nullopt;
    }
    const entry& stored = it->second;
    item_answer answer;
    answer.value = as_bytes(stored.value);
    if (stored.signed_part) {
        answer.is_mutable = true;
        answer.seq = stored.signed_part->seq;
        answer.key = stored.signed_part->key;
        answer.sig = stored.signed_part->sig;
        if (seq && answer.seq <= *seq) {
            answer.seq_only = true;
            answer.value = {};
        }
    }
    return answer;
}

std::size_t item_store::expire(time_point now) {
    std::size_t expired = 0;
    for (auto it = items_.begin(); it != items_.end();) {
        if (alive(now, it->second)) {
            ++it;
            continue;
        }
        bytes_ -= it->second.value.size();
        it = items_.erase(it);
        ++expired;
    }
    counters_.expired += expired;
    release_if_empty();
    return expired;
}

std::size_t item_store::memory_bytes() const {
    // A node holds the next pointer, the key and entry, and libstdc++'s cached hash; a string keeps
    // up to 15 bytes inside itself.
    constexpr std::size_t node_size = sizeof(void*) + sizeof(item_map::value_type) + sizeof(std::size_t);
    std::size_t total = items_.bucket_count() > 1 ? items_.bucket_count() * sizeof(void*) : 0;
    for (const auto& [target, stored] : items_) {
        total += node_size;
        if (stored.value.capacity() > 15) {
            total += stored.value.capacity() + 1;
        }
        if (stored.signed_part) {
            total += sizeof(signed_fields);
        }
    }
    return total;
}

}  // namespace hyphae::dht
