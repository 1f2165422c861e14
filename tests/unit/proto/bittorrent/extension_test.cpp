#include <algorithm>

#include <gtest/gtest.h>

#include "hyphae/core/bencode_writer.hpp"
#include "hyphae/proto/bittorrent/extension_handshake.hpp"
#include "hyphae/proto/bittorrent/ut_metadata.hpp"
#include "hyphae/proto/bittorrent/ut_pex.hpp"

namespace hyphae::bittorrent::wire {
namespace {

using namespace std::string_view_literals;  // literals with NUL bytes inside

TEST(extension_handshake, round_trips) {
    extension_handshake h;
    h.messages = {{"ut_metadata", 2}, {"ut_pex", 1}};
    h.listen_port = 6881;
    h.client = "hyphae 0.1.0";
    h.request_queue = 500;
    h.metadata_size = 31337;
    h.your_ip = ip_address::parse("127.0.0.1");
    h.upload_only = true;
    const std::string bytes = encode_extension_handshake(h);
    auto back = parse_extension_handshake(as_bytes(bytes));
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->id_of("ut_metadata"), 2);
    EXPECT_EQ(back->id_of("ut_pex"), 1);
    EXPECT_EQ(back->id_of("lt_donthave"), 0);
    EXPECT_EQ(back->listen_port, 6881);
    EXPECT_EQ(back->client, "hyphae 0.1.0");
    EXPECT_EQ(back->request_queue, 500u);
    EXPECT_EQ(back->metadata_size, 31337);
    EXPECT_EQ(back->your_ip, h.your_ip);
    EXPECT_TRUE(back->upload_only);
}

TEST(extension_handshake, accepts_what_real_clients_send_and_rejects_bad_types) {
    // libtorrent-style extras and unsorted keys are fine.
    auto ok = parse_extension_handshake(
        as_bytes("d1:md11:ut_metadatai3e6:ut_pexi1ee1:v14:libtorrent 2.04:reqqi500e6:yourip4:\x7f\0\0\x01"
                 "1:pi0e12:complete_agoi-1ee"sv));
    ASSERT_TRUE(ok) << ok.error().message();
    EXPECT_FALSE(ok->listen_port);
    EXPECT_EQ(ok->id_of("ut_metadata"), 3);
    EXPECT_FALSE(parse_extension_handshake(as_bytes("le")));
    EXPECT_FALSE(parse_extension_handshake(as_bytes("d1:mi1ee")));
    EXPECT_FALSE(parse_extension_handshake(as_bytes("d1:md6:ut_pexi300eee")));
    EXPECT_FALSE(parse_extension_handshake(as_bytes("d13:metadata_sizei-1ee")));
    EXPECT_FALSE(parse_extension_handshake(as_bytes("d13:metadata_sizei99999999999ee")));
}

TEST(ut_metadata, messages_round_trip) {
    auto request = parse_metadata_message(as_bytes(encode_metadata_request(3)));
    ASSERT_TRUE(request);
    EXPECT_EQ(request->type, metadata_type::request);
    EXPECT_EQ(request->piece, 3u);
    auto reject = parse_metadata_message(as_bytes(encode_metadata_reject(1)));
    ASSERT_TRUE(reject);
    EXPECT_EQ(reject->type, metadata_type::reject);
    const std::string payload(1000, 'p');
    const std::string data_bytes = encode_metadata_data(0, 1000, as_bytes(payload));
    auto data = parse_metadata_message(as_bytes(data_bytes));
    ASSERT_TRUE(data) << data.error().message();
    EXPECT_EQ(data->type, metadata_type::data);
    EXPECT_EQ(data->total_size, 1000);
    EXPECT_EQ(as_chars(data->data), payload);
}

TEST(ut_metadata, rejects_malformed_messages) {
    for (const char* bad : {"d8:msg_typei5e5:piecei0ee", "d8:msg_typei0ee", "d8:msg_typei0e5:piecei-1ee",
                            "d8:msg_typei1e5:piecei0ee", "d8:msg_typei0e5:piecei0eeTRAILING", "x"}) {
        EXPECT_FALSE(parse_metadata_message(as_bytes(bad))) << bad;
    }
    const std::string too_big = encode_metadata_data(0, 100000, as_bytes(std::string(16385, 'x')));
    EXPECT_FALSE(parse_metadata_message(as_bytes(too_big)));
}

TEST(ut_pex, round_trips_v4_and_v6_with_flags) {
    pex_message m;
    m.added = {{*endpoint::parse("10.0.0.1:6881"), pex_flag::seed | pex_flag::reachable},
               {*endpoint::parse("[2001:db8::1]:51413"), pex_flag::utp}};
    m.dropped = {*endpoint::parse("10.0.0.2:1"), *endpoint::parse("[::1]:2")};
    auto back = parse_pex(as_bytes(encode_pex(m)));
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->added, m.added);
    EXPECT_EQ(back->dropped, m.dropped);
}

