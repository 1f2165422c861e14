#include "hyphae/proto/tracker/udp_tracker_codec.hpp"

#include <gtest/gtest.h>

#include "hyphae/core/encoding.hpp"

namespace hyphae::tracker {
namespace {

byte_buffer from_hex_text(std::string_view hex) {
    return *from_hex(hex);
}

TEST(udp_tracker_codec, encodes_a_connect_request) {
    EXPECT_EQ(to_hex(encode_udp_connect(0x01020304)),
              "0000041727101980"
              "00000000"
              "01020304");
}

TEST(udp_tracker_codec, encodes_a_98_byte_announce_request) {
    announce_request request;
    request.info_hash.bytes.fill(0xaa);
    request.peer_id.bytes.fill(0xbb);
    request.downloaded = 0x0102;
    request.left = 0x0304;
    request.uploaded = 0x0506;
    request.event = announce_event::started;
    request.key = 0xcafebabe;
    request.numwant = -1;
    request.port = 6881;
    const byte_buffer packet = encode_udp_announce(0x1122334455667788, 0x99aabbcc, request);
    ASSERT_EQ(packet.size(), udp_announce_request_size);
    EXPECT_EQ(to_hex(packet),
              "1122334455667788"
              "00000001"
              "99aabbcc" +
                  std::string(40, 'a') + std::string(40, 'b') +
                  "0000000000000102"
                  "0000000000000304"
                  "0000000000000506"
                  "00000002"
                  "00000000"
                  "cafebabe"
                  "ffffffff"
                  "1ae1");
    request.numwant = 50;
    request.event = announce_event::stopped;
    const std::string hex = to_hex(encode_udp_announce(1, 2, request));
    EXPECT_EQ(hex.substr(2 * 80, 8), "00000003");
    EXPECT_EQ(hex.substr(2 * 92, 8), "00000032");
}

TEST(udp_tracker_codec, encodes_a_scrape_request_within_bounds) {
    std::vector<sha1_hash> hashes(2);
    hashes[0].bytes.fill(0x01);
    hashes[1].bytes.fill(0x02);
    auto packet = encode_udp_scrape(7, 8, hashes);
    ASSERT_TRUE(packet);
    std::string hashes_hex;
    for (int i = 0; i < 20; ++i) {
        hashes_hex += "01";
    }
    for (int i = 0; i < 20; ++i) {
        hashes_hex += "02";
    }
    EXPECT_EQ(to_hex(*packet),
              "0000000000000007"
              "00000002"
              "00000008" +
                  hashes_hex);
    EXPECT_FALSE(encode_udp_scrape(7, 8, {}));
    EXPECT_TRUE(encode_udp_scrape(7, 8, std::vector<sha1_hash>(udp_scrape_hashes_max)));
    auto too_many = encode_udp_scrape(7, 8, std::vector<sha1_hash>(udp_scrape_hashes_max + 1));
    ASSERT_FALSE(too_many);
    EXPECT_EQ(too_many.error().message(), "udp tracker scrape: 75 info-hashes, not 1..74");
}

TEST(udp_tracker_codec, decodes_a_connect_response) {
    auto r =
        decode_udp_tracker_response(from_hex_text("00000000"
                                                  "01020304"
                                                  "1122334455667788"));
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(action_of(*r), udp_tracker_action::connect);
    EXPECT_EQ(transaction_id_of(*r), 0x01020304u);
    EXPECT_EQ(std::get<udp_connect_response>(*r).connection_id, 0x1122334455667788u);
}

TEST(udp_tracker_codec, decodes_an_announce_response_with_ipv4_or_ipv6_peers) {
    auto r =
        decode_udp_tracker_response(from_hex_text("00000001"
                                                  "0000002a"
                                                  "00000708"
                                                  "00000003"
                                                  "00000009"
                                                  "0a000001"
                                                  "1ae1"
                                                  "c0a80102"
                                                  "c8d5"
                                                  "0a000009"
                                                  "0000"));
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(action_of(*r), udp_tracker_action::announce);
    const auto& announce = std::get<udp_announce_response>(*r);
    EXPECT_EQ(announce.transaction_id, 42u);
    EXPECT_EQ(announce.interval, std::chrono::seconds(1800));
    EXPECT_EQ(announce.leechers, 3u);
    EXPECT_EQ(announce.seeders, 9u);
    ASSERT_EQ(announce.peers.size(), 2u);  // the port-0 entry is skipped
    EXPECT_EQ(announce.peers[0].to_string(), "10.0.0.1:6881");
    EXPECT_EQ(announce.peers[1].to_string(), "192.168.1.2:51413");

    udp_tracker_limits v6;
    v6.ipv6_peers = true;
    auto r6 = decode_udp_tracker_response(from_hex_text("00000001"
                                                        "00000001"
                                                        "0000003c"
                                                        "00000000"
                                                        "00000000"
                                                        "20010db8000000000000000000000001"
                                                        "1ae1"),
                                          v6);
    ASSERT_TRUE(r6) << r6.error().message();
    EXPECT_EQ(std::get<udp_announce_response>(*r6).peers.at(0).to_string(), "[2001:db8::1]:6881");

    udp_tracker_limits bounded;
    bounded.peers_max = 1;
    auto one = decode_udp_tracker_response(from_hex_text("00000001"
                                                         "0000002a"
                                                         "00000708"
                                                         "00000003"
                                                         "00000009"
                                                         "0a000001"
                                                         "1ae1"
                                                         "c0a80102"
                                                         "c8d5"),
                                           bounded);
    ASSERT_TRUE(one);
    EXPECT_EQ(std::get<udp_announce_response>(*one).peers.size(), 1u);
}

TEST(udp_tracker_codec, decodes_scrape_and_error_responses) {
    auto scrape =
        decode_udp_tracker_response(from_hex_text("00000002"
                                                  "00000005"
                                                  "00000001"
                                                  "00000002"
                                                  "00000003"
                                                  "0000000a"
                                                  "0000000b"
                                                  "0000000c"));
    ASSERT_TRUE(scrape) << scrape.error().message();
    const auto& entries = std::get<udp_scrape_response>(*scrape).entries;
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].seeders, 1u);
    EXPECT_EQ(entries[0].completed, 2u);
    EXPECT_EQ(entries[0].leechers, 3u);
    EXPECT_EQ(entries[1].leechers, 12u);

