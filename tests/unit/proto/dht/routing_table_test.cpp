#include "hyphae/proto/dht/routing_table.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include <gtest/gtest.h>

namespace hyphae::dht {
namespace {

const time_point t0{seconds(1'000'000)};
constexpr duration rtt = milliseconds(80);

bool bit_of(const node_id& id, std::size_t bit) {
    return ((id.bytes[bit / 8] >> (7 - bit % 8)) & 1) != 0;
}

// A random id sharing exactly `bits` leading bits with `self`.
node_id id_sharing(const node_id& self, std::size_t bits, rng& random) {
    node_id id = random_node_id(random);
    for (std::size_t bit = 0; bit <= bits && bit < 160; ++bit) {
        const bool want = bit == bits ? !bit_of(self, bit) : bit_of(self, bit);
        const auto mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
        id.bytes[bit / 8] =
            static_cast<std::uint8_t>(want ? id.bytes[bit / 8] | mask : id.bytes[bit / 8] & ~mask);
    }
    return id;
}

// Every n in its own public /24.
endpoint public_ep(std::uint32_t n, std::uint16_t port = 6881) {
    return endpoint{ip_address::v4(0x01000001u + (n << 8)), port};
}

endpoint ep_of(const char* text) {
    return *endpoint::parse(text);
}

struct routing_table_test : ::testing::Test {
    rng random{42};
    node_id self = random_node_id(random);
    routing_table_config config;
    std::unique_ptr<routing_table> table = std::make_unique<routing_table>(self, config, t0);
    std::uint32_t next_ep = 1;

    void remake() { table = std::make_unique<routing_table>(self, config, t0); }

    node_contact contact_at(std::size_t bits) {
        return {id_sharing(self, bits, random), public_ep(next_ep++)};
    }

    // n confirmed (good) contacts in the bucket of depth `bits`.
    std::vector<node_contact> fill(std::size_t bits, std::size_t n, time_point now = t0) {
        std::vector<node_contact> out;
        for (std::size_t i = 0; i < n; ++i) {
            out.push_back(contact_at(bits));
            EXPECT_EQ(table->heard_response(now, out.back(), rtt), placement::live);
        }
        return out;
    }

