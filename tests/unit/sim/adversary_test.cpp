#include "hyphae/sim/adversary.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <set>

#include <gtest/gtest.h>

#include "hyphae/proto/dht/dht_node.hpp"
#include "hyphae/sim/adversary_service.hpp"
#include "hyphae/sim/network.hpp"

namespace hyphae::sim {
namespace {

using dht::decode_krpc;
using dht::dht_config;
using dht::dht_node;
using dht::dht_transmit;
using dht::krpc_message;
using dht::krpc_method;
using dht::node_contact;
using dht::node_id;
using dht::random_node_id;

// 10/8 and fc00::/7: BEP 42 exempts them, so ids need not fit the addresses.
endpoint v4_endpoint(std::uint32_t n) {
    return endpoint{ip_address::v4(0x0a000000u | (n + 1)), 6881};
}

endpoint v6_endpoint(std::uint32_t n) {
    std::array<std::uint8_t, 16> bytes{0xfd};
    bytes[12] = static_cast<std::uint8_t>(n >> 24);
    bytes[13] = static_cast<std::uint8_t>(n >> 16);
    bytes[14] = static_cast<std::uint8_t>(n >> 8);
    bytes[15] = static_cast<std::uint8_t>(n + 1);
    return endpoint{ip_address::v6(bytes), 6881};
}

std::vector<node_contact> brute_closest(std::vector<node_contact> all, const node_id& target,
                                        std::size_t count) {
    count = std::min(count, all.size());
    std::partial_sort(
        all.begin(), all.begin() + static_cast<std::ptrdiff_t>(count), all.end(),
        [&](const node_contact& a, const node_contact& b) { return closer_to(target, a.id, b.id); });
    all.resize(count);
    return all;
}

std::string query_bytes(krpc_method method, const node_id& from_id, const node_id& target,
                        std::string tid = "aa") {
    krpc_message m;
    m.type = krpc_message::kind::query;
    m.transaction_id = std::move(tid);
    m.query.method = method;
    m.query.id = from_id;
    switch (method) {
        case krpc_method::find_node:
        case krpc_method::get:
        case krpc_method::sample_infohashes:
            m.query.target = target;
            break;
        case krpc_method::get_peers:
            m.query.info_hash = target;
            break;
        case krpc_method::announce_peer:
            m.query.info_hash = target;
            m.query.port = 6881;
            m.query.token = "tok1";
            break;
        case krpc_method::put:
            m.query.value = "i7e";
            m.query.token = "tok1";
            break;
        case krpc_method::ping:
            break;
        case krpc_method::unknown:
            m.query.method_name = "frobnicate";
            break;
    }
    return dht::encode_krpc(m);
}

krpc_message decode_one(const std::vector<dht_transmit>& out) {
    EXPECT_EQ(out.size(), 1u);
    auto decoded = decode_krpc(as_bytes(out.at(0).bytes));
    EXPECT_TRUE(decoded.has_value());
    return decoded.value_or(krpc_message{});
}

// Honest dht_node cores and adversaries (adversary_service) as hosts of one simulated network
// (network.hpp): 20 ms of latency plus up to 10 ms of jitter, no loss, a seeded generator. Each
// host has one service; the honest nodes' events are drained and dropped.
class mixed_network : public network {
public:
    static constexpr service_id the_service = 1;  // the first service of a fresh host

    explicit mixed_network(std::uint64_t seed) : network(params(seed)), seed_(seed) {
        set_ready_handler([this](host_index i, time_point, service_id id) {
            while (at(i).get<dht_node>(id).poll_event()) {
            }
        });
    }

    adversary_directory directory;  // the adversaries read it when they act: fill it before running

    std::size_t add_honest(dht_config config = {}) {
        const host_index i = add_host(v4_endpoint(static_cast<std::uint32_t>(size())));
        at(i).add(now(), std::make_unique<dht_node>(config, seed_ * 1000003 + i, now()));
        pump(i);
        return i;
    }

