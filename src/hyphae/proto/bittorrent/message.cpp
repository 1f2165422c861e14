#include "hyphae/proto/bittorrent/message.hpp"

namespace hyphae::bittorrent::wire {

std::uint32_t read_u32(byte_view b, std::size_t at) {
    return static_cast<std::uint32_t>(b[at]) << 24 | static_cast<std::uint32_t>(b[at + 1]) << 16 |
           static_cast<std::uint32_t>(b[at + 2]) << 8 | b[at + 3];
}

namespace {

void put_u32(std::string& out, std::uint32_t v) {
    out.push_back(static_cast<char>(v >> 24));
    out.push_back(static_cast<char>(v >> 16));
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v));
}

void header(std::string& out, std::uint32_t payload_length, message_id id) {
    put_u32(out, payload_length + 1);
    out.push_back(static_cast<char>(id));
}

tl::unexpected<error> bad_length(std::string_view what, std::uint32_t length) {
    return fail(errc::invalid_input, "peer message",
                std::string(what) + " with a length of " + std::to_string(length));
}

}  // namespace

result<std::optional<decoded>> decode_message(byte_view buffer, std::size_t length_max) {
    if (buffer.size() < 4) {
        return std::optional<decoded>{};
    }
    const std::uint32_t length = read_u32(buffer, 0);
    if (length > length_max) {
        return fail(
            errc::limit_exceeded, "peer message",
            "length " + std::to_string(length) + " is over the limit of " + std::to_string(length_max));
    }
    if (buffer.size() - 4 < length) {
        return std::optional<decoded>{};
    }
    const std::size_t consumed = 4 + std::size_t{length};
    if (length == 0) {
        return decoded{keep_alive_msg{}, consumed};
    }
    const byte_view p = buffer.subspan(5, length - 1);
    const auto id = static_cast<message_id>(buffer[4]);
    const auto fixed = [&](std::uint32_t payload, std::string_view what) -> result<void> {
        if (p.size() != payload) {
            return bad_length(what, length);
        }
        return {};
    };
    switch (id) {
        case message_id::choke:
        case message_id::unchoke:
        case message_id::interested:
        case message_id::not_interested:
        case message_id::have_all:
        case message_id::have_none: {
            if (auto ok = fixed(0, "a message without payload"); !ok) {
                return tl::unexpected(ok.error());
            }
            switch (id) {
                case message_id::choke:
                    return decoded{choke_msg{}, consumed};
                case message_id::unchoke:
                    return decoded{unchoke_msg{}, consumed};
                case message_id::interested:
                    return decoded{interested_msg{}, consumed};
                case message_id::not_interested:
                    return decoded{not_interested_msg{}, consumed};
                case message_id::have_all:
                    return decoded{have_all_msg{}, consumed};
                default:
                    return decoded{have_none_msg{}, consumed};
            }
        }
        case message_id::have:
        case message_id::suggest:
        case message_id::allowed_fast: {
            if (auto ok = fixed(4, "have/suggest/allowed-fast"); !ok) {
                return tl::unexpected(ok.error());
            }
            const std::uint32_t piece = read_u32(p, 0);
            if (id == message_id::have) {
                return decoded{have_msg{piece}, consumed};
            }
            if (id == message_id::suggest) {
                return decoded{suggest_msg{piece}, consumed};
            }
            return decoded{allowed_fast_msg{piece}, consumed};
        }
        case message_id::bitfield:
            return decoded{bitfield_msg{p}, consumed};
        case message_id::request:
        case message_id::cancel:
        case message_id::reject: {
            if (auto ok = fixed(12, "request/cancel/reject"); !ok) {
                return tl::unexpected(ok.error());
            }
            const std::uint32_t piece = read_u32(p, 0);
            const std::uint32_t begin = read_u32(p, 4);
            const std::uint32_t block = read_u32(p, 8);
            if (id == message_id::request) {
                return decoded{request_msg{piece, begin, block}, consumed};
            }
            if (id == message_id::cancel) {
                return decoded{cancel_msg{piece, begin, block}, consumed};
            }
            return decoded{reject_msg{piece, begin, block}, consumed};
        }
        case message_id::piece:
            if (p.size() < 8) {
                return bad_length("piece", length);
            }
            return decoded{piece_msg{read_u32(p, 0), read_u32(p, 4), p.subspan(8)}, consumed};
        case message_id::port:
            if (p.size() != 2) {
                return bad_length("port", length);
            }
            return decoded{port_msg{static_cast<std::uint16_t>(p[0] << 8 | p[1])}, consumed};
        case message_id::extended:
            if (p.empty()) {
                return bad_length("extended", length);
            }
            return decoded{extended_msg{p[0], p.subspan(1)}, consumed};
    }
    return decoded{unknown_msg{buffer[4]}, consumed};
}