    node_state state(const node_contact& c, time_point now) { return table->find(c.id, now)->state; }
    bool is_live(const node_contact& c) {
        auto info = table->find(c.id, t0);
        return info && !info->replacement && info->contact == c;
    }
    bool is_cached(const node_contact& c) {
        auto info = table->find(c.id, t0);
        return info && info->replacement && info->contact == c;
    }
};

// Structural invariants that every sequence of inputs must keep.
::testing::AssertionResult holds_invariants(const routing_table& table, const routing_table_config& config,
                                            time_point now) {
    std::vector<std::size_t> live(table.bucket_count());
    std::vector<std::size_t> cached(table.bucket_count());
    std::vector<std::size_t> bad(table.bucket_count());
    std::set<node_id> ids;
    std::set<endpoint> eps;
    std::map<std::size_t, std::vector<ip_address>> prefixes;
    std::string problem;
    table.for_each(now, [&](const node_info& n) {
        const auto shared = static_cast<std::size_t>(common_prefix_bits(table.self(), n.contact.id));
        if (n.bucket != std::min(shared, table.bucket_count() - 1)) {
            problem += " node in the wrong bucket;";
        }
        if (n.contact.id == table.self()) {
            problem += " self inserted;";
        }
        if (!ids.insert(n.contact.id).second || !eps.insert(n.contact.ep).second) {
            problem += " duplicate id or endpoint;";
        }
        if (n.replacement && n.state == node_state::bad) {
            problem += " bad replacement;";
        }
        (n.replacement ? cached : live)[n.bucket] += 1;
        bad[n.bucket] += !n.replacement && n.state == node_state::bad ? 1 : 0;
        if (config.restrict_ips && !is_local_address(n.contact.ep.address)) {
            for (const ip_address& other : prefixes[n.bucket]) {
                if (same_ip_prefix(other, n.contact.ep.address)) {
                    problem += " two nodes of one /24 in a bucket;";
                }
            }
            prefixes[n.bucket].push_back(n.contact.ep.address);
        }
    });
    if (table.bucket_count() > config.buckets_max) {
        problem += " too many buckets;";
    }
    for (std::size_t i = 0; i < table.bucket_count(); ++i) {
        if (live[i] > config.bucket_size || cached[i] > config.replacements_max) {
            problem += " bucket " + std::to_string(i) + " over its bounds;";
        }
        // Replacements wait only for a full bucket of nodes that are not bad.
        if (cached[i] > 0 && (live[i] < config.bucket_size || bad[i] > 0)) {
            problem += " bucket " + std::to_string(i) + " has replacements and room;";
        }
    }
    if (!problem.empty()) {
        return ::testing::AssertionFailure() << problem;
    }
    return ::testing::AssertionSuccess();
}

TEST_F(routing_table_test, starts_with_one_bucket_and_never_holds_itself) {
    EXPECT_EQ(table->bucket_count(), 1u);
    EXPECT_EQ(table->size(), 0u);
    EXPECT_EQ(table->heard_response(t0, {self, public_ep(1)}, rtt), placement::refused);
    EXPECT_EQ(table->heard_of(t0, {self, public_ep(1)}), placement::refused);
    EXPECT_EQ(table->heard_of(t0, {random_node_id(random), public_ep(2, 0)}), placement::refused);
    EXPECT_EQ(table->heard_of(t0, {random_node_id(random), ep_of("0.0.0.0:6881")}), placement::refused);
    EXPECT_EQ(table->size(), 0u);
    const node_contact c = contact_at(3);
    EXPECT_EQ(table->heard_response(t0, c, rtt), placement::live);
    const auto info = table->find(c.id, t0);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->contact, c);
    EXPECT_EQ(info->state, node_state::good);
    EXPECT_EQ(info->rtt, milliseconds(80));
    EXPECT_TRUE(info->confirmed);
    EXPECT_EQ(table->size(), 1u);
}

TEST_F(routing_table_test, splits_only_the_bucket_holding_self) {
    // Far nodes (bit 0 differs) fill the single bucket; the ninth splits it once, then waits.
    fill(0, 8);
    EXPECT_EQ(table->bucket_count(), 1u);
    const node_contact ninth = contact_at(0);
    EXPECT_EQ(table->heard_response(t0, ninth, rtt), placement::replacement);
    EXPECT_EQ(table->bucket_count(), 2u);
    for (int i = 0; i < 20; ++i) {
        table->heard_response(t0, contact_at(0), rtt);
    }
    EXPECT_EQ(table->bucket_count(), 2u);
    EXPECT_EQ(table->size(), 8u);
    // Nearer nodes keep splitting the last bucket.
    for (std::size_t bits = 1; bits < 6; ++bits) {
        fill(bits, 8);
    }
    EXPECT_EQ(table->size(), 48u);
    EXPECT_EQ(table->bucket_count(), 6u);
    EXPECT_TRUE(holds_invariants(*table, config, t0));
}

TEST_F(routing_table_test, holds_buckets_max_and_the_bucket_bounds) {
    config.buckets_max = 4;
    config.replacements_max = 3;
    remake();
    for (std::size_t bits = 0; bits < 160; ++bits) {
        for (int i = 0; i < 12; ++i) {
            table->heard_response(t0, contact_at(bits), rtt);
            table->heard_of(t0, contact_at(bits));
        }
    }
    EXPECT_EQ(table->bucket_count(), 4u);
    EXPECT_EQ(table->size(), 32u);
    EXPECT_EQ(table->replacement_count(), 12u);
    EXPECT_TRUE(holds_invariants(*table, config, t0));
}

TEST_F(routing_table_test, splits_down_to_160_buckets_at_most) {
    for (std::size_t bits = 0; bits < 160; ++bits) {
        table->heard_response(t0, contact_at(bits), rtt);
    }
    // One node at each depth: buckets split only when full, so the last holds everything deep.
    EXPECT_LE(table->bucket_count(), 160u);
    config.bucket_size = 1;
    remake();
    for (std::size_t bits = 0; bits < 160; ++bits) {
        table->heard_response(t0, contact_at(bits), rtt);
    }
    EXPECT_EQ(table->bucket_count(), 160u);
    EXPECT_EQ(table->size(), 160u);
    EXPECT_TRUE(holds_invariants(*table, config, t0));
}

TEST_F(routing_table_test, never_evicts_good_nodes_for_newcomers) {
    fill(0, 1);
    const auto good = fill(0, 7);
    fill(1, 8);  // bucket 0 is no longer the last: it cannot split
    for (int i = 0; i < 50; ++i) {
        const node_contact c = contact_at(0);
        EXPECT_NE(table->heard_response(t0 + seconds(i), c, rtt), placement::live);
        table->heard_query(t0 + seconds(i), contact_at(0));
        table->heard_of(t0 + seconds(i), contact_at(0));
    }
    for (const auto& c : good) {
        EXPECT_TRUE(is_live(c));
    }
    EXPECT_EQ(table->replacement_count(), 8u);
    // Good nodes are not pinged either: nothing is questionable.
    EXPECT_EQ(table->next_ping(t0 + seconds(60)), std::nullopt);
    EXPECT_TRUE(holds_invariants(*table, config, t0));
}

TEST_F(routing_table_test, a_newcomer_takes_the_slot_of_a_bad_node) {
    auto nodes = fill(0, 8);
    fill(1, 8);
    for (int i = 0; i < 3; ++i) {
        table->heard_failure(t0, nodes[2]);
    }
    EXPECT_EQ(state(nodes[2], t0), node_state::bad);
    EXPECT_TRUE(is_live(nodes[2]));  // no replacement yet: it keeps the slot
    EXPECT_EQ(table->size(), 15u);
    const node_contact c = contact_at(0);
    EXPECT_EQ(table->heard_of(t0, c), placement::live);
    EXPECT_FALSE(table->find(nodes[2].id, t0));
    EXPECT_EQ(table->counters().replaced_bad, 1u);
    EXPECT_EQ(table->size(), 16u);
}

TEST_F(routing_table_test, questionable_nodes_are_pinged_and_the_newcomer_waits) {
    const auto nodes = fill(0, 8);
    fill(1, 8, t0 + minutes(10));
    const time_point later = t0 + minutes(16);
    EXPECT_EQ(state(nodes[0], later), node_state::questionable);
    const node_contact newcomer = contact_at(0);
    EXPECT_EQ(table->heard_response(later, newcomer, rtt), placement::replacement);
    // Contested bucket 0 comes first, even though bucket 1's nodes are idle too by then.
    const time_point much_later = t0 + minutes(30);
    std::set<node_id> pinged;
    for (int i = 0; i < 8; ++i) {
        const auto p = table->next_ping(much_later);
        ASSERT_TRUE(p);
        EXPECT_EQ(common_prefix_bits(self, p->id), 0);
        pinged.insert(p->id);
    }
    EXPECT_EQ(pinged.size(), 8u);
    // All answer: the long-lived ones stay, the newcomer keeps waiting.
    for (const auto& c : nodes) {
        table->heard_response(much_later, c, rtt);
        EXPECT_EQ(state(c, much_later), node_state::good);
    }
    EXPECT_TRUE(is_cached(newcomer));
    // One fails three times in a row: the newcomer takes its place.
    table->heard_failure(much_later, nodes[5]);
    table->heard_failure(much_later, nodes[5]);
    EXPECT_TRUE(is_live(nodes[5]));
    table->heard_failure(much_later, nodes[5]);
    EXPECT_FALSE(table->find(nodes[5].id, much_later));
    EXPECT_TRUE(is_live(newcomer));
    EXPECT_EQ(table->counters().promoted, 1u);
    EXPECT_TRUE(holds_invariants(*table, config, much_later));
}

TEST_F(routing_table_test, promotes_the_best_replacement_after_failures) {
    const auto nodes = fill(0, 8);
    fill(1, 8);
    const node_contact rumour = contact_at(0);
    const node_contact responder = contact_at(0);
    const node_contact later_rumour = contact_at(0);
    EXPECT_EQ(table->heard_of(t0, rumour), placement::replacement);
    EXPECT_EQ(table->heard_response(t0, responder, rtt), placement::replacement);
    EXPECT_EQ(table->heard_of(t0 + seconds(1), later_rumour), placement::replacement);
    for (int i = 0; i < 3; ++i) {
        table->heard_failure(t0, nodes[0]);
    }
    // A node that answered us beats more recent hearsay.
    EXPECT_TRUE(is_live(responder));
    for (int i = 0; i < 3; ++i) {
        table->heard_failure(t0, nodes[1]);
    }
    EXPECT_TRUE(is_live(later_rumour));  // then the most recently heard
    EXPECT_TRUE(is_cached(rumour));
}

TEST_F(routing_table_test, node_states_follow_bep5_over_time) {
    const node_contact c = contact_at(2);
    table->heard_response(t0, c, rtt);
    EXPECT_EQ(state(c, t0 + minutes(14)), node_state::good);
    EXPECT_EQ(state(c, t0 + minutes(15)), node_state::questionable);
    // A node that has answered once is good again when it queries us.
    table->heard_query(t0 + minutes(20), c);
    EXPECT_EQ(state(c, t0 + minutes(20)), node_state::good);
    EXPECT_EQ(state(c, t0 + minutes(35)), node_state::questionable);
    // Failures: questionable at once, bad at fail_limit, good again on an answer.
    table->heard_failure(t0 + minutes(21), c);
    EXPECT_EQ(state(c, t0 + minutes(21)), node_state::questionable);
    table->heard_failure(t0 + minutes(21), c);
    table->heard_failure(t0 + minutes(21), c);
    EXPECT_EQ(state(c, t0 + minutes(21)), node_state::bad);
    EXPECT_EQ(table->size(), 0u);
    table->heard_response(t0 + minutes(22), c, milliseconds(40));
    EXPECT_EQ(state(c, t0 + minutes(22)), node_state::good);
    EXPECT_EQ(table->find(c.id, t0)->rtt, milliseconds(70));  // smoothed: (3 * 80 + 40) / 4
    EXPECT_EQ(table->find(c.id, t0)->fails, 0);

    // A node that only queries us is never good; one failure makes it bad.
    const time_point now = t0 + minutes(23);
    const node_contact q = contact_at(2);
    EXPECT_EQ(table->heard_query(now, q), placement::live);
    EXPECT_EQ(state(q, now), node_state::questionable);
    EXPECT_FALSE(table->find(q.id, now)->confirmed);
    table->heard_failure(now, q);
    EXPECT_EQ(state(q, now), node_state::bad);
}

TEST_F(routing_table_test, fail_limit_is_configurable) {
    config.fail_limit = 5;
    remake();
    const node_contact c = contact_at(2);
    table->heard_response(t0, c, rtt);
    for (int i = 0; i < 4; ++i) {
        table->heard_failure(t0, c);
    }
    EXPECT_EQ(state(c, t0), node_state::questionable);
    table->heard_failure(t0, c);
    EXPECT_EQ(state(c, t0), node_state::bad);
}

TEST_F(routing_table_test, unconfirmed_contacts_fill_free_slots_and_yield_to_responders) {
    std::vector<node_contact> heard;
    for (int i = 0; i < 8; ++i) {
        heard.push_back(contact_at(0));
        EXPECT_EQ(table->heard_of(t0, heard.back()), placement::live);
    }
    fill(1, 8);
    EXPECT_EQ(table->heard_query(t0, contact_at(0)), placement::replacement);
    // A responder takes the slot of the contact heard of longest ago.
    table->heard_of(t0 + seconds(5), heard[0]);
    const node_contact responder = contact_at(0);
    EXPECT_EQ(table->heard_response(t0 + seconds(6), responder, rtt), placement::live);
    EXPECT_FALSE(table->find(heard[1].id, t0));
    EXPECT_TRUE(is_live(heard[0]));
    EXPECT_EQ(table->counters().replaced_unconfirmed, 1u);
    // The confirmed filter leaves unconfirmed contacts out of answers to others.
    const auto answer = table->closest(heard[0].id, 8, closest_filter::confirmed);
    EXPECT_EQ(answer.size(), 8u);
    EXPECT_TRUE(std::none_of(answer.begin(), answer.end(), [&](const node_contact& c) {
        return common_prefix_bits(self, c.id) == 0 && c != responder;
    }));
}

TEST_F(routing_table_test, a_replacement_that_answers_wins_a_slot_held_by_hearsay) {
    for (int i = 0; i < 8; ++i) {
        table->heard_of(t0, contact_at(0));
    }
    fill(1, 8);
    const node_contact waiting = contact_at(0);
    EXPECT_EQ(table->heard_of(t0, waiting), placement::replacement);
    EXPECT_EQ(table->heard_response(t0, waiting, rtt), placement::live);
    EXPECT_EQ(table->replacement_count(), 0u);
}

TEST_F(routing_table_test, a_good_node_keeps_its_endpoint) {
    const node_contact c = contact_at(1);
    table->heard_response(t0, c, rtt);
    const node_contact moved{c.id, public_ep(999)};
    EXPECT_EQ(table->heard_response(t0 + seconds(1), moved, rtt), placement::refused);
    EXPECT_EQ(table->heard_query(t0 + seconds(1), moved), placement::refused);
    EXPECT_EQ(table->heard_of(t0 + seconds(1), moved), placement::refused);
    EXPECT_TRUE(is_live(c));
    EXPECT_EQ(table->counters().refused_hijack, 3u);
    // Questionable: queries and hearsay still change nothing; an answer from the new endpoint does.
    const time_point idle = t0 + minutes(20);
    EXPECT_EQ(table->heard_of(idle, moved), placement::refused);
    EXPECT_EQ(table->heard_query(idle, moved), placement::refused);
    EXPECT_TRUE(is_live(c));
    EXPECT_EQ(table->heard_response(idle, moved, rtt), placement::live);
    EXPECT_TRUE(is_live(moved));
    // Failures at the old endpoint are not the moved node's.
    table->heard_failure(idle, c);
    EXPECT_EQ(table->find(c.id, idle)->fails, 0);
    EXPECT_EQ(table->size(), 1u);
}

TEST_F(routing_table_test, an_endpoint_gets_a_new_id_only_from_a_response_over_a_node_not_good) {
    const node_contact c = contact_at(1);
    table->heard_response(t0, c, rtt);
    const node_contact other_id{contact_at(4).id, c.ep};
    EXPECT_EQ(table->heard_response(t0, other_id, rtt), placement::refused);
    EXPECT_EQ(table->heard_of(t0, other_id), placement::refused);
    const time_point idle = t0 + minutes(20);
    EXPECT_EQ(table->heard_query(idle, other_id), placement::refused);
    EXPECT_EQ(table->heard_response(idle, other_id, rtt), placement::live);
    EXPECT_FALSE(table->find(c.id, idle));
    EXPECT_TRUE(is_live(other_id));
    EXPECT_EQ(table->size(), 1u);
    // A bad entry yields even to hearsay.
    for (int i = 0; i < 3; ++i) {
        table->heard_failure(idle, other_id);
    }
    const node_contact third{contact_at(2).id, c.ep};
    EXPECT_EQ(table->heard_of(idle, third), placement::live);
    EXPECT_FALSE(table->find(other_id.id, idle));
    EXPECT_TRUE(holds_invariants(*table, config, idle));
}

TEST_F(routing_table_test, restrict_ips_allows_one_public_slash24_per_bucket) {
    config.restrict_ips = true;
    remake();
    fill(0, 8);  // each in its own /24
    const node_id near_id = id_sharing(self, 1, random);
    const node_contact a{id_sharing(self, 3, random), ep_of("8.8.8.8:6881")};
    const node_contact same24{id_sharing(self, 3, random), ep_of("8.8.8.9:6881")};
    const node_contact other_bucket{id_sharing(self, 0, random), ep_of("8.8.8.10:6881")};
    EXPECT_EQ(table->heard_response(t0, a, rtt), placement::live);
    EXPECT_EQ(table->heard_response(t0, same24, rtt), placement::refused);
    EXPECT_EQ(table->heard_of(t0, same24), placement::refused);
    EXPECT_EQ(table->counters().refused_ip, 2u);
    // Another bucket (here through its replacement cache) may hold the same /24 once.
    EXPECT_EQ(table->heard_response(t0, other_bucket, rtt), placement::replacement);
    const node_contact other_bucket_too{id_sharing(self, 0, random), ep_of("8.8.8.11:6881")};
    EXPECT_EQ(table->heard_response(t0, other_bucket_too, rtt), placement::refused);
    // Loopback and private addresses are exempt.
    for (std::uint16_t port = 1; port <= 4; ++port) {
        EXPECT_EQ(table->heard_response(
                      t0, {id_sharing(self, 2, random), endpoint{ip_address::v4(0x7f000001u), port}}, rtt),
                  placement::live);
    }
    EXPECT_EQ(table->heard_response(t0, {near_id, ep_of("192.168.1.1:6881")}, rtt), placement::live);
    EXPECT_EQ(table->heard_response(t0, {id_sharing(self, 1, random), ep_of("192.168.1.2:6881")}, rtt),
              placement::live);
    // IPv6: one per /64.
    EXPECT_EQ(table->heard_response(t0, {id_sharing(self, 3, random), ep_of("[2001:db8:1:2::1]:6881")}, rtt),
              placement::live);
    EXPECT_EQ(table->heard_response(t0, {id_sharing(self, 3, random), ep_of("[2001:db8:1:2::2]:6881")}, rtt),
              placement::refused);
    EXPECT_EQ(table->heard_response(t0, {id_sharing(self, 3, random), ep_of("[2001:db8:1:3::1]:6881")}, rtt),
              placement::live);
    // A bad node of the prefix yields (a node back on a new port).
    for (int i = 0; i < 3; ++i) {
        table->heard_failure(t0, a);
    }
    EXPECT_EQ(table->heard_response(t0, same24, rtt), placement::live);
    EXPECT_FALSE(table->find(a.id, t0));
    EXPECT_TRUE(holds_invariants(*table, config, t0));
}

TEST_F(routing_table_test, restrict_ips_off_allows_a_whole_slash24) {
    for (std::uint16_t i = 1; i <= 8; ++i) {
        EXPECT_EQ(table->heard_response(
                      t0, {id_sharing(self, 0, random), endpoint{ip_address::v4(0x08080800u + i), 1}}, rtt),
                  placement::live);
    }
}

TEST(routing_table_addresses, local_addresses_and_prefixes) {
    for (const char* local :
         {"10.1.2.3", "127.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1", "169.254.1.1", "::1",
          "fc00::1", "fd12::1", "fe80::1", "febf::1", "::ffff:10.0.0.1"}) {
        EXPECT_TRUE(is_local_address(*ip_address::parse(local))) << local;
    }
    for (const char* global :
         {"8.8.8.8", "172.32.0.1", "172.15.0.1", "192.169.0.1", "1.1.1.1", "2001:db8::1", "fec0::1", "::2"}) {
        EXPECT_FALSE(is_local_address(*ip_address::parse(global))) << global;
    }
    EXPECT_TRUE(same_ip_prefix(*ip_address::parse("1.2.3.4"), *ip_address::parse("1.2.3.200")));
    EXPECT_FALSE(same_ip_prefix(*ip_address::parse("1.2.3.4"), *ip_address::parse("1.2.4.4")));
    EXPECT_TRUE(same_ip_prefix(*ip_address::parse("2001:db8::1"), *ip_address::parse("2001:db8::ffff:1")));
    EXPECT_FALSE(same_ip_prefix(*ip_address::parse("2001:db8::1"), *ip_address::parse("2001:db8:0:1::1")));
    EXPECT_FALSE(same_ip_prefix(*ip_address::parse("1.2.3.4"), *ip_address::parse("102:304::")));
}

TEST_F(routing_table_test,
       prefer_verified_lets_a_verified_responder_displace_an_unverified_questionable_node) {
    for (const bool prefer : {false, true}) {
        config.prefer_verified = prefer;
        remake();
        const auto nodes = fill(0, 8);
        fill(1, 8);
        const time_point idle = t0 + minutes(16);
        // Seven answer again (good); nodes[3] stays questionable.
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            if (i != 3) {
                table->heard_response(idle, nodes[i], rtt);
            }
        }
        // Hearsay and queries with a verified id do not count: the address was not proven.
        EXPECT_EQ(table->heard_of(idle, contact_at(0), true), placement::replacement);
        EXPECT_EQ(table->heard_response(idle, contact_at(0), rtt, false), placement::replacement);
        const node_contact verified = contact_at(0);
        EXPECT_EQ(table->heard_response(idle, verified, rtt, true),
                  prefer ? placement::live : placement::replacement);
        EXPECT_EQ(is_live(nodes[3]), !prefer);
        EXPECT_TRUE(table->find(verified.id, idle)->verified);
        // Good unverified nodes are never displaced.
        EXPECT_EQ(table->heard_response(idle, contact_at(0), rtt, true), placement::replacement);
        EXPECT_EQ(table->counters().replaced_unverified, prefer ? 1u : 0u);
        EXPECT_TRUE(holds_invariants(*table, config, idle));
    }
}