    std::size_t add_adversary(adversary_kind kind, const node_id& id, adversary_config config = {}) {
        const host_index i = add_host(v4_endpoint(static_cast<std::uint32_t>(size())));
        // Woken at once: the first on_timer call schedules what follows.
        at(i).add(now(), std::make_unique<adversary_service>(kind, node_contact{id, address_of(i)},
                                                             seed_ * 1000003 + i, directory, now(), config));
        pump(i);
        return i;
    }

    bool is_honest(std::size_t i) { return at(index(i)).get(the_service).name() == "dht"; }
    dht_node& honest(std::size_t i) { return at(index(i)).get<dht_node>(the_service); }
    adversary_node& adversary(std::size_t i) {
        return at(index(i)).get<adversary_service>(the_service).node();
    }
    const endpoint& address(std::size_t i) const { return address_of(index(i)); }
    node_contact contact(std::size_t i) {
        return node_contact{is_honest(i) ? honest(i).id() : adversary(i).self().id, address(i)};
    }

    template <class F>
    void command(std::size_t i, F&& f) {
        call<dht_node>(index(i), the_service, [&](dht_node& node) { f(node, now()); });
    }

private:
    static host_index index(std::size_t i) { return static_cast<host_index>(i); }
    static network_params params(std::uint64_t seed) {
        network_params p;
        p.seed = seed;
        p.latency = milliseconds(20);
        p.jitter = milliseconds(10);
        p.start = time_point(std::chrono::hours(1));
        return p;
    }