    auto error =
        decode_udp_tracker_response(from_hex_text("00000003"
                                                  "00000006" +
                                                  to_hex(as_bytes("bad info-hash"))));
    ASSERT_TRUE(error);
    ASSERT_EQ(action_of(*error), udp_tracker_action::error);
    EXPECT_EQ(transaction_id_of(*error), 6u);
    EXPECT_EQ(std::get<udp_error_response>(*error).message, "bad info-hash");
}

TEST(udp_tracker_codec, checks_sizes_and_actions_exactly) {
    const std::pair<std::string, const char*> cases[] = {
        {"00000000010203", "udp tracker response: datagram of 7 bytes is shorter than 8"},
        {"00000000"
         "01020304"
         "11223344556677",
         "udp tracker response: connect response of 15 bytes (expected 16)"},
        {"00000000"
         "01020304"
         "112233445566778899",
         "udp tracker response: connect response of 17 bytes (expected 16)"},
        {"00000001"
         "01020304"
         "0000070800000003",
         "udp tracker response: announce response of 16 bytes (expected 20 + 6 per peer)"},
        {"00000001"
         "01020304"
         "00000708"
         "00000003"
         "00000009"
         "0a000001",
         "udp tracker response: announce response of 24 bytes (expected 20 + 6 per peer)"},
        {"00000002"
         "01020304"
         "0000000100000002",
         "udp tracker response: scrape response of 16 bytes (expected 8 + 12 per info-hash)"},
        {"00000004"
         "01020304",
         "udp tracker response: unknown action 4"},
    };
    for (const auto& [hex, message] : cases) {
        auto r = decode_udp_tracker_response(from_hex_text(hex));
        ASSERT_FALSE(r) << hex;
        EXPECT_EQ(r.error().message(), message);
    }
}

}  // namespace
}  // namespace hyphae::tracker

namespace hyphae::tracker {
namespace {

announce_request sample_request() {
    announce_request r;
    r.info_hash.bytes.fill(0x11);
    r.peer_id.bytes.fill(0x22);
    r.port = 51413;
    r.uploaded = 1;
    r.downloaded = 2;
    r.left = 3;
    r.event = announce_event::stopped;
    r.numwant = -1;
    r.key = 77;
    return r;
}

TEST(udp_tracker_server_codec, reads_the_requests_the_client_writes) {
    const byte_buffer connect = encode_udp_connect(5);
    auto header = read_udp_request_header(connect);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->connection_id, udp_tracker_protocol_id);
    EXPECT_EQ(header->action, 0u);
    EXPECT_EQ(header->transaction_id, 5u);