TEST_F(routing_table_test, next_ping_marks_each_node_until_it_answers_or_fails) {
    const auto nodes = fill(2, 3);
    EXPECT_EQ(table->next_ping(t0), std::nullopt);  // all good
    const time_point idle = t0 + minutes(15);
    std::set<node_id> pinged;
    for (int i = 0; i < 3; ++i) {
        const auto p = table->next_ping(idle);
        ASSERT_TRUE(p);
        EXPECT_TRUE(table->find(p->id, idle)->ping_pending);
        pinged.insert(p->id);
    }
    EXPECT_EQ(pinged.size(), 3u);
    EXPECT_EQ(table->next_ping(idle), std::nullopt);
    table->heard_failure(idle, nodes[1]);  // questionable still: may be asked again
    EXPECT_EQ(table->next_ping(idle), nodes[1]);
    table->heard_response(idle, nodes[0], rtt);
    EXPECT_EQ(table->next_ping(idle + minutes(14)), std::nullopt);
    EXPECT_EQ(table->next_ping(idle + minutes(15)), nodes[0]);
    // Unconfirmed contacts come before idle confirmed ones.
    const node_contact heard = contact_at(2);
    table->heard_of(idle + minutes(20), heard);
    table->heard_response(idle + minutes(20), nodes[2], rtt);
    EXPECT_EQ(table->next_ping(idle + minutes(40)), heard);
}