void append_piece_header(std::string& out, std::uint32_t piece, std::uint32_t begin, std::uint32_t length) {
    header(out, 8 + length, message_id::piece);
    put_u32(out, piece);
    put_u32(out, begin);
}

void append(std::string& out, const message& msg) {
    struct visitor {
        std::string& out;
        void operator()(const keep_alive_msg&) const { put_u32(out, 0); }
        void operator()(const choke_msg&) const { header(out, 0, message_id::choke); }
        void operator()(const unchoke_msg&) const { header(out, 0, message_id::unchoke); }
        void operator()(const interested_msg&) const { header(out, 0, message_id::interested); }
        void operator()(const not_interested_msg&) const { header(out, 0, message_id::not_interested); }
        void operator()(const have_msg& m) const {
            header(out, 4, message_id::have);
            put_u32(out, m.piece);
        }
        void operator()(const bitfield_msg& m) const {
            header(out, static_cast<std::uint32_t>(m.bits.size()), message_id::bitfield);
            out.append(as_chars(m.bits));
        }
        void operator()(const request_msg& m) const {
            triple(message_id::request, m.piece, m.begin, m.length);
        }
        void operator()(const piece_msg& m) const {
            append_piece_header(out, m.piece, m.begin, static_cast<std::uint32_t>(m.data.size()));
            out.append(as_chars(m.data));
        }
        void operator()(const cancel_msg& m) const { triple(message_id::cancel, m.piece, m.begin, m.length); }
        void operator()(const port_msg& m) const {
            header(out, 2, message_id::port);
            out.push_back(static_cast<char>(m.port >> 8));
            out.push_back(static_cast<char>(m.port));
        }
        void operator()(const suggest_msg& m) const {
            header(out, 4, message_id::suggest);
            put_u32(out, m.piece);
        }
        void operator()(const have_all_msg&) const { header(out, 0, message_id::have_all); }
        void operator()(const have_none_msg&) const { header(out, 0, message_id::have_none); }
        void operator()(const reject_msg& m) const { triple(message_id::reject, m.piece, m.begin, m.length); }
        void operator()(const allowed_fast_msg& m) const {
            header(out, 4, message_id::allowed_fast);
            put_u32(out, m.piece);
        }
        void operator()(const extended_msg& m) const {
            header(out, static_cast<std::uint32_t>(1 + m.payload.size()), message_id::extended);
            out.push_back(static_cast<char>(m.id));
            out.append(as_chars(m.payload));
        }
        void operator()(const unknown_msg& m) const {
            put_u32(out, 1);
            out.push_back(static_cast<char>(m.id));
        }
        void triple(message_id id, std::uint32_t a, std::uint32_t b, std::uint32_t c) const {
            header(out, 12, id);
            put_u32(out, a);
            put_u32(out, b);
            put_u32(out, c);
        }
    };
    std::visit(visitor{out}, msg);
}

std::string_view name_of(const message& msg) {
    static constexpr std::string_view names[] = {
        "keep-alive", "choke",     "unchoke", "interested",   "not-interested", "have",
        "bitfield",   "request",   "piece",   "cancel",       "port",           "suggest",
        "have-all",   "have-none", "reject",  "allowed-fast", "extended",       "unknown"};
    return names[msg.index()];
}

}  // namespace hyphae::bittorrent::wire
