#include "hyphae/proto/dht/dht_node.hpp"

#include <algorithm>

#include "../../sim/dht_hosts.hpp"
#include <gtest/gtest.h>

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/proto/dht/item.hpp"
#include "hyphae/proto/dht/node_id_policy.hpp"

namespace hyphae::dht {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::bootstrapped_from;
using test::dht_hosts;
using test::done_event;
using test::events_of;
using test::finished;
using test::make_network;

id160 hash_of(std::string_view text) {
    return sha1(as_bytes(text));
}

TEST(dht_node, two_nodes_learn_each_other) {
    dht_hosts net;
    net.add_node();
    net.add_node(bootstrapped_from(net.address(0)));
    const auto id = net.command(1, [](dht_node& n, time_point now) { return n.bootstrap(now); });
    ASSERT_NE(id, 0u);
    ASSERT_TRUE(net.run_for([&] { return finished(net, 1, id); }, seconds(10)));
    EXPECT_EQ(net.node(1).table().size(), 1u);
    EXPECT_EQ(net.node(0).table().size(), 1u);
}

TEST(dht_node, a_network_bootstraps_from_one_node) {
    dht_hosts net;
    make_network(net, 60);
    for (std::size_t i = 0; i < net.size(); ++i) {
        EXPECT_GE(net.node(i).table().size(), 8u) << "node " << i;
    }
}

TEST(dht_node, an_announced_peer_is_found_by_another_node) {
    dht_hosts net;
    make_network(net, 60);
    const id160 ih = hash_of("some torrent");
    const auto a = net.command(5, [&](dht_node& n, time_point now) { return n.announce(now, ih, 7000); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 5, a); }, seconds(20)));
    const auto announced = *done_event(net, 5, a);
    EXPECT_GE(announced.stored, 6u);

    const auto g = net.command(40, [&](dht_node& n, time_point now) { return n.get_peers(now, ih); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 40, g); }, seconds(20)));
    std::vector<endpoint> found;
    for (auto& p : events_of<peers_found>(net, 40)) {
        found.insert(found.end(), p.peers.begin(), p.peers.end());
    }
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0], (endpoint{net.address(5).address, 7000}));
    const auto done = *done_event(net, 40, g);
    EXPECT_EQ(done.peers, 1u);
    EXPECT_GT(done.stats.queries, 0u);
    EXPECT_GE(done.stats.hops, 1);
    EXPECT_EQ(done.closest.size(), 8u);
}

TEST(dht_node, implied_port_announces_the_udp_port) {
    dht_hosts net;
    make_network(net, 20);
    const id160 ih = hash_of("implied");
    const auto a = net.command(3, [&](dht_node& n, time_point now) { return n.announce(now, ih, 0); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 3, a); }, seconds(20)));
    const auto g = net.command(9, [&](dht_node& n, time_point now) { return n.get_peers(now, ih); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 9, g); }, seconds(20)));
    auto found = events_of<peers_found>(net, 9);
    ASSERT_FALSE(found.empty());
    EXPECT_EQ(found[0].peers[0], net.address(3));
}

TEST(dht_node, immutable_item_put_by_one_is_got_by_another) {
    dht_hosts net;
    make_network(net, 40);
    const std::string value = "12:Hello World!";
    const auto p = net.command(2, [&](dht_node& n, time_point now) { return n.put_immutable(now, value); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 2, p); }, seconds(20)));
    EXPECT_GE(done_event(net, 2, p)->stored, 6u);
    const node_id target = *node_id::from_hex("e5f96f6f38320f0f33959cb4d3d656452117aadb");
    const auto g = net.command(30, [&](dht_node& n, time_point now) { return n.get_immutable(now, target); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 30, g); }, seconds(20)));
    auto items = events_of<item_found>(net, 30);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].value, value);
    EXPECT_TRUE(done_event(net, 30, g)->found_item);
}