TEST_F(routing_table_test, refresh_targets_fall_in_the_range_of_an_idle_bucket) {
    for (std::size_t bits = 0; bits < 6; ++bits) {
        fill(bits, 8);
    }
    ASSERT_EQ(table->bucket_count(), 6u);
    // Bucket 2 has an answer later: it will not be due with the others.
    table->heard_response(t0 + minutes(5), table->closest(id_sharing(self, 2, random), 1).front(), rtt);
    EXPECT_EQ(table->next_refresh_target(t0 + minutes(14), random), std::nullopt);
    const time_point later = t0 + minutes(15);
    std::set<std::size_t> refreshed;
    for (int i = 0; i < 5; ++i) {
        const auto target = table->next_refresh_target(later, random);
        ASSERT_TRUE(target);
        const auto shared = static_cast<std::size_t>(common_prefix_bits(self, *target));
        refreshed.insert(std::min<std::size_t>(shared, 5));
    }
    EXPECT_EQ(refreshed, (std::set<std::size_t>{0, 1, 3, 4, 5}));
    EXPECT_EQ(table->next_refresh_target(later, random), std::nullopt);
    EXPECT_TRUE(table->next_refresh_target(t0 + minutes(20), random));  // bucket 2, 15 min after its answer
    // Many draws: always inside the range, covering it.
    std::map<std::size_t, int> depth;
    for (int i = 0; i < 2000; ++i) {
        const time_point at = t0 + minutes(20) + minutes(15) * (i + 1);
        while (const auto target = table->next_refresh_target(at, random)) {
            depth[static_cast<std::size_t>(common_prefix_bits(self, *target))] += 1;
        }
    }
    for (const auto& [d, n] : depth) {
        EXPECT_GT(n, 0);
        if (d < 5) {
            EXPECT_EQ(n, 2000) << d;  // one per round for each bucket 0..4
        }
    }
    int deep = 0;
    for (const auto& [d, n] : depth) {
        deep += d >= 5 ? n : 0;
    }
    EXPECT_EQ(deep, 2000);
    EXPECT_GT(depth[5], 800);  // half of the last bucket's range shares exactly 5 bits
}