    const announce_request r = sample_request();
    byte_buffer announce = encode_udp_announce(0xabcdef, 9, r);
    header = read_udp_request_header(announce);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->connection_id, 0xabcdefu);
    EXPECT_EQ(header->action, 1u);
    auto fields = decode_udp_announce_request(announce);
    ASSERT_TRUE(fields) << fields.error().message();
    EXPECT_EQ(fields->request.info_hash, r.info_hash);
    EXPECT_EQ(fields->request.peer_id, r.peer_id);
    EXPECT_EQ(fields->request.port, 51413);
    EXPECT_EQ(fields->request.uploaded, 1);
    EXPECT_EQ(fields->request.downloaded, 2);
    EXPECT_EQ(fields->request.left, 3);
    EXPECT_EQ(fields->request.event, announce_event::stopped);
    EXPECT_EQ(fields->request.numwant, -1);
    EXPECT_EQ(fields->request.key, 77u);
    EXPECT_EQ(fields->ip, 0u);
    // BEP 41 options after the 98 bytes are ignored.
    announce.insert(announce.end(), {2, 3, '/', 'a', 'b', 0});
    EXPECT_TRUE(decode_udp_announce_request(announce));

    const std::vector<sha1_hash> hashes{r.info_hash, r.peer_id};
    auto scrape = decode_udp_scrape_request(*encode_udp_scrape(1, 2, hashes));
    ASSERT_TRUE(scrape);
    EXPECT_EQ(*scrape, hashes);
}

TEST(udp_tracker_server_codec, refuses_malformed_requests) {
    EXPECT_FALSE(read_udp_request_header(byte_buffer(15, 0)));
    byte_buffer announce = encode_udp_announce(1, 2, sample_request());
    auto short_one = decode_udp_announce_request(byte_view(announce).first(97));
    ASSERT_FALSE(short_one);
    EXPECT_EQ(short_one.error().message(), "udp tracker announce: request of 97 bytes is shorter than 98");
    announce[83] = 4;  // event 4
    auto bad_event = decode_udp_announce_request(announce);
    ASSERT_FALSE(bad_event);
    EXPECT_EQ(bad_event.error().message(), "udp tracker announce: unknown event 4");

    byte_buffer scrape = *encode_udp_scrape(1, 2, std::vector<sha1_hash>(3));
    EXPECT_FALSE(decode_udp_scrape_request(byte_view(scrape).first(16)));       // no hash
    EXPECT_FALSE(decode_udp_scrape_request(byte_view(scrape).first(16 + 21)));  // not whole hashes
    EXPECT_FALSE(decode_udp_scrape_request(scrape, 2));                         // over the bound
    EXPECT_TRUE(decode_udp_scrape_request(scrape, 3));
}

TEST(udp_tracker_server_codec, writes_responses_the_client_reads) {
    auto connect = decode_udp_tracker_response(encode_udp_connect_response(7, 0x1122334455667788));
    ASSERT_TRUE(connect);
    EXPECT_EQ(std::get<udp_connect_response>(*connect).connection_id, 0x1122334455667788u);

    const std::vector<endpoint> peers{*endpoint::parse("1.2.3.4:5"), *endpoint::parse("[::2]:6"),
                                      *endpoint::parse("9.8.7.6:65535")};
    const byte_buffer v4 = encode_udp_announce_response(8, std::chrono::seconds(1800), 3, 4, peers, false);
    EXPECT_EQ(v4.size(), 20u + 2 * 6);
    auto announce = decode_udp_tracker_response(v4);
    ASSERT_TRUE(announce);
    const auto& a = std::get<udp_announce_response>(*announce);
    EXPECT_EQ(a.transaction_id, 8u);
    EXPECT_EQ(a.interval, std::chrono::seconds(1800));
    EXPECT_EQ(a.leechers, 3u);
    EXPECT_EQ(a.seeders, 4u);
    EXPECT_EQ(a.peers, (std::vector<endpoint>{peers[0], peers[2]}));

    udp_tracker_limits v6_limits;
    v6_limits.ipv6_peers = true;
    auto announce6 = decode_udp_tracker_response(
        encode_udp_announce_response(8, std::chrono::seconds(60), 0, 0, peers, true), v6_limits);
    ASSERT_TRUE(announce6);
    EXPECT_EQ(std::get<udp_announce_response>(*announce6).peers, std::vector<endpoint>{peers[1]});

    const std::vector<udp_scrape_entry> entries{{1, 2, 3}, {4, 5, 6}};
    auto scrape = decode_udp_tracker_response(encode_udp_scrape_response(9, entries));
    ASSERT_TRUE(scrape);
    const auto& s = std::get<udp_scrape_response>(*scrape);
    ASSERT_EQ(s.entries.size(), 2u);
    EXPECT_EQ(s.entries[1].seeders, 4u);
    EXPECT_EQ(s.entries[1].completed, 5u);
    EXPECT_EQ(s.entries[1].leechers, 6u);

    auto error = decode_udp_tracker_response(encode_udp_error_response(10, "unregistered torrent"));
    ASSERT_TRUE(error);
    EXPECT_EQ(std::get<udp_error_response>(*error).message, "unregistered torrent");
}

}  // namespace
}  // namespace hyphae::tracker