TEST(dht_node, mutable_item_put_twice_is_got_at_its_latest_seq) {
    dht_hosts net;
    make_network(net, 40);
    ed25519::secret_key secret;
    secret.seed.fill(7);
    const ed25519::public_key key = ed25519::public_key_of(secret);
    const auto p1 = net.command(
        4, [&](dht_node& n, time_point now) { return n.put_mutable(now, secret, "salt", "5:first"); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 4, p1); }, seconds(20)));
    EXPECT_EQ(done_event(net, 4, p1)->seq, 1);
    const auto p2 = net.command(
        6, [&](dht_node& n, time_point now) { return n.put_mutable(now, secret, "salt", "6:second"); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 6, p2); }, seconds(20)));
    EXPECT_EQ(done_event(net, 6, p2)->seq, 2);
    EXPECT_GE(done_event(net, 6, p2)->stored, 6u);

    const auto g =
        net.command(33, [&](dht_node& n, time_point now) { return n.get_mutable(now, key, "salt"); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 33, g); }, seconds(20)));
    auto items = events_of<item_found>(net, 33);
    ASSERT_FALSE(items.empty());
    EXPECT_EQ(items.back().value, "6:second");
    EXPECT_EQ(items.back().seq, 2);
    // Another salt is another item.
    const auto none =
        net.command(33, [&](dht_node& n, time_point now) { return n.get_mutable(now, key, "other"); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 33, none); }, seconds(20)));
    EXPECT_FALSE(done_event(net, 33, none)->found_item);
}

TEST(dht_node, lookups_move_past_silent_nodes) {
    test::dht_hosts_options opts;
    opts.latency = milliseconds(30);
    dht_hosts net(opts);
    make_network(net, 80);
    for (std::size_t i = 1; i < 80; i += 4) {
        net.take_down(static_cast<sim::host_index>(i));  // a quarter of the network goes silent: down
    }
    const id160 ih = hash_of("through the silence");
    const auto a = net.command(2, [&](dht_node& n, time_point now) { return n.announce(now, ih, 9000); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 2, a); }, seconds(30)));
    const auto g = net.command(43, [&](dht_node& n, time_point now) { return n.get_peers(now, ih); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 43, g); }, seconds(30)));
    const auto done = *done_event(net, 43, g);
    EXPECT_EQ(done.peers, 1u);
    // No waiting for the 4 s hard timeout: soft timeouts follow the ~60 ms RTT.
    EXPECT_LT(done.stats.elapsed, seconds(2));
}

TEST(dht_node, takes_an_id_that_fits_the_address_others_see) {
    test::dht_hosts_options opts;
    opts.base_address = 0x2c000001;  // 44.0.0.1: public, so BEP 42 applies
    dht_hosts net(opts);
    make_network(net, 12);
    std::size_t changed = 0;
    for (std::size_t i = 1; i < net.size(); ++i) {
        EXPECT_TRUE(verify_node_id(net.node(i).id(), net.address(i).address)) << "node " << i;
        for (auto& notice : events_of<external_address>(net, i)) {
            EXPECT_EQ(notice.address, net.address(i));
            changed += notice.new_id ? 1 : 0;
        }
        EXPECT_GE(net.node(i).table().size(), 8u) << "node " << i;
    }
    EXPECT_EQ(changed, net.size() - 1);  // random ids never fit (2^-21)
    // Lookups still work across the new ids.
    const id160 ih = hash_of("after the change");
    const auto a = net.command(3, [&](dht_node& n, time_point now) { return n.announce(now, ih, 7000); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 3, a); }, seconds(20)));
    const auto g = net.command(9, [&](dht_node& n, time_point now) { return n.get_peers(now, ih); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 9, g); }, seconds(20)));
    EXPECT_EQ(done_event(net, 9, g)->peers, 1u);
}