TEST_F(routing_table_test, closest_matches_a_brute_force_sort) {
    for (int round = 0; round < 40; ++round) {
        self = random_node_id(random);
        config.bucket_size = 1 + random.uniform(10);
        remake();
        const time_point now = t0 + minutes(1);
        const auto n = 1 + random.uniform(400);
        std::vector<node_contact> all;
        for (std::uint64_t i = 0; i < n; ++i) {
            // Ids that crowd around self, as in a real network, and some far away.
            node_contact c = contact_at(std::min<std::size_t>(random.uniform(24), random.uniform(24)));
            switch (random.uniform(4)) {
                case 0:
                    table->heard_of(now, c);
                    break;
                case 1:
                    table->heard_query(now, c);
                    break;
                default:
                    table->heard_response(now, c, rtt);
            }
            if (random.uniform(6) == 0) {
                table->heard_failure(now, c);
            }
        }
        ASSERT_TRUE(holds_invariants(*table, config, now));
        for (const auto filter : {closest_filter::live, closest_filter::confirmed}) {
            std::vector<node_contact> eligible;
            table->for_each(now, [&](const node_info& info) {
                if (!info.replacement && info.state != node_state::bad &&
                    (filter == closest_filter::live || (info.confirmed && info.fails == 0))) {
                    eligible.push_back(info.contact);
                }
            });
            for (int q = 0; q < 50; ++q) {
                node_id target = random_node_id(random);
                if (q % 3 == 0) {
                    target = id_sharing(self, random.uniform(30), random);
                } else if (q % 3 == 1 && !eligible.empty()) {
                    target = eligible[random.uniform(eligible.size())].id;
                }
                const std::size_t count = random.uniform(30);
                auto expected = eligible;
                std::sort(expected.begin(), expected.end(),
                          [&](const node_contact& a, const node_contact& b) {
                              return closer_to(target, a.id, b.id);
                          });
                expected.resize(std::min(count, expected.size()));
                ASSERT_EQ(table->closest(target, count, filter), expected) << "round " << round;
            }
        }
    }
}