    std::uint64_t seed_;
};

// n honest nodes bootstrapped off the first one.
std::vector<std::size_t> add_honest_network(mixed_network& net, std::size_t n) {
    std::vector<std::size_t> honest{net.add_honest()};
    dht_config config;
    config.bootstrap = {net.address(honest[0])};
    for (std::size_t i = 1; i < n; ++i) {
        honest.push_back(net.add_honest(config));
    }
    for (std::size_t i = 1; i < n; ++i) {
        net.command(honest[i], [](dht_node& node, time_point now) { node.bootstrap(now); });
    }
    return honest;
}

std::vector<dht::node_info> table_entries(mixed_network& net, std::size_t i) {
    std::vector<dht::node_info> out;
    net.honest(i).table().for_each(net.now(), [&](const dht::node_info& info) { out.push_back(info); });
    return out;
}

// ---- names, ids, directory ----

TEST(adversary_kind, names_round_trip) {
    for (auto kind : {adversary_kind::none, adversary_kind::drop, adversary_kind::wrong_routing,
                      adversary_kind::collude, adversary_kind::fake_updates, adversary_kind::bad_bootstrap}) {
        EXPECT_EQ(parse_adversary_kind(to_string(kind)), kind);
    }
    EXPECT_EQ(to_string(adversary_kind::wrong_routing), "wrong_routing");
    EXPECT_FALSE(parse_adversary_kind("sybil"));
    EXPECT_FALSE(parse_adversary_kind(""));
}

TEST(adversary_sybil, ids_share_the_prefix_and_no_more) {
    rng random(7);
    const node_id target = random_node_id(random);
    for (int shared : {0, 1, 7, 8, 9, 20, 100, 159, 160}) {
        int exact = 0;
        for (int draw = 0; draw < 200; ++draw) {
            const node_id id = sybil_id(target, shared, random);
            ASSERT_GE(common_prefix_bits(id, target), shared);
            exact += common_prefix_bits(id, target) == shared ? 1 : 0;
        }
        // The bit after the prefix is random: about half the ids differ there.
        if (shared < 160) {
            EXPECT_GT(exact, 60) << shared;
            EXPECT_LT(exact, 140) << shared;
        }
    }
    EXPECT_EQ(sybil_id(target, 400, random), target);
    EXPECT_GE(common_prefix_bits(sybil_id(target, -3, random), target), 0);
}

TEST(adversary_directory, closest_colluders_match_brute_force) {
    rng random(11);
    adversary_directory directory;
    std::vector<node_contact> all;
    for (std::uint32_t i = 0; i < 5000; ++i) {
        all.push_back({random_node_id(random), v4_endpoint(i)});
    }
    // A Sybil cluster: deep shared prefixes exercise the deep end of the trie walk.
    const node_id cluster = random_node_id(random);
    for (std::uint32_t i = 0; i < 300; ++i) {
        all.push_back({sybil_id(cluster, 40 + static_cast<int>(i % 100), random), v4_endpoint(5000 + i)});
    }
    std::vector<node_contact> shuffled = all;
    for (std::size_t i = shuffled.size(); i > 1; --i) {
        std::swap(shuffled[i - 1], shuffled[random.uniform(i)]);
    }
    for (const auto& c : shuffled) {
        directory.add_colluder(c);
    }
    directory.finish();
    ASSERT_EQ(directory.colluders(), all.size());
    for (int t = 0; t < 1000; ++t) {
        node_id target = random_node_id(random);
        if (t % 4 == 1) {
            target = sybil_id(cluster, 30 + t % 120, random);
        } else if (t % 4 == 2) {
            target = all[random.uniform(all.size())].id;  // a colluder's own id
        }
        const auto expected = brute_closest(all, target, 16);
        for (std::size_t count : {std::size_t{1}, std::size_t{8}, std::size_t{9}, std::size_t{16}}) {
            const std::vector<node_contact> prefix(expected.begin(),
                                                   expected.begin() + static_cast<std::ptrdiff_t>(count));
            ASSERT_EQ(directory.closest_colluders(target, count), prefix)
                << "target " << target.to_hex() << " count " << count;
        }
    }
    EXPECT_TRUE(directory.is_colluder(all[17].id));
    EXPECT_FALSE(directory.is_colluder(random_node_id(random)));
}

TEST(adversary_directory, closest_colluders_keep_to_one_family) {
    rng random(12);
    adversary_directory directory;
    std::vector<node_contact> v4;
    std::vector<node_contact> v6;
    for (std::uint32_t i = 0; i < 400; ++i) {
        node_contact c{random_node_id(random), i % 3 == 0 ? v6_endpoint(i) : v4_endpoint(i)};
        (i % 3 == 0 ? v6 : v4).push_back(c);
        directory.add_colluder(c);
    }
    directory.finish();
    for (int t = 0; t < 200; ++t) {
        const node_id target = random_node_id(random);
        EXPECT_EQ(directory.closest_colluders(target, 8, ip_family::v4), brute_closest(v4, target, 8));
        EXPECT_EQ(directory.closest_colluders(target, 8, ip_family::v6), brute_closest(v6, target, 8));
    }
    // Fewer than asked: all of them.
    adversary_directory few;
    few.add_colluder(v4[0]);
    few.add_colluder(v6[0]);
    few.finish();
    EXPECT_EQ(few.closest_colluders(v4[0].id, 8, ip_family::v4), std::vector<node_contact>{v4[0]});
    EXPECT_EQ(few.closest_colluders(v4[0].id, 8).size(), 2u);
    EXPECT_TRUE(adversary_directory{}.closest_colluders(v4[0].id, 8).empty());
}

TEST(adversary_directory, far_honest_are_far_distinct_and_honest) {
    rng random(13);
    adversary_directory directory;
    for (std::uint32_t i = 0; i < 1000; ++i) {
        directory.add_honest({random_node_id(random), v4_endpoint(i)});
    }
    directory.add_honest({random_node_id(random), v6_endpoint(1)});
    directory.finish();
    EXPECT_EQ(directory.honest(), 1001u);
    for (int t = 0; t < 200; ++t) {
        const node_id target = random_node_id(random);
        const auto far = directory.far_honest(target, 8, random, ip_family::v4);
        ASSERT_EQ(far.size(), 8u);
        std::set<node_id> ids;
        for (const auto& c : far) {
            EXPECT_EQ(common_prefix_bits(c.id, target), 0);
            EXPECT_TRUE(directory.is_honest(c.id));
            EXPECT_TRUE(c.ep.address.is_v4());
            ids.insert(c.id);
        }
        EXPECT_EQ(ids.size(), far.size());
    }
    EXPECT_NE(directory.random_honest(random), nullptr);
    EXPECT_EQ(adversary_directory{}.random_honest(random), nullptr);
    EXPECT_TRUE(adversary_directory{}.far_honest(random_node_id(random), 8, random).empty());
}

// ---- one adversary, datagram by datagram ----

// The driver may hold 3 * 10^4 of them: no contacts of their own, a few words of state.
TEST(adversary_node, is_small) {
    EXPECT_LE(sizeof(adversary_node), 160u);
}

TEST(adversary_node, drop_never_answers) {
    rng random(21);
    adversary_directory directory;
    for (std::uint32_t i = 0; i < 50; ++i) {
        directory.add_colluder({random_node_id(random), v4_endpoint(i)});
    }
    directory.finish();
    adversary_node drop(adversary_kind::drop, {random_node_id(random), v4_endpoint(100)}, 1);
    std::vector<dht_transmit> out;
    for (auto method : {krpc_method::ping, krpc_method::find_node, krpc_method::get_peers, krpc_method::get,
                        krpc_method::announce_peer}) {
        drop.on_datagram(time_point{}, v4_endpoint(200),
                         as_bytes(query_bytes(method, random_node_id(random), random_node_id(random))),
                         directory, out);
    }
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(drop.stats().queries_in, 5u);
    EXPECT_EQ(drop.stats().dropped, 5u);
    EXPECT_EQ(drop.stats().answers_out, 0u);
    EXPECT_FALSE(drop.on_timer(time_point{}, directory, out));

    // An honest node that holds it as good asks it, hears nothing, and times out.
    mixed_network net(21);
    const auto a = net.add_honest();
    const auto d = net.add_adversary(adversary_kind::drop, random_node_id(random));
    net.honest(a).add_answered_contact(net.now(), net.contact(d), milliseconds(40));
    net.command(a, [&](dht_node& node, time_point now) { node.find_node(now, random_node_id(random)); });
    net.run_for(seconds(10));
    EXPECT_GE(net.adversary(d).stats().queries_in, 1u);
    EXPECT_EQ(net.adversary(d).stats().answers_out, 0u);
    EXPECT_EQ(net.honest(a).stats().responses_in, 0u);
    EXPECT_GE(net.honest(a).stats().timeouts, 1u);
}

TEST(adversary_node, wrong_routing_answers_with_far_honest_nodes_and_is_believed) {
    rng random(22);
    adversary_directory directory;
    for (std::uint32_t i = 0; i < 1000; ++i) {
        directory.add_honest({random_node_id(random), v4_endpoint(1000 + i)});
    }
    for (std::uint32_t i = 0; i < 20; ++i) {
        directory.add_honest({random_node_id(random), v6_endpoint(i)});
    }
    directory.finish();
    const node_contact self{random_node_id(random), v4_endpoint(1)};
    adversary_node wrong(adversary_kind::wrong_routing, self, 5);

    // A real honest node asks it in a lookup.
    const time_point now{std::chrono::hours(1)};
    dht_node asker(dht_config{}, 99, now);
    const endpoint asker_ep = v4_endpoint(2);
    asker.add_answered_contact(now, self, milliseconds(30));
    const node_id target = random_node_id(random);
    ASSERT_NE(asker.find_node(now, target), 0u);
    auto query = asker.poll_datagram();
    ASSERT_TRUE(query);
    ASSERT_EQ(query->to, self.ep);
    std::vector<dht_transmit> out;
    wrong.on_datagram(now, asker_ep, as_bytes(query->bytes), directory, out);
    const krpc_message reply = decode_one(out);
    ASSERT_EQ(reply.type, krpc_message::kind::response);
    EXPECT_EQ(reply.transaction_id, decode_krpc(as_bytes(query->bytes))->transaction_id);
    EXPECT_EQ(reply.response.id, self.id);
    EXPECT_EQ(reply.requester, asker_ep);
    ASSERT_EQ(reply.response.nodes.size(), 8u);
    EXPECT_TRUE(reply.response.nodes6.empty());
    EXPECT_TRUE(reply.response.values.empty());
    std::set<endpoint> far_endpoints;
    for (const auto& c : reply.response.nodes) {
        EXPECT_TRUE(directory.is_honest(c.id));
        EXPECT_EQ(common_prefix_bits(c.id, target), 0) << "not far: " << c.id.to_hex();
        far_endpoints.insert(c.ep);
    }

    // The honest core takes the answer and follows it to the far nodes.
    asker.on_datagram(now + milliseconds(30), self.ep, as_bytes(out[0].bytes));
    EXPECT_EQ(asker.stats().responses_in, 1u);
    EXPECT_EQ(asker.stats().unexpected, 0u);
    EXPECT_EQ(asker.stats().id_mismatch, 0u);
    EXPECT_EQ(asker.stats().malformed, 0u);
    std::size_t followed = 0;
    while (auto tx = asker.poll_datagram()) {
        EXPECT_TRUE(far_endpoints.count(tx->to) == 1) << tx->to.to_string();
        ++followed;
    }
    EXPECT_GE(followed, 3u);

    // get_peers: far nodes and a token, never values.
    out.clear();
    wrong.on_datagram(now, asker_ep,
                      as_bytes(query_bytes(krpc_method::get_peers, random_node_id(random), target)),
                      directory, out);
    const krpc_message peers = decode_one(out);
    EXPECT_TRUE(peers.response.token && !peers.response.token->empty());
    EXPECT_TRUE(peers.response.values.empty());
    EXPECT_EQ(peers.response.nodes.size(), 8u);
}

TEST(adversary_node, collude_answers_with_the_exact_closest_colluders) {
    rng random(23);
    adversary_directory directory;
    std::vector<node_contact> v4;
    for (std::uint32_t i = 0; i < 500; ++i) {
        v4.push_back({random_node_id(random), v4_endpoint(i)});
        directory.add_colluder(v4.back());
    }
    for (std::uint32_t i = 0; i < 30; ++i) {
        directory.add_colluder({random_node_id(random), v6_endpoint(i)});
    }
    for (std::uint32_t i = 0; i < 100; ++i) {
        directory.add_honest({random_node_id(random), v4_endpoint(1000 + i)});
    }
    directory.finish();
    const node_contact self = v4[3];
    std::vector<node_contact> others = v4;
    others.erase(others.begin() + 3);
    for (auto kind : {adversary_kind::collude, adversary_kind::bad_bootstrap, adversary_kind::fake_updates}) {
        adversary_node colluder(kind, self, 6);
        for (int t = 0; t < 200; ++t) {
            // Targets right at the colluder too: it leaves itself out, the asker knows it already.
            const node_id target = t % 10 == 0 ? sybil_id(self.id, 150, random) : random_node_id(random);
            const auto method = t % 2 == 0 ? krpc_method::find_node : krpc_method::get_peers;
            std::vector<dht_transmit> out;
            colluder.on_datagram(time_point{}, v4_endpoint(2000),
                                 as_bytes(query_bytes(method, random_node_id(random), target)), directory,
                                 out);
            const krpc_message reply = decode_one(out);
            ASSERT_EQ(reply.type, krpc_message::kind::response);
            EXPECT_EQ(reply.response.nodes, brute_closest(others, target, 8)) << to_string(kind);
            EXPECT_TRUE(reply.response.nodes6.empty());
            EXPECT_TRUE(reply.response.values.empty());
            EXPECT_EQ(reply.response.token.has_value(), method == krpc_method::get_peers);
        }
    }
    // Stores are acknowledged and dropped; an unknown method gets 204 like an honest node's.
    adversary_node colluder(adversary_kind::collude, self, 6);
    for (auto method : {krpc_method::announce_peer, krpc_method::put, krpc_method::ping}) {
        std::vector<dht_transmit> out;
        colluder.on_datagram(time_point{}, v4_endpoint(2000),
                             as_bytes(query_bytes(method, random_node_id(random), self.id)), directory, out);
        const krpc_message reply = decode_one(out);
        EXPECT_EQ(reply.type, krpc_message::kind::response) << dht::to_string(method);
        EXPECT_TRUE(reply.response.nodes.empty());
        EXPECT_FALSE(reply.response.value);
    }
    std::vector<dht_transmit> out;
    colluder.on_datagram(time_point{}, v4_endpoint(2000),
                         as_bytes(query_bytes(krpc_method::get, random_node_id(random), self.id)), directory,
                         out);
    EXPECT_FALSE(decode_one(out).response.value);
    EXPECT_TRUE(decode_one(out).response.token);
    out.clear();
    colluder.on_datagram(time_point{}, v4_endpoint(2000),
                         as_bytes(query_bytes(krpc_method::unknown, random_node_id(random), self.id)),
                         directory, out);
    EXPECT_EQ(decode_one(out).type, krpc_message::kind::error);
    EXPECT_EQ(decode_one(out).error.code, dht::krpc_errc::method_unknown);
    // An IPv6 asker hears of IPv6 colluders only.
    out.clear();
    colluder.on_datagram(time_point{}, v6_endpoint(900),
                         as_bytes(query_bytes(krpc_method::find_node, random_node_id(random), self.id)),
                         directory, out);
    const krpc_message six = decode_one(out);
    EXPECT_TRUE(six.response.nodes.empty());
    EXPECT_EQ(six.response.nodes6.size(), 8u);
}

TEST(adversary_node, malformed_datagrams_are_ignored) {
    rng random(24);
    adversary_directory directory;
    directory.add_colluder({random_node_id(random), v4_endpoint(5)});
    directory.finish();
    const node_contact self{random_node_id(random), v4_endpoint(1)};
    adversary_node colluder(adversary_kind::collude, self, 7);

    krpc_message response;
    response.type = krpc_message::kind::response;
    response.transaction_id = "xy";
    response.response.id = random_node_id(random);
    krpc_message error;
    error.type = krpc_message::kind::error;
    error.transaction_id = "xy";
    const std::string find =
        query_bytes(krpc_method::find_node, random_node_id(random), random_node_id(random));
    const std::vector<std::string> junk = {
        "",
        "garbage",
        "d1:ad2:id20:",                                                   // truncated
        find.substr(0, find.size() / 2),                                  // cut in half
        "d1:ad2:id3:abce1:q9:find_node1:t2:aa1:y1:qe",                    // short id, no target
        "d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae1:q9:find_node1:t2:aa1:y1:qe",  // no target
        "d1:y1:qe",
        "li1ei2ee",
        std::string(5000, 'd'),
        dht::encode_krpc(response),  // answers and errors are not ours to take
        dht::encode_krpc(error),
        query_bytes(krpc_method::ping, self.id, self.id),  // our own id: a reflection
    };
    std::vector<dht_transmit> out;
    for (const auto& bytes : junk) {
        colluder.on_datagram(time_point{}, v4_endpoint(2), as_bytes(bytes), directory, out);
    }
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(colluder.stats().ignored, junk.size());
    EXPECT_EQ(colluder.stats().queries_in, 0u);
    EXPECT_EQ(colluder.stats().answers_out, 0u);
}

TEST(adversary_node, fake_updates_push_at_a_bounded_rate) {
    rng random(25);
    adversary_directory directory;
    std::set<endpoint> honest_endpoints;
    for (std::uint32_t i = 0; i < 100; ++i) {
        directory.add_honest({random_node_id(random), v4_endpoint(i)});
        honest_endpoints.insert(v4_endpoint(i));
    }
    directory.finish();
    const node_contact self{random_node_id(random), v4_endpoint(500)};
    adversary_node pusher(adversary_kind::fake_updates, self, 8);
    std::vector<dht_transmit> out;
    const time_point start{std::chrono::hours(1)};
    auto wake = pusher.on_timer(start, directory, out);
    ASSERT_TRUE(wake);
    EXPECT_LT(*wake, start + seconds(10));
    EXPECT_TRUE(out.empty());
    // Woken far more often than it asks: still one query per interval at most.
    for (time_point now = start; now < start + seconds(100); now += milliseconds(100)) {
        wake = pusher.on_timer(now, directory, out);
        ASSERT_TRUE(wake);
        EXPECT_GT(*wake, now);
    }
    EXPECT_GE(out.size(), 9u);
    EXPECT_LE(out.size(), 10u);
    EXPECT_EQ(pusher.stats().pushes_out, out.size());
    std::set<krpc_method> methods;
    for (const auto& tx : out) {
        auto q = decode_krpc(as_bytes(tx.bytes));
        ASSERT_TRUE(q);
        ASSERT_EQ(q->type, krpc_message::kind::query);
        EXPECT_EQ(q->query.id, self.id);
        methods.insert(q->query.method);
        EXPECT_EQ(honest_endpoints.count(tx.to), 1u);
    }
    EXPECT_EQ(methods, (std::set<krpc_method>{krpc_method::find_node, krpc_method::ping}));

    // Nobody to push to: it keeps waking, sends nothing.
    adversary_node idle(adversary_kind::fake_updates, self, 8);
    std::vector<dht_transmit> none;
    idle.on_timer(start, adversary_directory{}, none);
    EXPECT_TRUE(idle.on_timer(start + seconds(20), adversary_directory{}, none));
    EXPECT_TRUE(none.empty());
    for (auto kind : {adversary_kind::none, adversary_kind::drop, adversary_kind::wrong_routing,
                      adversary_kind::collude, adversary_kind::bad_bootstrap}) {
        adversary_node passive(kind, self, 8);
        EXPECT_FALSE(passive.on_timer(start, directory, none)) << to_string(kind);
    }
    EXPECT_TRUE(none.empty());
}

TEST(adversary_node, same_seed_same_output) {
    rng random(26);
    adversary_directory directory;
    for (std::uint32_t i = 0; i < 300; ++i) {
        directory.add_honest({random_node_id(random), v4_endpoint(i)});
        directory.add_colluder({random_node_id(random), v4_endpoint(1000 + i)});
    }
    directory.finish();
    std::vector<std::string> queries;
    for (int i = 0; i < 50; ++i) {
        queries.push_back(query_bytes(i % 3 == 0 ? krpc_method::get_peers : krpc_method::find_node,
                                      random_node_id(random), random_node_id(random)));
    }
    const auto run = [&](adversary_kind kind, std::uint64_t seed) {
        adversary_node node(kind, {random_node_id(random), v4_endpoint(5000)}, seed);
        std::vector<dht_transmit> out;
        time_point now{std::chrono::hours(1)};
        for (const auto& q : queries) {
            node.on_datagram(now, v4_endpoint(7000), as_bytes(q), directory, out);
            node.on_timer(now, directory, out);
            now += seconds(3);
        }
        std::vector<std::pair<endpoint, std::string>> sent;
        for (auto& tx : out) {
            sent.emplace_back(tx.to, std::string(as_chars(tx.bytes)));
        }
        return sent;
    };
    for (auto kind : {adversary_kind::wrong_routing, adversary_kind::fake_updates, adversary_kind::collude}) {
        random = rng(27);
        const auto first = run(kind, 42);
        random = rng(27);
        EXPECT_EQ(run(kind, 42), first) << to_string(kind);
        random = rng(27);
        EXPECT_NE(run(kind, 43), first) << to_string(kind);  // tokens, samples and pushes follow the seed
    }
}

// ---- attacks on real honest cores ----

TEST(adversary_attack, bad_bootstrap_leads_a_newcomer_into_a_partition_of_colluders) {
    rng random(31);
    mixed_network net(31);
    const auto honest = add_honest_network(net, 16);
    std::vector<std::size_t> colluders;
    for (int i = 0; i < 24; ++i) {
        colluders.push_back(net.add_adversary(adversary_kind::collude, random_node_id(random)));
    }
    const auto bootstrap = net.add_adversary(adversary_kind::bad_bootstrap, random_node_id(random));
    colluders.push_back(bootstrap);  // the bootstrap node is part of the partition
    for (auto c : colluders) {
        net.directory.add_colluder(net.contact(c));
    }
    for (auto h : honest) {
        net.directory.add_honest(net.contact(h));  // known to the adversaries, never handed out
    }
    net.directory.finish();
    net.run_for(seconds(30));

    dht_config config;
    config.bootstrap = {net.address(bootstrap)};
    const auto newcomer = net.add_honest(config);
    net.command(newcomer, [](dht_node& node, time_point now) { node.bootstrap(now); });
    net.run_for(minutes(3));

    const auto entries = table_entries(net, newcomer);
    std::printf("bad_bootstrap: the newcomer's table holds %zu nodes, %zu with replacements\n",
                net.honest(newcomer).table().size(), entries.size());
    EXPECT_GE(net.honest(newcomer).table().size(), 8u);
    ASSERT_FALSE(entries.empty());
    for (const auto& e : entries) {
        EXPECT_TRUE(net.directory.is_colluder(e.contact.id)) << e.contact.ep.to_string();
    }
    // A lookup from inside the partition sees only colluders.
    const node_id target = net.contact(honest[3]).id;
    net.command(newcomer, [&](dht_node& node, time_point now) { node.find_node(now, target); });
    net.run_for(seconds(30));
    for (const auto& e : table_entries(net, newcomer)) {
        EXPECT_TRUE(net.directory.is_colluder(e.contact.id));
    }
    EXPECT_GT(net.adversary(bootstrap).stats().answers_out, 0u);
}

// Colluders pushing themselves at honest nodes: returns how many honest tables hold a colluder,
// and the total of colluder entries, for a seed.
std::pair<std::size_t, std::size_t> run_fake_updates(std::uint64_t seed) {
    rng random(seed);
    mixed_network net(seed);
    const auto honest = add_honest_network(net, 20);
    net.run_for(seconds(30));  // settled before the attack
    adversary_config config;
    config.push_interval = seconds(1);
    std::vector<std::size_t> colluders;
    for (int i = 0; i < 12; ++i) {
        colluders.push_back(net.add_adversary(adversary_kind::fake_updates, random_node_id(random), config));
    }
    for (auto c : colluders) {
        net.directory.add_colluder(net.contact(c));
    }
    for (auto h : honest) {
        net.directory.add_honest(net.contact(h));
    }
    net.directory.finish();
    for (auto h : honest) {
        for (const auto& e : table_entries(net, h)) {
            EXPECT_FALSE(net.directory.is_colluder(e.contact.id));
        }
    }
    net.run_for(minutes(2));
    std::size_t victims = 0;
    std::size_t entries = 0;
    for (auto h : honest) {
        std::size_t here = 0;
        for (const auto& e : table_entries(net, h)) {
            here += net.directory.is_colluder(e.contact.id) && !e.replacement && e.confirmed ? 1 : 0;
        }
        victims += here > 0 ? 1 : 0;
        entries += here;
    }
    std::uint64_t pushes = 0;
    for (auto c : colluders) {
        pushes += net.adversary(c).stats().pushes_out;
    }
    EXPECT_LE(pushes, colluders.size() * 121);  // one a second each, for two minutes
    return {victims, entries};
}

TEST(adversary_attack, fake_updates_get_colluders_into_honest_tables) {
    const auto [victims, entries] = run_fake_updates(41);
    std::printf("fake_updates: %zu of 20 honest tables hold colluders, %zu entries\n", victims, entries);
    EXPECT_GE(victims, 15u);
    EXPECT_GE(entries, 40u);
    // Deterministic for a seed.
    EXPECT_EQ(run_fake_updates(41), std::make_pair(victims, entries));
}

}  // namespace
}  // namespace hyphae::sim
