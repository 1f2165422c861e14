#include "hyphae/proto/bittorrent/peer_connection.hpp"

#include <algorithm>
#include <array>
#include <type_traits>

namespace hyphae::bittorrent {
namespace {

constexpr std::size_t extended_length_max = 128 * 1024;
constexpr std::size_t early_pieces_bytes_max = 4 << 20;  // a bitfield before the metadata: 32 M pieces
constexpr std::size_t allowed_fast_max = 64;

std::int64_t whole_seconds(time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

std::int64_t torrent_shape::piece_size(piece_index piece) const {
    return std::min(piece_length, total_size - static_cast<std::int64_t>(piece) * piece_length);
}

void rate_meter::roll(std::int64_t second) {
    if (bucket_second_ < 0 || second - bucket_second_ >= window_seconds) {
        std::fill(std::begin(buckets_), std::end(buckets_), 0);
    } else {
        for (std::int64_t s = bucket_second_ + 1; s <= second; ++s) {
            buckets_[s % window_seconds] = 0;
        }
    }
    bucket_second_ = std::max(bucket_second_, second);
}

void rate_meter::add(time_point now, std::int64_t bytes) {
    roll(whole_seconds(now));
    buckets_[bucket_second_ % window_seconds] += bytes;
    total_ += bytes;
}

double rate_meter::bytes_per_second(time_point now) const {
    const std::int64_t second = whole_seconds(now);
    if (bucket_second_ < 0 || second - bucket_second_ >= window_seconds) {
        return 0;
    }
    std::int64_t sum = 0;
    // The current second is partial: average over the whole ones before it, plus it.
    for (std::int64_t s = second - window_seconds + 1; s <= second; ++s) {
        if (s >= 0 && s <= bucket_second_ && bucket_second_ - s < window_seconds) {
            sum += buckets_[s % window_seconds];
        }
    }
    return static_cast<double>(sum) / window_seconds;
}

peer_connection::peer_connection(connection_id id, endpoint remote, direction dir,
                                 const wire::handshake& ours, const torrent_shape& shape,
                                 const peer_connection_config& config, time_point now)
    : id_(id),
      remote_(remote),
      dir_(dir),
      ours_(ours),
      shape_(shape),
      config_(config),
      peer_has_(shape.piece_count),
      connected_at_(now),
      last_received_(now),
      last_sent_(now),
      last_block_at_(now) {
    if (dir_ == direction::outgoing) {
        send_ += wire::encode_handshake(ours_);
    }
}

bool peer_connection::fast_extension() const {
    return theirs_ && theirs_->fast_extension() && ours_.fast_extension();
}

bool peer_connection::extension_protocol() const {
    return theirs_ && theirs_->extension_protocol() && ours_.extension_protocol();
}

std::optional<peer_event> peer_connection::poll_event() {
    return events_.pop();
}

shared_bytes peer_connection::take_send_buffer() {
    auto out = std::make_shared<const std::vector<std::uint8_t>>(send_.begin(), send_.end());
    send_.clear();
    return out;
}

std::string peer_connection::take_send() {
    std::string out;
    out.swap(send_);
    return out;
}

void peer_connection::fail(std::string reason) {
    if (closed_) {
        return;
    }
    closed_ = true;
    events_.push_back(peer_events::closed{std::move(reason)});
}

void peer_connection::close(std::string reason) {
    fail(std::move(reason));
}

void peer_connection::queue(const wire::message& msg) {
    wire::append(send_, msg);
}

std::size_t peer_connection::message_length_max() const {
    const std::size_t bitfield_bytes = shape_.known() ? (shape_.piece_count + 7) / 8 : early_pieces_bytes_max;
    return std::max({std::size_t{1 + 8 + block_size}, 1 + bitfield_bytes, extended_length_max});
}

// Frames are parsed where they lie, in the caller's bytes; only one that straddles two calls is
// copied, into `assembled_`, and only the bytes it needs. Views in events stay valid until the
// next call: they point into the caller's bytes or into `assembled_`.
void peer_connection::on_bytes(time_point now, byte_view bytes, const shared_bytes& owner) {
    if (closed_) {
        return;
    }
    input_owner_ = &owner;
    struct forget_owner {
        const shared_bytes*& owner;
        ~forget_owner() { owner = nullptr; }
    } forget{input_owner_};
    last_received_ = now;
    assembled_.swap(partial_);
    partial_.clear();
    byte_view rest = bytes;
    if (!assembled_.empty()) {
        const auto top_up = [&](std::size_t size) {
            const std::size_t take = std::min(size - std::min(size, assembled_.size()), rest.size());
            assembled_.insert(assembled_.end(), rest.begin(),
                              rest.begin() + static_cast<std::ptrdiff_t>(take));
            rest = rest.subspan(take);
            return assembled_.size() >= size;
        };
        std::size_t frame = wire::handshake_size;
        if (theirs_) {
            if (!top_up(4)) {
                partial_.swap(assembled_);
                return;
            }
            const std::size_t length = wire::read_u32(assembled_, 0);
            if (length > message_length_max()) {
                consume_frame(now, byte_view(assembled_.data(), assembled_.size()));  // reports the error
                return;
            }
            frame = 4 + length;
        }
        // A piece message whose header came without any of its block (a sender's header and block
        // are two buffers): the block is read where it lies in `bytes`, not copied.
        constexpr std::size_t piece_header = wire::piece_header_size;
        const auto whole_block_follows = [&] {
            return theirs_ && frame > piece_header && top_up(5) &&
                   assembled_[4] == static_cast<std::uint8_t>(wire::message_id::piece) &&
                   assembled_.size() <= piece_header && top_up(piece_header) &&
                   rest.size() >= frame - piece_header;
        };
        if (whole_block_follows()) {
            const byte_view block = rest.first(frame - piece_header);
            rest = rest.subspan(block.size());
            handle(now, wire::piece_msg{wire::read_u32(assembled_, 5), wire::read_u32(assembled_, 9), block});
        } else {
            if (!top_up(frame)) {
                partial_.swap(assembled_);
                return;
            }
            consume_frame(now, byte_view(assembled_.data(), assembled_.size()));
        }
    }
    while (!closed_ && !rest.empty()) {
        const std::size_t used = consume_frame(now, rest);
        if (used == 0) {
            break;
        }
        rest = rest.subspan(used);
    }
    if (!closed_ && !rest.empty()) {
        partial_.assign(rest.begin(), rest.end());
    }
}

std::size_t peer_connection::consume_frame(time_point now, byte_view pending) {
    if (!theirs_) {
        if (pending.size() < wire::handshake_size) {
            return 0;
        }
        auto h = wire::decode_handshake(pending);
        if (!h) {
            fail(h.error().message());
            return 0;
        }
        if (h->info_hash != ours_.info_hash) {
            fail("handshake for another torrent (" + h->info_hash.to_hex() + ")");
            return 0;
        }
        if (h->peer_id == ours_.peer_id) {
            fail("connected to ourselves");
            return 0;
        }
        theirs_ = *h;
        if (dir_ == direction::incoming) {
            send_ += wire::encode_handshake(ours_);
        }
        events_.push_back(peer_events::handshake_received{h->peer_id});
        return wire::handshake_size;
    }
    auto decoded = wire::decode_message(pending, message_length_max());
    if (!decoded) {
        fail(decoded.error().message());
        return 0;
    }
    if (!*decoded) {
        return 0;
    }
    handle(now, (*decoded)->msg);
    return (*decoded)->consumed;
}

bool peer_connection::valid_block(const block_request& b) const {
    return shape_.known() && b.piece < shape_.piece_count && b.length > 0 && b.length <= block_size &&
           std::int64_t{b.begin} + b.length <= shape_.piece_size(b.piece);
}

// ---------------------------------------------------------------- messages, as a table

// One handler per message kind; each sees only its own kind. What several kinds share (BEP 6
// messages need the fast extension) is a column of the table below, checked before the handler.
struct message_handlers {
    static bool piece_in_range(peer_connection& c, std::uint32_t piece, const char* what) {
        if (c.shape_.known() && piece >= c.shape_.piece_count) {
            c.fail(std::string(what) + " for piece " + std::to_string(piece) + " of " +
                   std::to_string(c.shape_.piece_count));
            return false;
        }
        return true;
    }

    // BEP 3: unknown ids are ignored; a keep-alive only proves the peer is there (on_bytes noted it).
    static void on(peer_connection&, time_point, const wire::keep_alive_msg&) {}
    static void on(peer_connection&, time_point, const wire::unknown_msg&) {}

    static void on(peer_connection& c, time_point, const wire::have_msg& m) {
        if (!piece_in_range(c, m.piece, "have")) {
            return;
        }
        c.any_message_ = true;
        if (!c.shape_.known()) {
            return;  // before the metadata a have is not worth remembering; the bitfield is
        }
        if (!c.pieces_known_) {
            c.pieces_known_ = true;
            c.events_.push_back(peer_events::pieces_known{});
        }
        if (!c.peer_has_.test(m.piece)) {
            c.peer_has_.set(m.piece);
            c.events_.push_back(peer_events::have{m.piece});
        }
    }

    static void on(peer_connection& c, time_point, const wire::bitfield_msg& m) {
        if (c.any_message_) {
            c.fail("bitfield after other piece information");
            return;
        }
        c.any_message_ = true;
        if (!c.shape_.known()) {
            c.early_bitfield_ = std::string(as_chars(m.bits));
            return;
        }
        auto bits = bitfield::from_wire(m.bits, c.shape_.piece_count);
        if (!bits) {
            c.fail("bitfield of " + std::to_string(m.bits.size()) +
                   " bytes with spare bits set or for another size");
            return;
        }
        c.peer_has_ = std::move(*bits);
        c.pieces_known_ = true;
        c.events_.push_back(peer_events::pieces_known{});
    }

    static void have_all_or_none(peer_connection& c, bool all) {
        if (c.any_message_) {
            c.fail("have-all/have-none after other piece information");
            return;
        }
        c.any_message_ = true;
        if (!c.shape_.known()) {
            c.early_bitfield_ = all ? "all" : "";
            return;
        }
        c.peer_has_ = bitfield(c.shape_.piece_count, all);
        c.pieces_known_ = true;
        c.events_.push_back(peer_events::pieces_known{});
    }
    static void on(peer_connection& c, time_point, const wire::have_all_msg&) { have_all_or_none(c, true); }
    static void on(peer_connection& c, time_point, const wire::have_none_msg&) { have_all_or_none(c, false); }

    static void on(peer_connection& c, time_point, const wire::choke_msg&) {
        c.peer_choking_ = true;
        peer_events::choked e;
        if (!c.fast_extension()) {
            // BEP 3: a choke discards every pending request. Blocks already on the wire may still come.
            e.dropped = std::move(c.outstanding_);
            c.outstanding_.clear();
            for (const block_request& b : e.dropped) {
                c.cancelled_.push_back(b);
            }
            while (c.cancelled_.size() > c.config_.cancelled_remembered_max) {
                c.cancelled_.pop_front();
            }
        }
        c.events_.push_back(std::move(e));
    }

    static void on(peer_connection& c, time_point, const wire::unchoke_msg&) {
        c.peer_choking_ = false;
        c.events_.push_back(peer_events::unchoked{});
    }

    static void on(peer_connection& c, time_point, const wire::interested_msg&) {
        c.peer_interested_ = true;
        c.events_.push_back(peer_events::interest_changed{});
    }

    static void on(peer_connection& c, time_point, const wire::not_interested_msg&) {
        c.peer_interested_ = false;
        c.events_.push_back(peer_events::interest_changed{});
    }

    static void on(peer_connection& c, time_point, const wire::request_msg& m) {
        const block_request b{m.piece, m.begin, m.length};
        if (!c.shape_.known()) {
            c.fail("request before we have the metadata");
            return;
        }
        if (!c.valid_block(b)) {
            c.fail("request out of range or over 16 KiB: piece " + std::to_string(b.piece) + " offset " +
                   std::to_string(b.begin) + " length " + std::to_string(b.length));
            return;
        }
        const bool allowed =
            !c.am_choking_ || std::find(c.allowed_fast_out_.begin(), c.allowed_fast_out_.end(), b.piece) !=
                                  c.allowed_fast_out_.end();
        if (!allowed || c.incoming_.size() >= c.config_.incoming_requests_max) {
            if (c.fast_extension()) {
                c.queue(wire::reject_msg{b.piece, b.begin, b.length});
            }
            return;
        }
        c.incoming_.push_back(b);
        c.events_.push_back(peer_events::request_received{});
    }

    static void on(peer_connection& c, time_point, const wire::cancel_msg& m) {
        const block_request b{m.piece, m.begin, m.length};
        if (auto it = std::find(c.incoming_.begin(), c.incoming_.end(), b); it != c.incoming_.end()) {
            c.incoming_.erase(it);
        }
    }

    static void on(peer_connection& c, time_point now, const wire::piece_msg& m) {
        const block_request b{m.piece, m.begin, static_cast<std::uint32_t>(m.data.size())};
        if (auto it = std::find(c.outstanding_.begin(), c.outstanding_.end(), b);
            it != c.outstanding_.end()) {
            c.outstanding_.erase(it);
            c.download_.add(now, static_cast<std::int64_t>(m.data.size()));
            c.last_block_at_ = now;
            const shared_bytes* owner = c.input_owner_;
            const bool whole = owner != nullptr && *owner && (*owner)->data() == m.data.data() &&
                               (*owner)->size() == m.data.size();
            c.events_.push_back(peer_events::block_received{b, m.data, whole ? *owner : nullptr});
            return;
        }
        if (auto it = std::find(c.cancelled_.begin(), c.cancelled_.end(), b); it != c.cancelled_.end()) {
            c.cancelled_.erase(it);  // raced our cancel or their choke: wasted, not wrong
            c.download_.add(now, static_cast<std::int64_t>(m.data.size()));
            return;
        }
        c.fail("block never requested: piece " + std::to_string(b.piece) + " offset " +
               std::to_string(b.begin) + " length " + std::to_string(b.length));
    }

    static void on(peer_connection& c, time_point, const wire::reject_msg& m) {
        const block_request b{m.piece, m.begin, m.length};
        if (auto it = std::find(c.outstanding_.begin(), c.outstanding_.end(), b);
            it != c.outstanding_.end()) {
            c.outstanding_.erase(it);
            c.events_.push_back(peer_events::rejected{b});
        }
    }

    static void on(peer_connection& c, time_point, const wire::allowed_fast_msg& m) {
        if (!piece_in_range(c, m.piece, "allowed-fast")) {
            return;
        }
        if (c.allowed_fast_in_.size() < allowed_fast_max &&
            std::find(c.allowed_fast_in_.begin(), c.allowed_fast_in_.end(), m.piece) ==
                c.allowed_fast_in_.end()) {
            c.allowed_fast_in_.push_back(m.piece);
            c.events_.push_back(peer_events::allowed_fast{m.piece});
        }
    }

    static void on(peer_connection& c, time_point, const wire::suggest_msg& m) {
        if (piece_in_range(c, m.piece, "suggest")) {
            c.events_.push_back(peer_events::suggested{m.piece});
        }
    }

    static void on(peer_connection& c, time_point, const wire::port_msg& m) {
        c.events_.push_back(peer_events::dht_port{m.port});
    }

    static void on(peer_connection& c, time_point, const wire::extended_msg& m) {
        if (!c.extension_protocol()) {
            c.fail("extended message without the extension protocol");
            return;
        }
        if (m.id == 0) {
            auto h = wire::parse_extension_handshake(m.payload);
            if (!h) {
                c.fail(h.error().message());
                return;
            }
            c.their_ext_ = std::move(*h);
            c.events_.push_back(peer_events::extension_handshake_received{});
            return;
        }
        if (m.id == local_ut_metadata_id || m.id == local_ut_pex_id) {
            c.events_.push_back(peer_events::extension_message{m.id, m.payload});
        }
    }
};

namespace {

// A message's kind is its index in wire::message (as wire::name_of's names are).
template <class M, class... Ms>
constexpr std::size_t index_in(const std::variant<Ms...>*) {
    constexpr bool same[] = {std::is_same_v<M, Ms>...};
    for (std::size_t i = 0; i < sizeof...(Ms); ++i) {
        if (same[i]) {
            return i;
        }
    }
    return sizeof...(Ms);
}
template <class M>
constexpr std::size_t kind_of = index_in<M>(static_cast<const wire::message*>(nullptr));

struct message_rule {
    std::size_t kind;  // its row: the message's index in wire::message
    const char* name;  // in the reason a connection is closed for
    bool needs_fast;   // BEP 6: only with the fast extension, which both sides must offer
    void (*handle)(peer_connection&, time_point, const wire::message&);
};

template <class M>
constexpr message_rule row(const char* name, bool needs_fast) {
    return message_rule{kind_of<M>, name, needs_fast,
                        [](peer_connection& c, time_point now, const wire::message& m) {
                            message_handlers::on(c, now, *std::get_if<M>(&m));
                        }};
}

// clang-format off
constexpr std::array<message_rule, std::variant_size_v<wire::message>> message_rules = {
    //   kind                          name in reasons       needs the fast extension
    row<wire::keep_alive_msg>    ("keep-alive",         false),
    row<wire::choke_msg>         ("choke",              false),
    row<wire::unchoke_msg>       ("unchoke",            false),
    row<wire::interested_msg>    ("interested",         false),
    row<wire::not_interested_msg>("not-interested",     false),
    row<wire::have_msg>          ("have",               false),
    row<wire::bitfield_msg>      ("bitfield",           false),
    row<wire::request_msg>       ("request",            false),
    row<wire::piece_msg>         ("piece",              false),
    row<wire::cancel_msg>        ("cancel",             false),
    row<wire::port_msg>          ("port",               false),
    row<wire::suggest_msg>       ("suggest",            true),
    row<wire::have_all_msg>      ("have-all/have-none", true),
    row<wire::have_none_msg>     ("have-all/have-none", true),
    row<wire::reject_msg>        ("reject",             true),
    row<wire::allowed_fast_msg>  ("allowed-fast",       true),
    row<wire::extended_msg>      ("extended",           false),
    row<wire::unknown_msg>       ("unknown",            false),
};
// clang-format on

constexpr bool rows_in_kind_order() {
    for (std::size_t i = 0; i < message_rules.size(); ++i) {
        if (message_rules[i].kind != i) {
            return false;
        }
    }
    return true;
}
static_assert(rows_in_kind_order(), "message_rules: one row per wire::message alternative, in its order");

}  // namespace

void peer_connection::handle(time_point now, const wire::message& msg) {
    const message_rule& rule = message_rules[msg.index()];
    if (rule.needs_fast && !fast_extension()) {
        fail(std::string(rule.name) + " without the fast extension");
        return;
    }
    rule.handle(*this, now, msg);
}

void peer_connection::set_shape(time_point, const torrent_shape& shape) {
    shape_ = shape;
    peer_has_ = bitfield(shape.piece_count);
    if (!any_message_ || closed_) {
        return;
    }
    if (early_bitfield_ == "all") {
        peer_has_.set_all();
    } else if (!early_bitfield_.empty()) {
        auto bits = bitfield::from_wire(as_bytes(early_bitfield_), shape.piece_count);
        if (!bits) {
            fail("bitfield sent before the metadata does not fit it");
            return;
        }
        peer_has_ = std::move(*bits);
    }
    early_bitfield_.clear();
    pieces_known_ = true;
    events_.push_back(peer_events::pieces_known{});
}

std::optional<time_point> peer_connection::next_timer() const {
    if (closed_) {
        return std::nullopt;
    }
    if (!theirs_) {
        return connected_at_ + config_.handshake_timeout;
    }
    return std::min(last_received_ + config_.idle_timeout, last_sent_ + config_.keepalive_interval);
}

void peer_connection::on_timer(time_point now) {
    if (closed_) {
        return;
    }
    if (!theirs_ && now - connected_at_ >= config_.handshake_timeout) {
        fail("no handshake within " +
             std::to_string(std::chrono::duration_cast<seconds>(config_.handshake_timeout).count()) + " s");
        return;
    }
    if (now - last_received_ >= config_.idle_timeout) {
        fail("nothing received for " +
             std::to_string(std::chrono::duration_cast<seconds>(config_.idle_timeout).count()) + " s");
        return;
    }
    if (theirs_ && now - last_sent_ >= config_.keepalive_interval && send_.empty()) {
        queue(wire::keep_alive_msg{});
        last_sent_ = now;
    }
}

void peer_connection::send_extension_handshake(const wire::extension_handshake& h) {
    const std::string payload = wire::encode_extension_handshake(h);
    queue(wire::extended_msg{0, as_bytes(payload)});
}

void peer_connection::send_pieces(time_point now, const bitfield& have) {
    last_sent_ = now;
    if (have.size() == 0) {
        // No metadata yet (a magnet link): we have nothing, whatever an empty set's all() says.
        if (fast_extension()) {
            queue(wire::have_none_msg{});
        }
        return;
    }
    if (fast_extension() && have.all()) {
        queue(wire::have_all_msg{});
    } else if (fast_extension() && have.none()) {
        queue(wire::have_none_msg{});
    } else if (!have.none()) {
        queue(wire::bitfield_msg{have.wire()});
    }
}

void peer_connection::send_have(time_point now, piece_index piece) {
    last_sent_ = now;
    queue(wire::have_msg{piece});
}

void peer_connection::set_choking(time_point now, bool choke) {
    if (choke == am_choking_) {
        return;
    }
    am_choking_ = choke;
    last_sent_ = now;
    if (choke) {
        queue(wire::choke_msg{});
        // BEP 6: with the fast extension every request we drop must be rejected explicitly.
        fifo<block_request> kept;
        for (const block_request& b : incoming_) {
            if (std::find(allowed_fast_out_.begin(), allowed_fast_out_.end(), b.piece) !=
                allowed_fast_out_.end()) {
                kept.push_back(b);
            } else if (fast_extension()) {
                queue(wire::reject_msg{b.piece, b.begin, b.length});
            }
        }
        incoming_ = std::move(kept);
    } else {
        queue(wire::unchoke_msg{});
    }
}

void peer_connection::set_interested(time_point now, bool interested) {
    if (interested == am_interested_) {
        return;
    }
    am_interested_ = interested;
    last_sent_ = now;
    queue(interested ? wire::message{wire::interested_msg{}} : wire::message{wire::not_interested_msg{}});
}

void peer_connection::request(time_point now, const block_request& block) {
    last_sent_ = now;
    outstanding_.push_back(block);
    queue(wire::request_msg{block.piece, block.begin, block.length});
}

void peer_connection::cancel(time_point now, const block_request& block) {
    auto it = std::find(outstanding_.begin(), outstanding_.end(), block);
    if (it == outstanding_.end()) {
        return;
    }
    outstanding_.erase(it);
    cancelled_.push_back(block);
    while (cancelled_.size() > config_.cancelled_remembered_max) {
        cancelled_.pop_front();
    }
    last_sent_ = now;
    queue(wire::cancel_msg{block.piece, block.begin, block.length});
}

void peer_connection::send_block_header(time_point now, const block_request& block) {
    last_sent_ = now;
    wire::append_piece_header(send_, block.piece, block.begin, block.length);
}

void peer_connection::reject(time_point now, const block_request& block) {
    if (fast_extension()) {
        last_sent_ = now;
        queue(wire::reject_msg{block.piece, block.begin, block.length});
    }
}

void peer_connection::send_allowed_fast(time_point now, piece_index piece) {
    if (!fast_extension() || allowed_fast_out_.size() >= allowed_fast_max) {
        return;
    }
    allowed_fast_out_.push_back(piece);
    last_sent_ = now;
    queue(wire::allowed_fast_msg{piece});
}

void peer_connection::send_extension(time_point now, std::string_view name, std::string_view payload) {
    const std::uint8_t id = their_ext_.id_of(name);
    if (id == 0) {
        return;
    }
    last_sent_ = now;
    queue(wire::extended_msg{id, as_bytes(payload)});
}

}  // namespace hyphae::bittorrent