TEST_F(routing_table_test, closest_leaves_out_bad_nodes) {
    const auto nodes = fill(0, 4);
    for (int i = 0; i < 3; ++i) {
        table->heard_failure(t0, nodes[0]);
    }
    const auto found = table->closest(nodes[0].id, 10);
    EXPECT_EQ(found.size(), 3u);
    EXPECT_EQ(std::count(found.begin(), found.end(), nodes[0]), 0);
    table->heard_failure(t0, nodes[1]);
    EXPECT_EQ(table->closest(nodes[0].id, 10, closest_filter::live).size(), 3u);
    EXPECT_EQ(table->closest(nodes[0].id, 10, closest_filter::confirmed).size(), 2u);
}

TEST_F(routing_table_test, random_inputs_keep_the_invariants) {
    for (const bool restrict : {false, true}) {
        config.restrict_ips = restrict;
        config.prefer_verified = restrict;
        config.replacements_max = 4;
        remake();
        std::vector<node_contact> seen;
        time_point now = t0;
        for (int i = 0; i < 6000; ++i) {
            now += milliseconds(random.uniform(3000));
            node_contact c;
            if (!seen.empty() && random.uniform(3) == 0) {
                c = seen[random.uniform(seen.size())];
                // Sometimes the same id elsewhere, or another id at the same place.
                if (random.uniform(8) == 0) {
                    c.ep = public_ep(static_cast<std::uint32_t>(random.uniform(3000)));
                } else if (random.uniform(8) == 0) {
                    c.id = random_node_id(random);
                }
            } else {
                c = {id_sharing(self, std::min(random.uniform(20), random.uniform(20)), random),
                     public_ep(static_cast<std::uint32_t>(random.uniform(3000)),
                               static_cast<std::uint16_t>(1 + random.uniform(3)))};
                seen.push_back(c);
            }
            const bool verified = random.uniform(2) == 0;
            switch (random.uniform(6)) {
                case 0:
                    table->heard_of(now, c, verified);
                    break;
                case 1:
                    table->heard_query(now, c, verified);
                    break;
                case 2:
                    table->heard_failure(now, c);
                    break;
                case 3:
                    if (auto p = table->next_ping(now)) {
                        random.uniform(2) == 0 ? table->heard_failure(now, *p)
                                               : void(table->heard_response(now, *p, rtt, verified));
                    }
                    break;
                default:
                    table->heard_response(now, c, milliseconds(random.uniform(500)), verified);
            }
            if (i % 97 == 0) {
                ASSERT_TRUE(holds_invariants(*table, config, now)) << "step " << i;
            }
        }
        EXPECT_TRUE(holds_invariants(*table, config, now));
        EXPECT_GT(table->size(), 50u);
    }
}

