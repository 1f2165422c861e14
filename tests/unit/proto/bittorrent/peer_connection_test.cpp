#include "hyphae/proto/bittorrent/peer_connection.hpp"

#include <gtest/gtest.h>

#include "hyphae/core/rng.hpp"

namespace hyphae::bittorrent {
namespace {

const torrent_shape shape{10, 32768, 10 * 32768 - 1000};  // last piece 31768 bytes

wire::handshake make_handshake(std::uint8_t who, bool fast = true) {
    wire::handshake h;
    h.info_hash.bytes.fill(0x42);
    h.peer_id.bytes.fill(who);
    h.set_extension_protocol();
    if (fast) {
        h.set_fast_extension();
    }
    return h;
}

time_point at(int s) {
    return time_point(seconds(s));
}

std::string test_block(std::uint32_t n) {
    return std::string(16384, static_cast<char>('a' + n));
}

std::string msg(const wire::message& m) {
    std::string out;
    wire::append(out, m);
    return out;
}

std::vector<peer_event> drain(peer_connection& c) {
    std::vector<peer_event> out;
    while (auto e = c.poll_event()) {
        out.push_back(std::move(*e));
    }
    return out;
}

template <class T>
bool has(const std::vector<peer_event>& events) {
    return std::any_of(events.begin(), events.end(),
                       [](const peer_event& e) { return std::holds_alternative<T>(e); });
}

std::string closed_reason(const std::vector<peer_event>& events) {
    for (const auto& e : events) {
        if (auto* c = std::get_if<peer_events::closed>(&e)) {
            return c->reason;
        }
    }
    return {};
}

// An incoming connection that has completed the handshake with a peer (fast extension on).
struct connected {
    peer_connection c{
        1, *endpoint::parse("127.0.0.1:6881"), direction::incoming, make_handshake(1), shape, {}, at(0)};
    connected(bool fast = true) {
        c.on_bytes(at(0), as_bytes(wire::encode_handshake(make_handshake(2, fast))));
        drain(c);
        c.take_send();
    }
};

TEST(peer_connection, outgoing_sends_its_handshake_first_and_checks_theirs) {
    peer_connection c(1, *endpoint::parse("127.0.0.1:1"), direction::outgoing, make_handshake(1), shape, {},
                      at(0));
    EXPECT_EQ(c.take_send(), wire::encode_handshake(make_handshake(1)));
    const std::string theirs = wire::encode_handshake(make_handshake(2));
    c.on_bytes(at(1), as_bytes(theirs.substr(0, 30)));
    EXPECT_TRUE(drain(c).empty());
    c.on_bytes(at(1), as_bytes(theirs.substr(30)));
    auto events = drain(c);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(std::get<peer_events::handshake_received>(events[0]).peer_id, make_handshake(2).peer_id);
    EXPECT_TRUE(c.fast_extension());
    EXPECT_TRUE(c.extension_protocol());
    EXPECT_TRUE(c.take_send().empty());
}

TEST(peer_connection, incoming_answers_with_its_handshake) {
    connected p;
    EXPECT_TRUE(p.c.handshake_done());
}

TEST(peer_connection, refuses_other_torrents_and_itself) {
    peer_connection c(1, *endpoint::parse("127.0.0.1:1"), direction::incoming, make_handshake(1), shape, {},
                      at(0));
    wire::handshake other = make_handshake(2);
    other.info_hash.bytes.fill(0x43);
    c.on_bytes(at(0), as_bytes(wire::encode_handshake(other)));
    EXPECT_NE(closed_reason(drain(c)).find("another torrent"), std::string::npos);
    EXPECT_FALSE(c.is_open());
    peer_connection self(2, *endpoint::parse("127.0.0.1:1"), direction::incoming, make_handshake(1), shape,
                         {}, at(0));
    self.on_bytes(at(0), as_bytes(wire::encode_handshake(make_handshake(1))));
    EXPECT_EQ(closed_reason(drain(self)), "connected to ourselves");
}

TEST(peer_connection, tracks_flags_bitfield_and_haves) {
    connected p;
    bitfield theirs(10);
    theirs.set(3);
    p.c.on_bytes(at(1),
                 as_bytes(msg(wire::bitfield_msg{theirs.wire()}) + msg(wire::unchoke_msg{}) +
                          msg(wire::interested_msg{}) + msg(wire::have_msg{9}) + msg(wire::have_msg{9})));
    auto events = drain(p.c);
    EXPECT_TRUE(has<peer_events::pieces_known>(events));
    EXPECT_TRUE(has<peer_events::unchoked>(events));
    EXPECT_TRUE(has<peer_events::interest_changed>(events));
    EXPECT_EQ(std::count_if(events.begin(), events.end(),
                            [](const peer_event& e) { return std::holds_alternative<peer_events::have>(e); }),
              1);
    EXPECT_TRUE(p.c.peer_has().test(3));
    EXPECT_TRUE(p.c.peer_has().test(9));
    EXPECT_FALSE(p.c.peer_choking());
    EXPECT_TRUE(p.c.peer_interested());
}

TEST(peer_connection, closes_on_bad_input_with_a_reason) {
    const std::pair<std::string, std::string_view> cases[] = {
        {msg(wire::have_msg{10}), "have for piece 10 of 10"},
        {msg(wire::bitfield_msg{as_bytes(std::string("\xff\xff", 2))}), "spare bits"},
        {msg(wire::request_msg{0, 0, 16385}), "over 16 KiB"},
        {msg(wire::request_msg{9, 16384, 16384}), "out of range"},
        {msg(wire::request_msg{10, 0, 16384}), "out of range"},
        {msg(wire::piece_msg{0, 0, as_bytes(std::string("x"))}), "block never requested"},
        {msg(wire::have_msg{1}) + msg(wire::bitfield_msg{bitfield(10).wire()}), "bitfield after"},
        {std::string("\0\0\0\x04\x04\0\0\0", 8), "have/suggest/allowed-fast"},
        {std::string("\x7f\0\0\0", 4), "over the limit"},
    };
    for (const auto& [bytes, reason] : cases) {
        connected p;
        p.c.on_bytes(at(1), as_bytes(bytes));
        const std::string why = closed_reason(drain(p.c));
        EXPECT_NE(why.find(reason), std::string::npos) << reason << " / got: " << why;
        EXPECT_FALSE(p.c.is_open());
        p.c.on_bytes(at(2), as_bytes(msg(wire::unchoke_msg{})));
        EXPECT_TRUE(drain(p.c).empty()) << "a closed connection takes nothing more";
    }
}

TEST(peer_connection, fast_messages_need_the_fast_extension) {
    connected p(false);
    p.c.on_bytes(at(1), as_bytes(msg(wire::have_all_msg{})));
    EXPECT_NE(closed_reason(drain(p.c)).find("without the fast extension"), std::string::npos);
}

TEST(peer_connection, accepts_requested_blocks_and_tolerates_cancelled_ones) {
    connected p;
    const block_request a{2, 0, 16384};
    const block_request b{2, 16384, 16384};
    p.c.request(at(1), a);
    p.c.request(at(1), b);
    p.c.cancel(at(1), b);
    EXPECT_EQ(p.c.outstanding().size(), 1u);
    const std::string block(16384, 'd');
    // Event payloads view the bytes given to on_bytes: they must outlive the drain.
    const std::string wire_bytes =
        msg(wire::piece_msg{2, 0, as_bytes(block)}) + msg(wire::piece_msg{2, 16384, as_bytes(block)});
    p.c.on_bytes(at(2), as_bytes(wire_bytes));
    auto events = drain(p.c);
    ASSERT_EQ(events.size(), 1u);
    const auto& got = std::get<peer_events::block_received>(events[0]);
    EXPECT_EQ(got.block, a);
    EXPECT_EQ(as_chars(got.data), block);
    EXPECT_TRUE(p.c.is_open());
    EXPECT_EQ(p.c.downloaded(), 2 * 16384);
}

TEST(peer_connection, a_block_that_arrives_as_a_buffer_of_its_own_is_passed_on_by_reference) {
    connected p;
    const block_request a{2, 0, 16384};
    const block_request b{2, 16384, 16384};
    p.c.request(at(1), a);
    p.c.request(at(1), b);
    const auto block = std::make_shared<const std::vector<std::uint8_t>>(16384, std::uint8_t{'e'});
    // A sender's header and block as two buffers: the block's buffer is the block.
    const std::string framed = msg(wire::piece_msg{2, 0, byte_view(*block)});
    p.c.on_bytes(at(2), as_bytes(framed).first(wire::piece_header_size));
    p.c.on_bytes(at(2), byte_view(*block), block);
    // A block inside a larger buffer is not one of its own.
    const std::string second_framed = msg(wire::piece_msg{2, 16384, byte_view(*block)});
    const auto both = std::make_shared<const std::vector<std::uint8_t>>(as_bytes(second_framed).begin(),
                                                                        as_bytes(second_framed).end());
    p.c.on_bytes(at(3), byte_view(*both), both);
    auto events = drain(p.c);
    ASSERT_EQ(events.size(), 2u);
    const auto& first = std::get<peer_events::block_received>(events[0]);
    EXPECT_EQ(first.block, a);
    EXPECT_EQ(first.whole, block);
    EXPECT_EQ(first.data.data(), block->data());
    const auto& second = std::get<peer_events::block_received>(events[1]);
    EXPECT_EQ(second.block, b);
    EXPECT_EQ(second.whole, nullptr);
    EXPECT_EQ(as_chars(second.data), std::string(16384, 'e'));
}

TEST(peer_connection, blocks_cancelled_by_the_hundred_in_endgame_are_still_tolerated) {
    // Found by bench/transfer.sh: with 4 leechers, endgame cancels ran past a memory of 64 and
    // honest late blocks closed the connection as "never requested".
    const torrent_shape big{400, 16 * 16384, 400LL * 16 * 16384};
    peer_connection c(1, *endpoint::parse("127.0.0.1:1"), direction::incoming, make_handshake(1), big, {},
                      at(0));
    c.on_bytes(at(0), as_bytes(wire::encode_handshake(make_handshake(2))));
    drain(c);
    std::vector<block_request> blocks;
    for (std::uint32_t piece = 0; piece < 20; ++piece) {
        for (std::uint32_t b = 0; b < 15; ++b) {
            blocks.push_back({piece, b * 16384, 16384});
        }
    }
    for (const auto& b : blocks) {
        c.request(at(1), b);
    }
    for (const auto& b : blocks) {
        c.cancel(at(1), b);
    }
    const std::string data(16384, 'x');
    std::string late;
    for (const auto& b : blocks) {
        late += msg(wire::piece_msg{b.piece, b.begin, as_bytes(data)});
    }
    c.on_bytes(at(2), as_bytes(late));
    EXPECT_EQ(closed_reason(drain(c)), "");
    EXPECT_TRUE(c.is_open());
}

TEST(peer_connection, a_choke_drops_requests_without_the_fast_extension_only) {
    connected plain(false);
    plain.c.request(at(1), {1, 0, 16384});
    plain.c.on_bytes(at(2), as_bytes(msg(wire::choke_msg{})));
    auto events = drain(plain.c);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(std::get<peer_events::choked>(events[0]).dropped.size(), 1u);
    EXPECT_TRUE(plain.c.outstanding().empty());

    connected fast;
    fast.c.request(at(1), {1, 0, 16384});
    fast.c.on_bytes(at(2), as_bytes(msg(wire::choke_msg{})));
    EXPECT_TRUE(std::get<peer_events::choked>(drain(fast.c)[0]).dropped.empty());
    fast.c.on_bytes(at(2), as_bytes(msg(wire::reject_msg{1, 0, 16384})));
    auto rejected = drain(fast.c);
    ASSERT_EQ(rejected.size(), 1u);
    EXPECT_EQ(std::get<peer_events::rejected>(rejected[0]).block, (block_request{1, 0, 16384}));
    EXPECT_TRUE(fast.c.outstanding().empty());
}

TEST(peer_connection, requests_while_choked_are_rejected_with_fast_and_queued_when_unchoked) {
    connected p;
    p.c.on_bytes(at(1), as_bytes(msg(wire::request_msg{0, 0, 16384})));
    EXPECT_TRUE(drain(p.c).empty());
    EXPECT_EQ(p.c.take_send(), msg(wire::reject_msg{0, 0, 16384}));
    p.c.set_choking(at(2), false);
    EXPECT_EQ(p.c.take_send(), msg(wire::unchoke_msg{}));
    p.c.on_bytes(at(3), as_bytes(msg(wire::request_msg{9, 0, 31768 - 16384})));
    EXPECT_TRUE(has<peer_events::request_received>(drain(p.c)));
    ASSERT_EQ(p.c.incoming_requests().size(), 1u);
    // Choking again rejects what is queued (fast extension).
    p.c.set_choking(at(4), true);
    EXPECT_EQ(p.c.take_send(), msg(wire::choke_msg{}) + msg(wire::reject_msg{9, 0, 31768 - 16384}));
    EXPECT_TRUE(p.c.incoming_requests().empty());
}

TEST(peer_connection, incoming_request_queue_is_bounded) {
    peer_connection_config config;
    config.incoming_requests_max = 2;
    peer_connection c(1, *endpoint::parse("127.0.0.1:1"), direction::incoming, make_handshake(1), shape,
                      config, at(0));
    c.on_bytes(at(0), as_bytes(wire::encode_handshake(make_handshake(2))));
    c.set_choking(at(0), false);
    drain(c);
    c.take_send();
    for (std::uint32_t i = 0; i < 3; ++i) {
        c.on_bytes(at(1), as_bytes(msg(wire::request_msg{i, 0, 16384})));
    }
    EXPECT_EQ(c.incoming_requests().size(), 2u);
    EXPECT_EQ(c.take_send(), msg(wire::reject_msg{2, 0, 16384}));
}

TEST(peer_connection, magnet_bitfield_is_checked_once_the_shape_is_known) {
    peer_connection c(1, *endpoint::parse("127.0.0.1:1"), direction::incoming, make_handshake(1),
                      torrent_shape{}, {}, at(0));
    c.on_bytes(at(0), as_bytes(wire::encode_handshake(make_handshake(2))));
    bitfield theirs(10);
    theirs.set(0);
    c.on_bytes(at(1), as_bytes(msg(wire::bitfield_msg{theirs.wire()})));
    drain(c);
    EXPECT_FALSE(c.pieces_known());
    c.set_shape(at(2), shape);
    EXPECT_TRUE(has<peer_events::pieces_known>(drain(c)));
    EXPECT_TRUE(c.peer_has().test(0));
    EXPECT_EQ(c.peer_has().count(), 1u);

    peer_connection wrong(2, *endpoint::parse("127.0.0.1:1"), direction::incoming, make_handshake(1),
                          torrent_shape{}, {}, at(0));
    wrong.on_bytes(at(0), as_bytes(wire::encode_handshake(make_handshake(2))));
    wrong.on_bytes(at(1), as_bytes(msg(wire::bitfield_msg{bitfield(100).wire()})));
    wrong.set_shape(at(2), shape);
    EXPECT_NE(closed_reason(drain(wrong)).find("does not fit"), std::string::npos);
}

TEST(peer_connection, timers_close_silent_peers_and_keep_quiet_ones_alive) {
    peer_connection silent(1, *endpoint::parse("127.0.0.1:1"), direction::incoming, make_handshake(1), shape,
                           {}, at(0));
    EXPECT_EQ(silent.next_timer(), at(20));
    silent.on_timer(at(20));
    EXPECT_NE(closed_reason(drain(silent)).find("no handshake within 20 s"), std::string::npos);

    connected p;
    EXPECT_EQ(p.c.next_timer(), at(90));
    p.c.on_timer(at(90));
    EXPECT_EQ(p.c.take_send(), msg(wire::keep_alive_msg{}));
    p.c.on_timer(at(180));
    EXPECT_NE(closed_reason(drain(p.c)).find("nothing received for 180 s"), std::string::npos);
}

TEST(peer_connection, extension_messages_reach_the_torrent_by_local_id) {
    connected p;
    wire::extension_handshake h;
    h.messages = {{"ut_metadata", 7}};
    h.metadata_size = 1000;
    const std::string payload = wire::encode_extension_handshake(h);
    p.c.on_bytes(at(1), as_bytes(msg(wire::extended_msg{0, as_bytes(payload)})));
    EXPECT_TRUE(has<peer_events::extension_handshake_received>(drain(p.c)));
    EXPECT_EQ(p.c.their_extensions().id_of("ut_metadata"), 7);
    p.c.send_extension(at(2), "ut_metadata", "xyz");
    EXPECT_EQ(p.c.take_send(), msg(wire::extended_msg{7, as_bytes(std::string("xyz"))}));
    p.c.send_extension(at(2), "ut_pex", "ignored: they do not speak it");
    EXPECT_TRUE(p.c.take_send().empty());
    const std::string extension = msg(wire::extended_msg{local_ut_metadata_id, as_bytes(std::string("abc"))});
    p.c.on_bytes(at(3), as_bytes(extension));
    auto events = drain(p.c);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(as_chars(std::get<peer_events::extension_message>(events[0]).payload), "abc");
}

// Events as text, block contents included, to compare runs that split the bytes differently.
std::string transcript(peer_connection& c) {
    std::string out;
    while (auto e = c.poll_event()) {
        out += std::to_string(e->index());
        if (auto* b = std::get_if<peer_events::block_received>(&*e)) {
            out += ":" + std::to_string(b->block.piece) + "/" + std::to_string(b->block.begin) + "/" +
                   std::string(as_chars(b->data));
        } else if (auto* x = std::get_if<peer_events::extension_message>(&*e)) {
            out += ":" + std::string(as_chars(x->payload));
        }
        out += ";";
    }
    return out;
}

TEST(peer_connection, the_same_stream_split_anywhere_gives_the_same_events) {
    std::string stream = wire::encode_handshake(make_handshake(2));
    bitfield theirs(10);
    theirs.set(4);
    stream += msg(wire::bitfield_msg{theirs.wire()}) + msg(wire::unchoke_msg{});
    std::vector<block_request> requested;
    std::vector<std::size_t> header_ends;  // where each piece message's 13-byte header ends
    for (std::uint32_t b = 0; b < 6; ++b) {
        const block_request r{b % 3, (b / 3) * 16384, 16384};
        requested.push_back(r);
        header_ends.push_back(stream.size() + 13);
        stream += msg(wire::piece_msg{r.piece, r.begin, as_bytes(test_block(b))});
        stream += msg(wire::have_msg{b});
    }
    stream += msg(wire::extended_msg{local_ut_pex_id, as_bytes(std::string("pex payload"))});

    const auto run = [&](const std::vector<std::size_t>& cuts) {
        peer_connection c(1, *endpoint::parse("127.0.0.1:1"), direction::incoming, make_handshake(1), shape,
                          {}, at(0));
        for (const auto& r : requested) {
            c.request(at(0), r);
        }
        std::string events;
        std::size_t at_byte = 0;
        for (std::size_t cut : cuts) {
            c.on_bytes(at(1), as_bytes(std::string_view(stream).substr(at_byte, cut - at_byte)));
            events += transcript(c);  // views are only valid until the next call
            at_byte = cut;
        }
        EXPECT_TRUE(c.is_open());
        return events;
    };
    const std::string whole = run({stream.size()});
    std::vector<std::size_t> every_byte;
    for (std::size_t i = 1; i <= stream.size(); ++i) {
        every_byte.push_back(i);
    }
    EXPECT_EQ(run(every_byte), whole);
    // As a sender's two buffers arrive: each header alone, then its block with what follows (the
    // block is read in place), and each header in two parts.
    std::vector<std::size_t> at_headers = header_ends;
    at_headers.push_back(stream.size());
    EXPECT_EQ(run(at_headers), whole);
    std::vector<std::size_t> in_headers;
    for (std::size_t end : header_ends) {
        in_headers.insert(in_headers.end(), {end - 9, end - 4, end, end + 100});
    }
    in_headers.push_back(stream.size());
    EXPECT_EQ(run(in_headers), whole);
    rng random(5);
    for (int round = 0; round < 50; ++round) {
        std::vector<std::size_t> cuts;
        for (std::size_t at_byte = 0; at_byte < stream.size();) {
            at_byte = std::min(stream.size(), at_byte + 1 + random.uniform(40000));
            cuts.push_back(at_byte);
        }
        EXPECT_EQ(run(cuts), whole) << "round " << round;
    }
    EXPECT_NE(whole.find(test_block(5)), std::string::npos);
}

TEST(rate_meter, averages_over_a_five_second_window) {
    rate_meter m;
    for (int s = 0; s < 5; ++s) {
        m.add(at(s), 1000);
    }
    EXPECT_DOUBLE_EQ(m.bytes_per_second(at(4)), 1000);
    EXPECT_DOUBLE_EQ(m.bytes_per_second(at(6)), 600);
    EXPECT_DOUBLE_EQ(m.bytes_per_second(at(100)), 0);
    EXPECT_EQ(m.total(), 5000);
}

}  // namespace
}  // namespace hyphae::bittorrent
