#include "hyphae/proto/dht/krpc.hpp"

#include <gtest/gtest.h>

namespace hyphae::dht {
namespace {

node_id id_of(std::string_view text) {
    return *node_id::from_bytes(text);
}

krpc_message decoded(std::string_view text) {
    auto message = decode_krpc(as_bytes(text));
    EXPECT_TRUE(message) << (message ? "" : message.error().message);
    return message ? *message : krpc_message{};
}

krpc_decode_error refused(std::string_view text) {
    auto message = decode_krpc(as_bytes(text));
    EXPECT_FALSE(message) << "decoded: " << text;
    return message ? krpc_decode_error{} : message.error();
}

// The examples of BEP 5, byte for byte, both ways.
TEST(krpc, bep5_ping_both_ways) {
    const std::string query = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
    auto q = decoded(query);
    EXPECT_EQ(q.type, krpc_message::kind::query);
    EXPECT_EQ(q.query.method, krpc_method::ping);
    EXPECT_EQ(q.query.id, id_of("abcdefghij0123456789"));
    EXPECT_EQ(q.transaction_id, "aa");
    EXPECT_EQ(encode_krpc(q), query);

    const std::string response = "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re";
    auto r = decoded(response);
    EXPECT_EQ(r.type, krpc_message::kind::response);
    EXPECT_EQ(r.response.id, id_of("mnopqrstuvwxyz123456"));
    EXPECT_EQ(encode_krpc(r), response);
}

TEST(krpc, bep5_error_both_ways) {
    const std::string text = "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee";
    auto e = decoded(text);
    EXPECT_EQ(e.type, krpc_message::kind::error);
    EXPECT_EQ(e.error.code, krpc_errc::generic);
    EXPECT_EQ(e.error.message, "A Generic Error Ocurred");
    EXPECT_EQ(encode_krpc(e), text);
}

TEST(krpc, bep5_find_node_and_get_peers_both_ways) {
    const std::string find =
        "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe";
    auto f = decoded(find);
    EXPECT_EQ(f.query.method, krpc_method::find_node);
    EXPECT_EQ(f.query.target, id_of("mnopqrstuvwxyz123456"));
    EXPECT_EQ(encode_krpc(f), find);

    const std::string get =
        "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe";
    auto g = decoded(get);
    EXPECT_EQ(g.query.method, krpc_method::get_peers);
    EXPECT_EQ(g.query.info_hash, id_of("mnopqrstuvwxyz123456"));
    EXPECT_EQ(encode_krpc(g), get);
}

TEST(krpc, bep5_announce_peer_both_ways) {
    const std::string text =
        "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:"
        "token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe";
    auto a = decoded(text);
    EXPECT_EQ(a.query.method, krpc_method::announce_peer);
    EXPECT_TRUE(a.query.implied_port);
    EXPECT_EQ(a.query.port, 6881);
    EXPECT_EQ(a.query.token, "aoeusnth");
    EXPECT_EQ(encode_krpc(a), text);
}

TEST(krpc, get_peers_response_with_values_nodes_and_ip) {
    krpc_message m;
    m.type = krpc_message::kind::response;
    m.transaction_id = "xy";
    m.version = "HY01";
    m.requester = endpoint{*ip_address::parse("10.0.0.1"), 4000};
    m.response.id = id_of("abcdefghij0123456789");
    m.response.token = "tok";
    m.response.values = {endpoint{*ip_address::parse("1.2.3.4"), 6881},
                         endpoint{*ip_address::parse("::1"), 7}};
    m.response.nodes = {{id_of("mnopqrstuvwxyz123456"), endpoint{*ip_address::parse("5.6.7.8"), 80}}};
    m.response.nodes6 = {{id_of("01234567890123456789"), endpoint{*ip_address::parse("2001:db8::1"), 81}}};
    auto back = decoded(encode_krpc(m));
    EXPECT_EQ(back.version, "HY01");
    EXPECT_EQ(back.requester, m.requester);
    EXPECT_EQ(back.response.token, "tok");
    EXPECT_EQ(back.response.values, m.response.values);
    EXPECT_EQ(back.response.nodes, m.response.nodes);
    EXPECT_EQ(back.response.nodes6, m.response.nodes6);
    EXPECT_EQ(encode_krpc(back), encode_krpc(m));
}

TEST(krpc, bep44_put_and_get_round_trip) {
    krpc_message put;
    put.transaction_id = "p1";
    put.query.method = krpc_method::put;
    put.query.id = id_of("abcdefghij0123456789");
    put.query.token = "t";
    put.query.value = "12:Hello World!";
    put.query.key = std::string(32, 'k');
    put.query.signature = std::string(64, 's');
    put.query.salt = "foobar";
    put.query.seq = 4;
    put.query.cas = 3;
    auto back = decoded(encode_krpc(put));
    EXPECT_EQ(back.query.value, "12:Hello World!");
    EXPECT_EQ(back.query.key, put.query.key);
    EXPECT_EQ(back.query.signature, put.query.signature);
    EXPECT_EQ(back.query.salt, "foobar");
    EXPECT_EQ(back.query.seq, 4);
    EXPECT_EQ(back.query.cas, 3);

    krpc_message got;
    got.type = krpc_message::kind::response;
    got.transaction_id = "g1";
    got.response.id = put.query.id;
    got.response.value = "d1:ai1ee";
    got.response.key = put.query.key;
    got.response.signature = put.query.signature;
    got.response.seq = 9;
    auto r = decoded(encode_krpc(got));
    EXPECT_EQ(r.response.value, "d1:ai1ee");
    EXPECT_EQ(r.response.seq, 9);
}

TEST(krpc, sample_infohashes_round_trip) {
    krpc_message m;
    m.type = krpc_message::kind::response;
    m.transaction_id = "s";
    m.response.id = id_of("abcdefghij0123456789");
    m.response.samples = std::vector<id160>{id_of("mnopqrstuvwxyz123456"), id_of("01234567890123456789")};
    m.response.num = 40;
    m.response.interval = 21600;
    auto back = decoded(encode_krpc(m));
    ASSERT_TRUE(back.response.samples);
    EXPECT_EQ(*back.response.samples, *m.response.samples);
    EXPECT_EQ(back.response.num, 40);
    EXPECT_EQ(back.response.interval, 21600);
}

TEST(krpc, want_and_read_only_flags) {
    const std::string text =
        "d1:ad2:id20:abcdefghij01234567892:roi1e6:target20:mnopqrstuvwxyz1234564:wantl2:n42:n6ee"
        "1:q9:find_node1:t2:aa1:y1:qe";
    auto m = decoded(text);
    EXPECT_TRUE(m.query.read_only);
    EXPECT_TRUE(m.query.want_v4);
    EXPECT_TRUE(m.query.want_v6);
    EXPECT_EQ(encode_krpc(m), text);
}

TEST(krpc, unknown_method_decodes_for_a_204) {
    auto m = decoded("d1:ad2:id20:abcdefghij0123456789e1:q5:vote21:t2:aa1:y1:qe");
    EXPECT_EQ(m.query.method, krpc_method::unknown);
    EXPECT_EQ(m.query.method_name, "vote2");
}

TEST(krpc, unsorted_keys_are_accepted) {
    auto m = decoded("d1:y1:q1:t2:aa1:q4:ping1:ad2:id20:abcdefghij0123456789ee");
    EXPECT_EQ(m.query.method, krpc_method::ping);
}

TEST(krpc, malformed_query_keeps_its_transaction_id) {
    auto e = refused("d1:ad2:id5:shorte1:q4:ping1:t2:zz1:y1:qe");
    EXPECT_EQ(e.transaction_id, "zz");
    EXPECT_TRUE(e.is_query);
    EXPECT_NE(e.message.find("a.id"), std::string::npos) << e.message;

    auto port = refused(
        "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token1:xe"
        "1:q13:announce_peer1:t2:aa1:y1:qe");
    EXPECT_NE(port.message.find("a.port"), std::string::npos) << port.message;

    auto target = refused("d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe");
    EXPECT_NE(target.message.find("a.target: missing"), std::string::npos) << target.message;

    auto mutable_put = refused(
        "d1:ad2:id20:abcdefghij01234567891:k32:kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk5:token1:x"
        "1:vi1ee1:q3:put1:t2:aa1:y1:qe");
    EXPECT_NE(mutable_put.message.find("sig and seq"), std::string::npos) << mutable_put.message;
}

TEST(krpc, garbage_is_refused_without_a_transaction_id) {
    for (std::string_view text : {"", "x", "le", "d1:t0:1:y1:qe", "d1:y1:qe", "i1e", "d1:t2:aa1:y1:xe"}) {
        auto e = refused(text);
        if (text != "d1:t2:aa1:y1:xe") {
            EXPECT_TRUE(e.transaction_id.empty()) << text;
        }
    }
    EXPECT_FALSE(decode_krpc(as_bytes(std::string(krpc_datagram_max + 1, 'd'))));
}

TEST(krpc, bad_response_fields_are_refused) {
    refused("d1:rd2:id20:mnopqrstuvwxyz1234565:nodes3:abce1:t2:aa1:y1:re");
    refused("d1:rd5:nodes0:e1:t2:aa1:y1:re");
    refused("d1:rd2:id20:mnopqrstuvwxyz1234567:samples3:abce1:t2:aa1:y1:re");
    refused("d1:eli201ee1:t2:aa1:y1:ee");
    refused("d1:el3:abc3:abce1:t2:aa1:y1:ee");
}

TEST(krpc, bad_peer_values_are_skipped_not_fatal) {
    auto m = decoded(
        "d1:rd2:id20:mnopqrstuvwxyz1234566:valuesl6:\x01\x02\x03\x04\x1a\xe1"
        "3:abci5eee"
        "1:t2:aa1:y1:re");
    ASSERT_EQ(m.response.values.size(), 1u);
    EXPECT_EQ(m.response.values[0].port, 6881);
}

TEST(krpc, nodes_with_port_zero_are_skipped) {
    std::string nodes = "mnopqrstuvwxyz123456";
    nodes += std::string("\x01\x02\x03\x04\x00\x00", 6);
    std::string text = "d1:rd2:id20:mnopqrstuvwxyz1234565:nodes26:" + nodes + "e1:t2:aa1:y1:re";
    auto m = decoded(text);
    EXPECT_TRUE(m.response.nodes.empty());
}

}  // namespace
}  // namespace hyphae::dht
