#include "hyphae/sim/adversary.hpp"

#include <algorithm>
#include <array>
#include <span>

namespace hyphae::sim {

namespace {

using dht::krpc_message;
using dht::krpc_method;
using dht::node_contact;
using dht::node_id;

constexpr std::array<std::pair<adversary_kind, std::string_view>, 6> kind_names{{
    {adversary_kind::none, "none"},
    {adversary_kind::drop, "drop"},
    {adversary_kind::wrong_routing, "wrong_routing"},
    {adversary_kind::collude, "collude"},
    {adversary_kind::fake_updates, "fake_updates"},
    {adversary_kind::bad_bootstrap, "bad_bootstrap"},
}};

// Small ranges are sorted outright rather than split further.
constexpr std::size_t trie_leaf_size = 16;

bool bit_at(const node_id& id, int bit) {
    return ((id.bytes[static_cast<std::size_t>(bit) / 8] >> (7 - bit % 8)) & 1) != 0;
}

bool in_family(const node_contact& c, ip_family family) {
    return family == ip_family::any || family_of(c.ep) == family;
}

// Appends to `out`, nearest to target first, contacts of `range` in `family` until it holds
// `count`. Every id in `range` shares its first `depth` bits with target, so the half that also
// shares bit `depth` is nearer than the other half as a whole: visit it first.
void collect_closest(std::span<const node_contact> range, int depth, const node_id& target, std::size_t count,
                     ip_family family, std::vector<node_contact>& out) {
    if (out.size() >= count || range.empty()) {
        return;
    }
    // A leaf holds at most trie_leaf_size: deeper than 160 bits only equal ids remain, and
    // finish() keeps one of each. Sorted in place, without allocating: this is every answer's path.
    if (range.size() <= trie_leaf_size || depth >= 160) {
        std::array<const node_contact*, trie_leaf_size> leaf{};
        std::size_t size = 0;
        for (const auto& c : range) {
            if (in_family(c, family) && size < leaf.size()) {
                leaf[size++] = &c;
            }
        }
        std::sort(
            leaf.begin(), leaf.begin() + static_cast<std::ptrdiff_t>(size),
            [&](const node_contact* a, const node_contact* b) { return closer_to(target, a->id, b->id); });
        for (std::size_t i = 0; i < size && out.size() < count; ++i) {
            out.push_back(*leaf[i]);
        }
        return;
    }
    const auto split = std::partition_point(range.begin(), range.end(),
                                            [&](const node_contact& c) { return !bit_at(c.id, depth); });
    const auto at = static_cast<std::size_t>(split - range.begin());
    const auto zeros = range.first(at);
    const auto ones = range.subspan(at);
    const bool near_is_one = bit_at(target, depth);
    collect_closest(near_is_one ? ones : zeros, depth + 1, target, count, family, out);
    collect_closest(near_is_one ? zeros : ones, depth + 1, target, count, family, out);
}

bool contains_id(const std::vector<node_contact>& sorted, const node_id& id) {
    const auto it = std::lower_bound(sorted.begin(), sorted.end(), id,
                                     [](const node_contact& c, const node_id& v) { return c.id < v; });
    return it != sorted.end() && it->id == id;
}

// The answers of an honest dht_node carry this version: adversaries pass for honest nodes.
const std::string& honest_version() {
    static const std::string version = dht::dht_config{}.version;
    return version;
}

}  // namespace

std::optional<adversary_kind> parse_adversary_kind(std::string_view name) {
    for (const auto& [kind, text] : kind_names) {
        if (text == name) {
            return kind;
        }
    }
    return std::nullopt;
}

std::string_view to_string(adversary_kind kind) {
    for (const auto& [k, text] : kind_names) {
        if (k == kind) {
            return text;
        }
    }
    return "unknown";
}

ip_family family_of(const endpoint& ep) {
    return ep.address.is_v6() ? ip_family::v6 : ip_family::v4;
}

// ---- adversary_directory ----

void adversary_directory::add_colluder(const node_contact& c) {
    colluders_.push_back(c);
}

void adversary_directory::add_honest(const node_contact& c) {
    honest_.push_back(c);
}

void adversary_directory::finish() {
    // Sorted by id, then endpoint, so that the result does not depend on the order of adding.
    const auto order = [](const node_contact& a, const node_contact& b) {
        return a.id != b.id ? a.id < b.id : a.ep < b.ep;
    };
    const auto same_id = [](const node_contact& a, const node_contact& b) {
        return a.id == b.id;
    };
    for (auto* list : {&colluders_, &honest_}) {
        std::sort(list->begin(), list->end(), order);
        list->erase(std::unique(list->begin(), list->end(), same_id), list->end());
        list->shrink_to_fit();
    }
}

std::vector<node_contact> adversary_directory::closest_colluders(const node_id& target,
                                                                 std::size_t count) const {
    return closest_colluders(target, count, ip_family::any);
}

std::vector<node_contact> adversary_directory::closest_colluders(const node_id& target, std::size_t count,
                                                                 ip_family family) const {
    std::vector<node_contact> out;
    out.reserve(std::min(count, colluders_.size()));
    collect_closest(colluders_, 0, target, count, family, out);
    return out;
}

std::vector<node_contact> adversary_directory::far_honest(const node_id& target, std::size_t count,
                                                          rng& random) const {
    return far_honest(target, count, random, ip_family::any);
}

std::vector<node_contact> adversary_directory::far_honest(const node_id& target, std::size_t count,
                                                          rng& random, ip_family family) const {
    std::vector<node_contact> out;
    // Sorted by id: the ids with top bit 0 come first, those with top bit 1 after them.
    const auto split = std::partition_point(honest_.begin(), honest_.end(),
                                            [](const node_contact& c) { return !bit_at(c.id, 0); });
    const auto first = bit_at(target, 0) ? honest_.begin() : split;
    const auto last = bit_at(target, 0) ? split : honest_.end();
    const auto size = static_cast<std::uint64_t>(last - first);
    if (size == 0 || count == 0) {
        return out;
    }
    // Random draws, a bounded number of them: a few collisions or other-family picks cost an
    // answer a contact, never a loop.
    for (std::size_t attempt = 0; attempt < count * 8 && out.size() < count; ++attempt) {
        const node_contact& c = *(first + static_cast<std::ptrdiff_t>(random.uniform(size)));
        if (!in_family(c, family) ||
            std::any_of(out.begin(), out.end(), [&](const node_contact& o) { return o.id == c.id; })) {
            continue;
        }
        out.push_back(c);
    }
    return out;
}

const node_contact* adversary_directory::random_honest(rng& random) const {
    return random_honest(random, ip_family::any);
}

const node_contact* adversary_directory::random_honest(rng& random, ip_family family) const {
    if (honest_.empty()) {
        return nullptr;
    }
    for (int attempt = 0; attempt < 16; ++attempt) {
        const node_contact& c = honest_[random.uniform(honest_.size())];
        if (in_family(c, family)) {
            return &c;
        }
    }
    return nullptr;
}

bool adversary_directory::is_colluder(const node_id& id) const {
    return contains_id(colluders_, id);
}

bool adversary_directory::is_honest(const node_id& id) const {
    return contains_id(honest_, id);
}

node_id sybil_id(const node_id& target, int shared_bits, rng& random) {
    const int shared = std::clamp(shared_bits, 0, 160);
    node_id id = dht::random_node_id(random);
    for (int bit = 0; bit < shared; ++bit) {
        const auto byte = static_cast<std::size_t>(bit) / 8;
        const auto mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
        id.bytes[byte] = static_cast<std::uint8_t>((id.bytes[byte] & ~mask) | (target.bytes[byte] & mask));
    }
    return id;
}

// ---- adversary_node ----

adversary_node::adversary_node(adversary_kind kind, const node_contact& self, std::uint64_t seed)
    : adversary_node(kind, self, seed, adversary_config{}) {}

adversary_node::adversary_node(adversary_kind kind, const node_contact& self, std::uint64_t seed,
                               const adversary_config& config)
    : kind_(kind),
      answer_nodes_max_(std::clamp<std::uint8_t>(config.answer_nodes_max, 1, 8)),
      self_(self),
      push_interval_(std::max(config.push_interval, duration(milliseconds(1)))),
      rng_(seed) {
    next_tid_ = static_cast<std::uint16_t>(rng_());
}

std::vector<node_contact> adversary_node::nodes_for(const node_id& target, const endpoint& from,
                                                    const adversary_directory& directory) {
    const ip_family family = family_of(from);
    if (kind_ == adversary_kind::wrong_routing) {
        return directory.far_honest(target, answer_nodes_max_, rng_, family);
    }
    // One more than needed: we may be among them, and the asker knows us already.
    auto nodes = directory.closest_colluders(target, answer_nodes_max_ + 1u, family);
    nodes.erase(
        std::remove_if(nodes.begin(), nodes.end(), [&](const node_contact& c) { return c.id == self_.id; }),
        nodes.end());
    if (nodes.size() > answer_nodes_max_) {
        nodes.resize(answer_nodes_max_);
    }
    return nodes;
}

void adversary_node::answer(const endpoint& from, krpc_message& message, const adversary_directory& directory,
                            std::vector<dht::dht_transmit>& out) {
    const dht::krpc_query& q = message.query;
    krpc_message reply;
    reply.type = krpc_message::kind::response;
    reply.transaction_id = std::move(message.transaction_id);
    reply.version = honest_version();
    reply.requester = from;
    dht::krpc_response& r = reply.response;
    r.id = self_.id;
    const auto add_nodes = [&](const node_id& target) {
        (from.address.is_v6() ? r.nodes6 : r.nodes) = nodes_for(target, from, directory);
    };
    const auto token = [&] {
        const auto word = rng_();
        return std::string{static_cast<char>(word), static_cast<char>(word >> 8),
                           static_cast<char>(word >> 16), static_cast<char>(word >> 24)};
    };
    switch (q.method) {
        case krpc_method::ping:
        case krpc_method::announce_peer:  // accepted, stored nowhere
        case krpc_method::put:
            break;
        case krpc_method::find_node:
        case krpc_method::get:
            add_nodes(q.target.value_or(self_.id));
            if (q.method == krpc_method::get) {
                r.token = token();
            }
            break;
        case krpc_method::get_peers:
            add_nodes(q.info_hash.value_or(self_.id));
            r.token = token();
            break;
        case krpc_method::sample_infohashes:
            add_nodes(q.target.value_or(self_.id));
            r.samples = std::vector<id160>{};
            r.num = 0;
            r.interval = 21600;
            break;
        case krpc_method::unknown:
            reply.type = krpc_message::kind::error;
            reply.requester.reset();
            reply.error = {dht::krpc_errc::method_unknown, "Method Unknown"};
            break;
    }
    ++stats_.answers_out;
    out.push_back(dht::dht_transmit{from, to_buffer(dht::encode_krpc(reply))});
}

void adversary_node::on_datagram(time_point, const endpoint& from, byte_view bytes,
                                 const adversary_directory& directory, std::vector<dht::dht_transmit>& out) {
    auto message = dht::decode_krpc(bytes);
    if (!message || message->type != krpc_message::kind::query || message->query.id == self_.id) {
        ++stats_.ignored;
        return;
    }
    ++stats_.queries_in;
    switch (kind_) {
        case adversary_kind::none:
        case adversary_kind::drop:
            ++stats_.dropped;
            return;
        case adversary_kind::wrong_routing:
        case adversary_kind::collude:
        case adversary_kind::fake_updates:
        case adversary_kind::bad_bootstrap:
            answer(from, *message, directory, out);
            return;
    }
}

std::optional<time_point> adversary_node::on_timer(time_point now, const adversary_directory& directory,
                                                   std::vector<dht::dht_transmit>& out) {
    if (kind_ != adversary_kind::fake_updates) {
        return std::nullopt;
    }
    if (!next_push_) {
        next_push_ = now + duration(static_cast<duration::rep>(
                               rng_.uniform(static_cast<std::uint64_t>(push_interval_.count()))));
        return next_push_;
    }
    if (now < *next_push_) {
        return next_push_;
    }
    // From `now`, not from the missed deadline: a late driver never gets a burst.
    next_push_ = now + push_interval_;
    const node_contact* victim = directory.random_honest(rng_, family_of(self_.ep));
    if (victim == nullptr) {
        return next_push_;
    }
    krpc_message m;
    m.type = krpc_message::kind::query;
    const std::uint16_t tid = next_tid_++;
    m.transaction_id = {static_cast<char>(tid >> 8), static_cast<char>(tid & 0xff)};
    m.version = honest_version();
    // A query puts us in the victim's table as unconfirmed; its ping back, which we answer, makes
    // us good. A find_node also looks like an ordinary newcomer's bootstrap.
    m.query.method = stats_.pushes_out % 2 == 0 ? krpc_method::find_node : krpc_method::ping;
    m.query.id = self_.id;
    if (m.query.method == krpc_method::find_node) {
        m.query.target = self_.id;
    }
    ++stats_.pushes_out;
    out.push_back(dht::dht_transmit{victim->ep, to_buffer(dht::encode_krpc(m))});
    return next_push_;
}

}  // namespace hyphae::sim