TEST(ut_pex, each_message_tells_a_peer_what_changed_since_the_last_and_never_itself) {
    const auto at = [](int n) {
        return endpoint{ip_address::v4(0x0a000000u + static_cast<std::uint32_t>(n)), 6881};
    };
    std::vector<endpoint> told;
    std::vector<pex_peer> connected = {{at(1), 0}, {at(2), pex_flag::seed}, {at(3), 0}, {at(9), 0}};
    pex_message first = next_pex(told, connected, {at(9)}, 50);
    EXPECT_EQ(first.added, (std::vector<pex_peer>{{at(1), 0}, {at(2), pex_flag::seed}, {at(3), 0}}));
    EXPECT_TRUE(first.dropped.empty());
    EXPECT_EQ(told, (std::vector<endpoint>{at(1), at(2), at(3)}));

    // 2 leaves, 0 and 5 come: only the change is sent, and what it knows stays in order.
    connected = {{at(0), 0}, {at(1), 0}, {at(3), 0}, {at(5), 0}, {at(9), 0}};
    pex_message second = next_pex(told, connected, {at(9)}, 50);
    EXPECT_EQ(second.added, (std::vector<pex_peer>{{at(0), 0}, {at(5), 0}}));
    EXPECT_EQ(second.dropped, std::vector<endpoint>{at(2)});
    EXPECT_EQ(told, (std::vector<endpoint>{at(0), at(1), at(3), at(5)}));
    EXPECT_TRUE(next_pex(told, connected, {at(9)}, 50).added.empty());

    // At most peers_max of each a message; the rest go in the next one.
    std::vector<pex_peer> many;
    for (int n = 10; n < 75; ++n) {
        many.push_back({at(n), 0});
    }
    std::vector<endpoint> fresh;
    EXPECT_EQ(next_pex(fresh, many, {}, 50).added.size(), 50u);
    EXPECT_EQ(next_pex(fresh, many, {}, 50).added.size(), 15u);
    EXPECT_EQ(fresh.size(), 65u);
    EXPECT_TRUE(std::is_sorted(fresh.begin(), fresh.end()));
    const pex_message gone = next_pex(fresh, {}, {}, 50);
    EXPECT_EQ(gone.dropped.size(), 50u);
    EXPECT_EQ(fresh.size(), 15u);
}

TEST(ut_pex, rejects_ragged_compact_strings_and_too_many_peers) {
    EXPECT_FALSE(parse_pex(as_bytes("d5:added5:12345e")));
    EXPECT_FALSE(parse_pex(as_bytes("d8:dropped617:12345678901234567e")));
    pex_message many;
    for (int i = 0; i < 60; ++i) {
        many.added.push_back({endpoint{ip_address::v4(0x0a000000u + static_cast<std::uint32_t>(i)), 80}, 0});
    }
    EXPECT_TRUE(parse_pex(as_bytes(encode_pex(many)), 60));
    auto over = parse_pex(as_bytes(encode_pex(many)), 50);
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().code, errc::limit_exceeded);
    auto no_flags =
        parse_pex(as_bytes("d5:added6:\x0a\0\0\x01\0\x50"
                           "e"sv));
    ASSERT_TRUE(no_flags);
    EXPECT_EQ(no_flags->added.at(0).flags, 0);
}

}  // namespace
}  // namespace hyphae::bittorrent::wire