TEST(dht_node, answers_malformed_queries_with_203_and_unknown_methods_with_204) {
    dht_hosts net;
    net.add_node();
    const endpoint stranger{*ip_address::parse("10.9.9.9"), 1234};
    auto replies = net.exchange(0, stranger, "d1:ad2:id3:abce1:q4:ping1:t2:xy1:y1:qe");
    ASSERT_EQ(replies.size(), 1u);
    auto e = decode_krpc(as_bytes(replies[0]));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->type, krpc_message::kind::error);
    EXPECT_EQ(e->error.code, krpc_errc::protocol);
    EXPECT_EQ(e->transaction_id, "xy");

    replies = net.exchange(0, stranger, "d1:ad2:id20:abcdefghij0123456789e1:q5:vote21:t2:ab1:y1:qe");
    ASSERT_EQ(replies.size(), 1u);
    e = decode_krpc(as_bytes(replies[0]));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->error.code, krpc_errc::method_unknown);

    // Garbage with no transaction id gets nothing, and is counted: by the node when it looks like a
    // bencoded dictionary (the host hands it nothing else), by the host otherwise.
    EXPECT_TRUE(net.exchange(0, stranger, "d4:this is not bencode").empty());
    EXPECT_EQ(net.node(0).stats().malformed, 2u);
    EXPECT_TRUE(net.exchange(0, stranger, "this is not bencode").empty());
    EXPECT_EQ(net.node(0).stats().malformed, 2u);
    EXPECT_EQ(net.at(0).counters().datagrams_unclaimed, 1u);
    EXPECT_EQ(net.node(0).stats().queries_in[static_cast<int>(krpc_method::unknown)], 1u);
}

TEST(dht_node, ping_answer_names_the_requester) {
    dht_hosts net;
    net.add_node();
    const endpoint stranger{*ip_address::parse("10.9.9.9"), 1234};
    auto replies = net.exchange(0, stranger, "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe");
    ASSERT_EQ(replies.size(), 1u);
    auto r = decode_krpc(as_bytes(replies[0]));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, krpc_message::kind::response);
    EXPECT_EQ(r->response.id, net.node(0).id());
    EXPECT_EQ(r->requester, stranger);
}

TEST(dht_node, refuses_announces_with_bad_tokens) {
    dht_hosts net;
    net.add_node();
    const endpoint a{*ip_address::parse("10.9.9.9"), 1234};
    const endpoint b{*ip_address::parse("10.9.9.10"), 1234};
    // A token issued to a is no good from b.
    auto replies = net.exchange(0, a,
                                "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e"
                                "1:q9:get_peers1:t2:aa1:y1:qe");
    ASSERT_EQ(replies.size(), 1u);
    auto r = decode_krpc(as_bytes(replies[0]));
    ASSERT_TRUE(r && r->response.token);
    const std::string token = *r->response.token;
    const auto announce = [&](const std::string& t) {
        return "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token" +
               std::to_string(t.size()) + ":" + t + "e1:q13:announce_peer1:t2:bb1:y1:qe";
    };
    replies = net.exchange(0, b, announce(token));
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(decode_krpc(as_bytes(replies[0]))->error.code, krpc_errc::protocol);
    EXPECT_EQ(net.node(0).peers().peer_count(), 0u);
    replies = net.exchange(0, a, announce(token));
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(decode_krpc(as_bytes(replies[0]))->type, krpc_message::kind::response);
    EXPECT_EQ(net.node(0).peers().peer_count(), 1u);
    EXPECT_EQ(net.node(0).stats().bad_tokens, 1u);
}

TEST(dht_node, drops_answers_it_never_asked_for) {
    dht_hosts net;
    net.add_node();
    const endpoint stranger{*ip_address::parse("10.9.9.9"), 1234};
    EXPECT_TRUE(net.exchange(0, stranger, "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re").empty());
    EXPECT_TRUE(net.exchange(0, stranger, "d1:eli201e3:note1:t2:aa1:y1:ee").empty());
    EXPECT_EQ(net.node(0).stats().unexpected, 2u);
    EXPECT_EQ(net.node(0).table().size(), 0u);
}

