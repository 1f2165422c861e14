#include "hyphae/proto/dht/traversal.hpp"

#include <algorithm>

namespace hyphae::dht {

traversal::traversal(const node_id& target, const traversal_config& config)
    : target_(target), config_(config) {
    candidates_.reserve(std::min<std::size_t>(config_.candidates_max, 32));
}

void traversal::add(const node_contact& contact, const node_contact* referrer) {
    for (const auto& c : candidates_) {
        if (c.contact.id == contact.id || c.contact.ep == contact.ep) {
            return;
        }
    }
    candidate fresh;
    fresh.contact = contact;
    fresh.serial = next_serial_++;
    if (referrer != nullptr) {
        if (candidate* parent = find(referrer->id)) {
            fresh.referrer = parent->serial;
            fresh.depth = static_cast<std::uint8_t>(std::min(parent->depth + 1, 255));
        }
    } else {
        fresh.depth = 1;
    }
    auto at = std::upper_bound(
        candidates_.begin(), candidates_.end(), contact.id,
        [&](const node_id& id, const candidate& c) { return closer_to(target_, id, c.contact.id); });
    if (candidates_.size() >= config_.candidates_max) {
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

bool traversal::in_window_fresh(std::size_t& index) const {
    std::size_t counted = 0;
    for (std::size_t i = 0; i < candidates_.size() && counted < config_.result_size; ++i) {
        const state st = candidates_[i].st;
        if (st == state::failed || st == state::slow) {
            continue;
        }
        ++counted;
        if (st == state::fresh) {
            index = i;
            return true;
        }
    }
    return false;
}

std::optional<node_contact> traversal::next_query() {
    if (queries_sent_ >= config_.queries_max) {
        return std::nullopt;
    }
    const auto active = static_cast<std::size_t>(std::count_if(
        candidates_.begin(), candidates_.end(), [](const candidate& c) { return c.st == state::in_flight; }));
    if (active >= config_.parallelism) {
        return std::nullopt;
    }
    std::size_t index = 0;
    if (!in_window_fresh(index)) {
        return std::nullopt;
    }
    candidates_[index].st = state::in_flight;
    ++queries_sent_;
    return candidates_[index].contact;
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

void traversal::on_response(const node_id& id, const std::vector<node_contact>& nodes, std::string token) {
    candidate* c = find(id);
    if (c == nullptr || (c->st != state::in_flight && c->st != state::slow)) {
        return;
    }
    c->st = state::responded;
    c->token = std::move(token);
    ++responses_;
    if (candidate* parent = find_serial(c->referrer)) {
        parent->good_referrals = static_cast<std::uint8_t>(std::min(parent->good_referrals + 1, 255));
    }
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
    c->st = state::in_flight;
    ++queries_sent_;
    on_response(contact.id, nodes, std::move(token));
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

bool traversal::done() const {
    std::size_t index = 0;
    if (in_window_fresh(index) && queries_sent_ < config_.queries_max) {
        return false;
    }
    // Nobody left to ask in the window: done unless a query inside it is still running.
    std::size_t counted = 0;
    for (std::size_t i = 0; i < candidates_.size() && counted < config_.result_size; ++i) {
        const state st = candidates_[i].st;
        if (st == state::failed || st == state::slow) {
            continue;
        }
        ++counted;
        if (st == state::in_flight) {
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