TEST_F(routing_table_test, hearsay_floods_never_flush_responders_from_the_replacement_cache) {
    config.replacements_max = 4;
    remake();
    fill(0, 8);
    fill(1, 8);
    std::vector<node_contact> responders;
    for (int i = 0; i < 2; ++i) {
        responders.push_back(contact_at(0));
        table->heard_response(t0, responders.back(), rtt);
    }
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(table->heard_of(t0 + seconds(i), contact_at(0)), placement::replacement);
        ASSERT_LE(table->replacement_count(), 4u);
    }
    for (const auto& c : responders) {
        EXPECT_TRUE(is_cached(c));
    }
    config.replacements_max = 0;
    remake();
    fill(0, 8);
    fill(1, 8);
    EXPECT_EQ(table->heard_response(t0, contact_at(0), rtt), placement::refused);
    EXPECT_EQ(table->replacement_count(), 0u);
}

TEST_F(routing_table_test, saves_and_parses_its_contacts) {
    fill(0, 3);
    fill(4, 2);
    const node_contact v6{id_sharing(self, 1, random), ep_of("[2001:db8::7]:51413")};
    table->heard_response(t0, v6, rtt);
    const node_contact bad = contact_at(2);
    table->heard_of(t0, bad);
    table->heard_failure(t0, bad);
    const std::string saved = table->save();
    const auto parsed = routing_table::parse_saved(as_bytes(saved), 100);
    ASSERT_TRUE(parsed) << parsed.error().message();
    EXPECT_EQ(parsed->id, self);
    std::vector<node_contact> expected;
    table->for_each(t0, [&](const node_info& n) {
        if (!n.replacement && n.state != node_state::bad) {
            expected.push_back(n.contact);
        }
    });
    auto by_id = [](const node_contact& a, const node_contact& b) {
        return a.id < b.id;
    };
    auto got = parsed->nodes;
    std::sort(got.begin(), got.end(), by_id);
    std::sort(expected.begin(), expected.end(), by_id);
    EXPECT_EQ(got, expected);
    EXPECT_EQ(got.size(), 6u);
    // Re-added as unconfirmed contacts, they all find their place again.
    auto copy = routing_table(parsed->id, config, t0);
    for (const auto& c : parsed->nodes) {
        EXPECT_EQ(copy.heard_of(t0, c), placement::live);
    }
    EXPECT_EQ(copy.size(), 6u);
    // An empty table saves empty strings.
    EXPECT_EQ(routing_table(self, config, t0).save(),
              "d2:id20:" + std::string(self.chars()) + "5:nodes0:6:nodes60:e");
}

TEST(routing_table_parse_saved, rejects_malformed_input_with_clear_errors) {
    const std::string id(20, 'a');
    const std::string node(26, 'b');
    auto error_of = [](const std::string& text, std::size_t max = 10) {
        const auto parsed = routing_table::parse_saved(as_bytes(text), max);
        return parsed ? std::string("accepted") : parsed.error().message();
    };
    EXPECT_EQ(error_of("d2:id20:" + id + "e"), "accepted");  // no nodes at all
    EXPECT_EQ(error_of("d2:id20:" + id + "7:unknowni1ee"), "accepted");
    EXPECT_NE(error_of("d2:id20:" + id).find("dht routing table: bencode:"), std::string::npos);
    EXPECT_EQ(error_of("li1ee"), "dht routing table: not a dictionary");
    EXPECT_EQ(error_of("de"), "dht routing table: id: missing or not 20 bytes");
    EXPECT_EQ(error_of("d2:id3:abce"), "dht routing table: id: missing or not 20 bytes");
    EXPECT_EQ(error_of("d2:idi1ee"), "dht routing table: id: missing or not 20 bytes");
    EXPECT_EQ(error_of("d2:id20:" + id + "5:nodesi1ee"), "dht routing table: nodes: not a string");
    EXPECT_EQ(error_of("d2:id20:" + id + "5:nodes25:" + node.substr(1) + "e"),
              "dht routing table: nodes: length 25 is not a multiple of 26");
    EXPECT_EQ(error_of("d2:id20:" + id + "6:nodes626:" + node + "e"),
              "dht routing table: nodes6: length 26 is not a multiple of 38");
    std::string many;
    for (int i = 0; i < 11; ++i) {
        many += node;
    }
    EXPECT_EQ(error_of("d2:id20:" + id + "5:nodes286:" + many + "e"),
              "dht routing table: nodes: more than 10 contacts");
    EXPECT_EQ(
        routing_table::parse_saved(as_bytes("d2:id20:" + id + "5:nodes286:" + many + "e"), 10).error().code,
        errc::limit_exceeded);
    EXPECT_EQ(error_of("d2:id20:" + id + "5:nodes286:" + many + "e", 11), "accepted");
}