TEST(dht_node, does_not_believe_a_node_that_changes_its_id) {
    const endpoint remote{*ip_address::parse("10.9.9.9"), 1234};
    dht_hosts net;
    net.add_node(bootstrapped_from(remote));
    const auto answer = [&](const dht_transmit& query, std::string_view id) {
        auto q = decode_krpc(as_bytes(query.bytes));
        EXPECT_TRUE(q);
        return "d1:rd2:id20:" + std::string(id) + "e1:t2:" + q->transaction_id + "1:y1:re";
    };
    net.command(0, [](dht_node& n, time_point now) { return n.bootstrap(now); });
    auto sent = net.take_strays();
    ASSERT_EQ(sent.size(), 1u);
    net.exchange(0, remote, answer(sent[0].what, "abcdefghij0123456789"));
    ASSERT_EQ(net.node(0).table().size(), 1u);

    // Asked again, now by its known id, it answers with another: not believed.
    net.command(0, [](dht_node& n, time_point now) { return n.find_node(now, node_id{}); });
    sent = net.take_strays();
    ASSERT_EQ(sent.size(), 1u);
    net.exchange(0, remote, answer(sent[0].what, "zzzzzzzzzz0123456789"));
    EXPECT_EQ(net.node(0).stats().id_mismatch, 1u);
    const auto known = net.node(0).table().closest(node_id{}, 8);
    ASSERT_EQ(known.size(), 1u);
    EXPECT_EQ(known[0].id, *node_id::from_bytes(std::string_view("abcdefghij0123456789")));

    // An answer from another port than the query went to is not taken either.
    net.command(0, [](dht_node& n, time_point now) { return n.find_node(now, node_id{}); });
    sent = net.take_strays();
    ASSERT_EQ(sent.size(), 1u);
    net.exchange(0, endpoint{remote.address, 1235}, answer(sent[0].what, "abcdefghij0123456789"));
    EXPECT_EQ(net.node(0).stats().unexpected, 1u);
}

// Found by fuzz/dht_node_fuzz.cpp: lookups that never finished.
TEST(dht_node, a_silent_bootstrap_node_does_not_hold_a_lookup_forever) {
    const endpoint silent{*ip_address::parse("10.9.9.9"), 1234};
    dht_hosts net;
    net.add_node(bootstrapped_from(silent));
    const auto b = net.command(0, [](dht_node& n, time_point now) { return n.bootstrap(now); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 0, b); }, seconds(10)));
    EXPECT_EQ(done_event(net, 0, b)->stats.timeouts, 1u);
    // And it keeps trying.
    net.take_strays();
    net.run_for(seconds(5));
    EXPECT_FALSE(net.take_strays().empty());
}

TEST(dht_node, a_bootstrap_node_with_our_id_does_not_hold_a_lookup_forever) {
    const endpoint remote{*ip_address::parse("10.9.9.9"), 1234};
    dht_hosts net;
    net.add_node(bootstrapped_from(remote));
    const auto b = net.command(0, [](dht_node& n, time_point now) { return n.bootstrap(now); });
    auto sent = net.take_strays();
    ASSERT_EQ(sent.size(), 1u);
    auto q = decode_krpc(as_bytes(sent[0].what.bytes));
    ASSERT_TRUE(q);
    const std::string own(net.node(0).id().chars());
    net.exchange(0, remote, "d1:rd2:id20:" + own + "e1:t2:" + q->transaction_id + "1:y1:re");
    EXPECT_TRUE(finished(net, 0, b));
}

TEST(dht_node, a_lookup_short_of_request_slots_resumes_when_they_free) {
    dht_config config;
    config.requests_in_flight_max = 2;
    dht_hosts net;
    make_network(net, 30);
    config.bootstrap = {net.address(0)};
    const std::size_t small = net.add_node(config);
    const auto b = net.command(small, [](dht_node& n, time_point now) { return n.bootstrap(now); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, small, b); }, seconds(30)));
    std::vector<lookup_id> ids;
    for (int i = 0; i < 4; ++i) {
        ids.push_back(net.command(small, [&](dht_node& n, time_point now) {
            return n.announce(now, hash_of("slot " + std::to_string(i)), 6000);
        }));
    }
    ASSERT_TRUE(net.run_for(
        [&] {
            return std::all_of(ids.begin(), ids.end(),
                               [&](lookup_id id) { return finished(net, small, id); });
        },
        seconds(60)));
    for (auto id : ids) {
        EXPECT_GE(done_event(net, small, id)->stored, 1u);
    }
}

// Found by bench/dht.sh: a lookup near our own id queried ourselves and waited a soft timeout.
TEST(dht_node, a_lookup_never_asks_its_own_node) {
    test::dht_hosts_options opts;
    opts.latency = milliseconds(1);
    opts.jitter = milliseconds(0);
    dht_hosts net(opts);
    make_network(net, 12);
    node_id target = net.node(0).id();
    target.bytes[19] ^= 1;
    const std::uint64_t asked_before =
        net.node(0).stats().queries_in[static_cast<int>(krpc_method::get_peers)];
    const auto g = net.command(0, [&](dht_node& n, time_point now) { return n.get_peers(now, target); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 0, g); }, seconds(10)));
    EXPECT_EQ(net.node(0).stats().queries_in[static_cast<int>(krpc_method::get_peers)], asked_before);
    EXPECT_LT(done_event(net, 0, g)->stats.elapsed, milliseconds(50));
}

