#include <gtest/gtest.h>

#include "hyphae/proto/dht/dht_node.hpp"
#include "hyphae/proto/dht/krpc.hpp"

namespace hyphae::dht {
namespace {

const time_point t0{};

TEST(dht_bootstrap_name, a_named_router_is_looked_up_then_joined_through) {
    dht_node node({}, 1, t0);
    node.add_bootstrap_name(t0, "router.example.org", 6881);
    auto query = node.poll_resolve();
    ASSERT_TRUE(query);
    EXPECT_EQ(query->host, "router.example.org");
    EXPECT_EQ(query->port, 6881);
    EXPECT_FALSE(node.poll_resolve());
    EXPECT_FALSE(node.poll_datagram());

    const endpoint v4{ip_address::v4(0x0a000001), 6881};
    const endpoint v6{*ip_address::parse("2001:db8::1"), 6881};
    node.on_resolved(t0, query->id, std::vector<endpoint>{v6, v4});
    auto sent = node.poll_datagram();
    ASSERT_TRUE(sent);
    EXPECT_EQ(sent->to, v4);  // the IPv4 routing table joins through IPv4 nodes
    auto message = decode_krpc(sent->bytes);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->query.method, krpc_method::find_node);
    // A second answer for the same query, or one nobody asked, changes nothing.
    node.on_resolved(t0, query->id, std::vector<endpoint>{endpoint{ip_address::v4(0x0a000002), 6881}});
    node.on_resolved(t0, 999, std::vector<endpoint>{endpoint{ip_address::v4(0x0a000003), 6881}});
    while (auto more = node.poll_datagram()) {
        EXPECT_EQ(more->to, v4);
    }
}

TEST(dht_bootstrap_name, a_name_that_does_not_resolve_is_dropped_and_names_are_bounded) {
    dht_config config;
    config.bootstrap_names_max = 2;
    dht_node node(config, 1, t0);
    for (int i = 0; i < 5; ++i) {
        node.add_bootstrap_name(t0, "router" + std::to_string(i) + ".example.org", 6881);
    }
    auto first = node.poll_resolve();
    auto second = node.poll_resolve();
    ASSERT_TRUE(first && second);
    EXPECT_FALSE(node.poll_resolve());
    node.on_resolved(t0, first->id, fail(errc::io, "resolve router0.example.org", "no address"));
    EXPECT_FALSE(node.poll_datagram());
    // Answered names free their place.
    node.add_bootstrap_name(t0, "router9.example.org", 6881);
    EXPECT_TRUE(node.poll_resolve());
}

}  // namespace
}  // namespace hyphae::dht