TEST_F(routing_table_test, an_entry_is_48_bytes_and_a_table_of_150_stays_small) {
    EXPECT_EQ(routing_table::entry_size, 48u);
    // The table of a node in a network of 10^6: bucket d holds min(8, 10^6 / 2^(d+1)) nodes.
    config.replacements_max = 0;
    remake();
    const std::size_t network = 1'000'000;
    for (std::size_t d = 0; (network >> (d + 1)) > 0; ++d) {
        for (std::size_t i = 0; i < std::min<std::size_t>(8, network >> (d + 1)); ++i) {
            table->heard_response(t0, contact_at(d), rtt);
        }
    }
    const std::size_t live = table->size();
    EXPECT_GE(live, 130u);
    EXPECT_LE(live, 160u);
    const std::size_t bytes = table->memory_bytes();
    std::printf("routing table: %zu live entries in %zu buckets, %zu bytes\n", live, table->bucket_count(),
                bytes);
    EXPECT_LE(bytes, 10'000u);
    // With full replacement caches (8 more per bucket where the network has them).
    config.replacements_max = 8;
    remake();
    for (std::size_t d = 0; (network >> (d + 1)) > 0; ++d) {
        for (std::size_t i = 0; i < std::min<std::size_t>(16, network >> (d + 1)); ++i) {
            table->heard_response(t0, contact_at(d), rtt);
        }
    }
    const std::size_t with_cache = table->memory_bytes();
    std::printf("routing table: %zu live + %zu replacements in %zu buckets, %zu bytes\n", table->size(),
                table->replacement_count(), table->bucket_count(), with_cache);
    EXPECT_LE(with_cache, 20'000u);
}

TEST_F(routing_table_test, prefer_long_lived_off_lets_a_responder_evict_the_least_recently_active) {
    config.prefer_long_lived = false;
    remake();
    std::vector<node_contact> good;
    for (int i = 0; i < 8; ++i) {
        const auto one = fill(0, 1, t0 + seconds(i));  // good[0] is the least recently active
        good.push_back(one[0]);
    }
    fill(1, 8);  // bucket 0 is no longer the last: it cannot split
    // Hearsay and queries do not evict: only a node that answered us.
    EXPECT_NE(table->heard_of(t0 + seconds(20), contact_at(0)), placement::live);
    EXPECT_NE(table->heard_query(t0 + seconds(20), contact_at(0)), placement::live);
    const node_contact fresh = contact_at(0);
    EXPECT_EQ(table->heard_response(t0 + seconds(20), fresh, rtt), placement::live);
    EXPECT_TRUE(is_live(fresh));
    EXPECT_FALSE(is_live(good[0]));
    EXPECT_TRUE(is_live(good[1]));
    EXPECT_EQ(state(good[1], t0 + seconds(20)), node_state::good);
    EXPECT_EQ(table->counters().replaced_live, 1u);
    // The next responder takes the next oldest.
    EXPECT_EQ(table->heard_response(t0 + seconds(21), contact_at(0), rtt), placement::live);
    EXPECT_FALSE(is_live(good[1]));
    EXPECT_TRUE(is_live(good[2]));
    EXPECT_EQ(table->counters().replaced_live, 2u);
    EXPECT_TRUE(holds_invariants(*table, config, t0 + seconds(21)));
}

TEST_F(routing_table_test, prefer_long_lived_on_keeps_good_nodes_against_responders) {
    ASSERT_TRUE(config.prefer_long_lived);  // the default
    const auto good = fill(0, 8);
    fill(1, 8);
    EXPECT_EQ(table->heard_response(t0 + seconds(20), contact_at(0), rtt), placement::replacement);
    for (const auto& c : good) {
        EXPECT_TRUE(is_live(c));
    }
    EXPECT_EQ(table->counters().replaced_live, 0u);
}

TEST_F(routing_table_test, require_verified_refuses_ids_that_do_not_fit_their_address) {
    config.require_verified = true;
    remake();
    const node_contact unverified = contact_at(3);
    EXPECT_EQ(table->heard_response(t0, unverified, rtt, false), placement::refused);
    EXPECT_EQ(table->heard_query(t0, contact_at(3), false), placement::refused);
    EXPECT_EQ(table->heard_of(t0, contact_at(3), false), placement::refused);
    EXPECT_EQ(table->counters().refused_unverified, 3u);
    EXPECT_EQ(table->size(), 0u);
    EXPECT_EQ(table->heard_response(t0, contact_at(3), rtt, true), placement::live);
    // Local addresses are exempt: their owner cannot know its external address.
    const node_contact local{id_sharing(self, 3, random), ep_of("192.168.1.7:6881")};
    EXPECT_EQ(table->heard_response(t0, local, rtt, false), placement::live);
    EXPECT_EQ(table->size(), 2u);
    // Off (the default), the same contact is taken.
    config.require_verified = false;
    remake();
    EXPECT_EQ(table->heard_response(t0, unverified, rtt, false), placement::live);
}

}  // namespace
}  // namespace hyphae::dht

namespace hyphae::dht {
namespace {

TEST_F(routing_table_test, has_at_least_agrees_with_size_as_the_table_fills_and_fails) {
    std::vector<node_contact> added;
    for (std::size_t i = 0; i < 60; ++i) {
        added.push_back(contact_at(i % 12));
        table->heard_response(t0, added.back(), rtt);
        if (i % 7 == 3) {
            for (int f = 0; f < 3; ++f) {
                table->heard_failure(t0, added[i / 2]);  // some go bad: counted out of both
            }
        }
        const std::size_t n = table->size();
        for (std::size_t want = 0; want <= n + 2; ++want) {
            ASSERT_EQ(table->has_at_least(want), n >= want) << "size " << n << ", asked " << want;
        }
    }
}

}  // namespace
}  // namespace hyphae::dht