TEST(dht_node, refuses_to_put_what_is_not_bencoded) {
    dht_hosts net;
    net.add_node();
    EXPECT_EQ(
        net.command(0, [](dht_node& n, time_point now) { return n.put_immutable(now, "12:too short"); }), 0u);
    EXPECT_NE(net.command(0, [](dht_node& n, time_point now) { return n.put_immutable(now, "9:just fine"); }),
              0u);
}

TEST(dht_node, rate_limits_a_flooding_address) {
    dht_config config;
    config.query_rate = 10;
    config.query_burst = 20;
    dht_hosts net;
    net.add_node(config);
    const endpoint flooder{*ip_address::parse("10.9.9.9"), 1234};
    // 200 pings that arrive at once.
    for (int i = 0; i < 200; ++i) {
        net.inject_datagram(0, flooder,
                            to_buffer("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"));
    }
    const std::size_t answered = net.answers_to(flooder).size();
    EXPECT_LE(answered, 21u);
    EXPECT_GE(net.node(0).stats().rate_limited, 179u);
    // Others are still served.
    const endpoint other{*ip_address::parse("10.9.9.10"), 1234};
    EXPECT_EQ(net.exchange(0, other, "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe").size(), 1u);
}

TEST(dht_node, serves_sample_infohashes) {
    dht_hosts net;
    make_network(net, 10);
    const id160 ih = hash_of("sampled");
    const auto a = net.command(1, [&](dht_node& n, time_point now) { return n.announce(now, ih, 5000); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 1, a); }, seconds(20)));
    const auto s = net.command(2, [&](dht_node& n, time_point now) { return n.sample_infohashes(now, ih); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 2, s); }, seconds(20)));
    bool seen = false;
    for (auto& found : events_of<samples_found>(net, 2)) {
        seen |= std::find(found.info_hashes.begin(), found.info_hashes.end(), ih) != found.info_hashes.end();
    }
    EXPECT_TRUE(seen);
}

TEST(dht_node, holds_its_bounds_on_requests_and_lookups) {
    dht_config config;
    config.requests_in_flight_max = 5;
    config.lookups_max = 2;
    dht_hosts net;
    net.add_node();
    config.bootstrap = {net.address(0)};
    net.add_node(config);
    for (std::size_t i = 0; i < 30; ++i) {
        const dht_config c = bootstrapped_from(net.address(0));
        net.add_node(c);
    }
    for (std::size_t i = 2; i < net.size(); ++i) {
        net.command(i, [](dht_node& n, time_point now) { return n.bootstrap(now); });
    }
    net.run_for(seconds(10));
    EXPECT_NE(net.command(1, [](dht_node& n, time_point now) { return n.find_node(now, node_id{}); }), 0u);
    EXPECT_NE(net.command(1, [](dht_node& n, time_point now) { return n.get_peers(now, node_id{}); }), 0u);
    EXPECT_EQ(net.command(1, [](dht_node& n, time_point now) { return n.get_peers(now, node_id{}); }), 0u);
    EXPECT_LE(net.node(1).lookups_running(), 2u);
    net.run_for(seconds(10));
    EXPECT_EQ(net.node(1).lookups_running(), 0u);
}

TEST(dht_node, survives_loss) {
    test::dht_hosts_options opts;
    opts.loss = 0.1;
    opts.seed = 3;
    dht_hosts net(opts);
    make_network(net, 50);
    const id160 ih = hash_of("lossy");
    const auto a = net.command(7, [&](dht_node& n, time_point now) { return n.announce(now, ih, 7777); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 7, a); }, seconds(30)));
    const auto g = net.command(21, [&](dht_node& n, time_point now) { return n.get_peers(now, ih); });
    ASSERT_TRUE(net.run_for([&] { return finished(net, 21, g); }, seconds(30)));
    EXPECT_EQ(done_event(net, 21, g)->peers, 1u);
}

}  // namespace
}  // namespace hyphae::dht
