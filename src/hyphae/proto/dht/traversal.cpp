#include "hyphae/proto/dht/traversal.hpp"

#include <algorithm>

namespace hyphae::dht {

std::size_t seed_count(const traversal_config& config) {
    const std::size_t paths = std::clamp<std::size_t>(config.disjoint_paths, 1, disjoint_paths_max);
    return std::max(config.result_size, 2 * paths);
}

traversal::traversal(const node_id& target, const traversal_config& config)
    : target_(target),
      config_(config),
      paths_(std::clamp<std::size_t>(config.disjoint_paths, 1, disjoint_paths_max)),
      candidates_max_(config.candidates_max * paths_),
      queries_max_(config.queries_max * paths_) {
    candidates_.reserve(std::min<std::size_t>(candidates_max_, 32));
}

std::uint8_t traversal::next_seed_path() {
    const std::uint8_t path = next_seed_path_;
    next_seed_path_ = static_cast<std::uint8_t>((next_seed_path_ + 1) % paths_);
    return path;
}

void traversal::add(const node_contact& contact, const node_contact* referrer) {
    if (referrer == nullptr) {
        add_on_path(contact, 0, 1, std::nullopt);
    } else if (const candidate* parent = find(referrer->id)) {
        add_on_path(contact, parent->serial, static_cast<std::uint8_t>(std::min(parent->depth + 1, 255)),
                    parent->path);
    } else {
        add_on_path(contact, 0, 0, 0);  // named by a node we do not know: no depth
    }
}

void traversal::add_on_path(const node_contact& contact, std::uint16_t referrer, std::uint8_t depth,
                            std::optional<std::uint8_t> path) {
    // Global deduplication: what one path has seen, no other path may take.
    for (const auto& c : candidates_) {
        if (c.contact.id == contact.id || c.contact.ep == contact.ep) {
            return;
        }
    }
    candidate fresh;
    fresh.contact = contact;
    fresh.serial = next_serial_++;
    fresh.referrer = referrer;
    fresh.depth = depth;
    fresh.path = path ? *path : next_seed_path();
    auto at = std::upper_bound(
        candidates_.begin(), candidates_.end(), contact.id,
        [&](const node_id& id, const candidate& c) { return closer_to(target_, id, c.contact.id); });
    if (candidates_.size() >= candidates_max_) {
        // Full: make room by dropping the farthest candidate nobody is waiting on, if the
        // newcomer is nearer than it.
        auto victim = std::find_if(candidates_.rbegin(), candidates_.rend(), [](const candidate& c) {
            return c.st == state::fresh || c.st == state::failed;
        });
        if (victim == candidates_.rend() || at > victim.base() - 1) {
            return;
        }
        const auto offset = at - candidates_.begin();
        candidates_.erase(std::next(victim).base());
        at = candidates_.begin() + offset;
    }
    candidates_.insert(at, std::move(fresh));
}

std::optional<std::size_t> traversal::window_fresh(std::size_t path) const {
    std::size_t counted = 0;
    for (std::size_t i = 0; i < candidates_.size() && counted < config_.result_size; ++i) {
        const candidate& c = candidates_[i];
        if (c.path != path || c.st == state::failed || c.st == state::slow) {
            continue;
        }
        ++counted;
        if (c.st == state::fresh) {
            return i;
        }
    }
    return std::nullopt;
}

std::optional<node_contact> traversal::next_query() {
    if (queries_sent_ >= queries_max_) {
        return std::nullopt;
    }
    // Paths take turns, each within its own parallelism.
    for (std::size_t turn = 0; turn < paths_; ++turn) {
        const std::size_t path = (next_query_path_ + turn) % paths_;
        const auto active = static_cast<std::size_t>(
            std::count_if(candidates_.begin(), candidates_.end(),
                          [&](const candidate& c) { return c.path == path && c.st == state::in_flight; }));
        if (active >= config_.parallelism) {
            continue;
        }
        const auto index = window_fresh(path);
        if (!index) {
            continue;
        }
        next_query_path_ = static_cast<std::uint8_t>((path + 1) % paths_);
        candidates_[*index].st = state::in_flight;
        ++queries_sent_;
        return candidates_[*index].contact;
    }
    return std::nullopt;
}

traversal::candidate* traversal::find(const node_id& id) {
    for (auto& c : candidates_) {
        if (c.contact.id == id) {
            return &c;
        }
    }
    return nullptr;
}

traversal::candidate* traversal::find_serial(std::uint16_t serial) {
    for (auto& c : candidates_) {
        if (c.serial == serial) {
            return &c;
        }
    }
    return nullptr;
}

void traversal::responded(candidate& c, std::string token) {
    c.st = state::responded;
    c.token = std::move(token);
    ++responses_;
    if (candidate* parent = find_serial(c.referrer)) {
        parent->good_referrals = static_cast<std::uint8_t>(std::min(parent->good_referrals + 1, 255));
    }
}

void traversal::on_response(const node_id& id, const std::vector<node_contact>& nodes, std::string token) {
    candidate* c = find(id);
    if (c == nullptr || (c->st != state::in_flight && c->st != state::slow)) {
        return;
    }
    responded(*c, std::move(token));
    const node_contact self = c->contact;  // `c` moves when candidates are inserted
    for (const auto& n : nodes) {
        add(n, &self);
    }
}

void traversal::seed_responded(const node_contact& contact, const std::vector<node_contact>& nodes,
                               std::string token) {
    if (find(contact.id) == nullptr) {
        add(contact, nullptr);
    }
    candidate* c = find(contact.id);
    if (c == nullptr || c->st == state::responded) {
        return;
    }
    // Counted as one query sent: it was, outside the window.
    ++queries_sent_;
    responded(*c, std::move(token));
    const std::uint16_t serial = c->serial;
    const auto depth = static_cast<std::uint8_t>(std::min(c->depth + 1, 255));
    const std::uint8_t path = c->path;
    // What a bootstrap node names stands in for the routing table's seeds: dealt among the paths.
    for (const auto& n : nodes) {
        add_on_path(n, serial, depth, paths_ == 1 ? std::optional(path) : std::nullopt);
    }
}

void traversal::on_slow(const node_id& id) {
    candidate* c = find(id);
    if (c != nullptr && c->st == state::in_flight) {
        c->st = state::slow;
    }
}

void traversal::on_failure(const node_id& id) {
    candidate* c = find(id);
    if (c == nullptr || (c->st != state::in_flight && c->st != state::slow)) {
        return;
    }
    c->st = state::failed;
    ++failures_;
    if (candidate* parent = find_serial(c->referrer)) {
        parent->bad_referrals = static_cast<std::uint8_t>(std::min(parent->bad_referrals + 1, 255));
    }
}

bool traversal::path_done(std::size_t path) const {
    if (window_fresh(path) && queries_sent_ < queries_max_) {
        return false;
    }
    // Nobody left to ask in the window: done unless a query inside it is still running.
    std::size_t counted = 0;
    for (std::size_t i = 0; i < candidates_.size() && counted < config_.result_size; ++i) {
        const candidate& c = candidates_[i];
        if (c.path != path || c.st == state::failed || c.st == state::slow) {
            continue;
        }
        ++counted;
        if (c.st == state::in_flight) {
            return false;
        }
    }
    return true;
}

bool traversal::done() const {
    for (std::size_t path = 0; path < paths_; ++path) {
        if (!path_done(path)) {
            return false;
        }
    }
    return true;
}

std::size_t traversal::in_flight() const {
    return static_cast<std::size_t>(
        std::count_if(candidates_.begin(), candidates_.end(),
                      [](const candidate& c) { return c.st == state::in_flight || c.st == state::slow; }));
}

std::vector<const traversal::candidate*> traversal::closest_responded() const {
    std::vector<const candidate*> out;
    for (const auto& c : candidates_) {
        if (c.st == state::responded) {
            out.push_back(&c);
            if (out.size() == config_.result_size) {
                break;
            }
        }
    }
    return out;
}

int traversal::hops() const {
    for (const auto& c : candidates_) {
        if (c.st == state::responded) {
            return c.depth;
        }
    }
    return 0;
}

std::optional<std::size_t> traversal::path_of(const node_id& id) const {
    for (const auto& c : candidates_) {
        if (c.contact.id == id) {
            return c.path;
        }
    }
    return std::nullopt;
}

std::vector<node_contact> traversal::bad_referrers() const {
    std::vector<node_contact> out;
    for (const auto& c : candidates_) {
        if (c.good_referrals == 0 && c.bad_referrals >= config_.bad_referrals_min) {
            out.push_back(c.contact);
        }
    }
    return out;
}

}  // namespace hyphae::dht
