#include "hyphae/proto/dht/krpc.hpp"

#include <array>

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/bencode_writer.hpp"

namespace hyphae::dht {

namespace {

constexpr std::array<std::pair<std::string_view, krpc_method>, 7> method_names{{
    {"ping", krpc_method::ping},
    {"find_node", krpc_method::find_node},
    {"get_peers", krpc_method::get_peers},
    {"announce_peer", krpc_method::announce_peer},
    {"get", krpc_method::get},
    {"put", krpc_method::put},
    {"sample_infohashes", krpc_method::sample_infohashes},
}};

krpc_method method_from(std::string_view name) {
    for (const auto& [text, method] : method_names) {
        if (text == name) {
            return method;
        }
    }
    return krpc_method::unknown;
}

// Decoding one message: collects the first problem and where it was.
struct reader {
    std::string problem;

    bool fail(std::string what) {
        if (problem.empty()) {
            problem = std::move(what);
        }
        return false;
    }

    std::optional<id160> id(bnode dict, std::string_view key, std::string_view where, bool required) {
        const bnode node = dict.find(key);
        if (!node.valid()) {
            if (required) {
                fail(std::string(where) + "." + std::string(key) + ": missing");
            }
            return std::nullopt;
        }
        auto text = node.as_string();
        auto value = text ? id160::from_bytes(*text) : std::nullopt;
        if (!value) {
            fail(std::string(where) + "." + std::string(key) + ": not a 20-byte string");
        }
        return value;
    }

    std::optional<std::string> string(bnode dict, std::string_view key, std::string_view where,
                                      std::size_t exact_size = 0) {
        const bnode node = dict.find(key);
        if (!node.valid()) {
            return std::nullopt;
        }
        auto text = node.as_string();
        if (!text) {
            fail(std::string(where) + "." + std::string(key) + ": not a string");
            return std::nullopt;
        }
        if (exact_size != 0 && text->size() != exact_size) {
            fail(std::string(where) + "." + std::string(key) + ": not " + std::to_string(exact_size) +
                 " bytes");
            return std::nullopt;
        }
        return std::string(*text);
    }

    std::optional<std::int64_t> integer(bnode dict, std::string_view key, std::string_view where) {
        const bnode node = dict.find(key);
        if (!node.valid()) {
            return std::nullopt;
        }
        auto value = node.as_int();
        if (!value) {
            fail(std::string(where) + "." + std::string(key) + ": not an integer");
        }
        return value;
    }

    std::vector<node_contact> nodes(bnode dict, std::string_view key, bool v6) {
        const bnode node = dict.find(key);
        if (!node.valid()) {
            return {};
        }
        auto text = node.as_string();
        auto parsed = text ? parse_compact_nodes(as_bytes(*text), v6) : std::nullopt;
        if (!parsed) {
            fail("r." + std::string(key) + ": not a whole number of compact node records");
            return {};
        }
        return std::move(*parsed);
    }
};

void read_query(reader& in, bnode message, krpc_query& q) {
    auto name = message.find_string("q");
    if (!name) {
        in.fail("q: missing or not a string");
        return;
    }
    q.method_name = std::string(*name);
    q.method = method_from(*name);
    const bnode args = message.find("a");
    if (!args.is_dict()) {
        in.fail("a: missing or not a dictionary");
        return;
    }
    if (auto id = in.id(args, "id", "a", true)) {
        q.id = *id;
    }
    if (auto ro = in.integer(args, "ro", "a")) {
        q.read_only = *ro == 1;
    }
    for (bnode want : args.find_list("want").list_items()) {
        auto family = want.as_string();
        q.want_v4 |= family == "n4";
        q.want_v6 |= family == "n6";
    }
    switch (q.method) {
        case krpc_method::find_node:
        case krpc_method::sample_infohashes:
            q.target = in.id(args, "target", "a", true);
            break;
        case krpc_method::get_peers:
            q.info_hash = in.id(args, "info_hash", "a", true);
            break;
        case krpc_method::announce_peer: {
            q.info_hash = in.id(args, "info_hash", "a", true);
            q.implied_port = in.integer(args, "implied_port", "a").value_or(0) == 1;
            q.seed = in.integer(args, "seed", "a").value_or(0) == 1;
            auto port = in.integer(args, "port", "a");
            if (port && *port >= 1 && *port <= 65535) {
                q.port = static_cast<std::uint16_t>(*port);
            } else if (!q.implied_port) {
                in.fail("a.port: missing or not in 1-65535");
            }
            auto token = in.string(args, "token", "a");
            if (!token) {
                in.fail("a.token: missing");
            }
            q.token = token.value_or("");
            break;
        }
        case krpc_method::get:
            q.target = in.id(args, "target", "a", true);
            q.seq = in.integer(args, "seq", "a");
            break;
        case krpc_method::put: {
            auto token = in.string(args, "token", "a");
            if (!token) {
                in.fail("a.token: missing");
            }
            q.token = token.value_or("");
            const bnode v = args.find("v");
            if (!v.valid()) {
                in.fail("a.v: missing");
            } else {
                q.value = std::string(as_chars(v.raw()));
            }
            q.key = in.string(args, "k", "a", 32);
            q.signature = in.string(args, "sig", "a", 64);
            q.salt = in.string(args, "salt", "a").value_or("");
            q.seq = in.integer(args, "seq", "a");
            q.cas = in.integer(args, "cas", "a");
            if (q.key && (!q.signature || !q.seq)) {
                in.fail("a: a mutable put needs sig and seq");
            }
            break;
        }
        case krpc_method::ping:
        case krpc_method::unknown:
            break;
    }
}

void read_response(reader& in, bnode message, krpc_response& r) {
    const bnode body = message.find("r");
    if (!body.is_dict()) {
        in.fail("r: missing or not a dictionary");
        return;
    }
    if (auto id = in.id(body, "id", "r", true)) {
        r.id = *id;
    }
    r.nodes = in.nodes(body, "nodes", false);
    r.nodes6 = in.nodes(body, "nodes6", true);
    for (bnode value : body.find_list("values").list_items()) {
        // Peers of the wrong size are skipped, as other clients do: one bad entry is not worth
        // dropping the others.
        auto text = value.as_string();
        auto peer = text ? parse_compact(as_bytes(*text)) : std::nullopt;
        if (peer && peer->port != 0) {
            r.values.push_back(*peer);
        }
    }
    r.token = in.string(body, "token", "r");
    if (const bnode v = body.find("v"); v.valid()) {
        r.value = std::string(as_chars(v.raw()));
    }
    r.key = in.string(body, "k", "r", 32);
    r.signature = in.string(body, "sig", "r", 64);
    r.seq = in.integer(body, "seq", "r");
    if (auto samples = in.string(body, "samples", "r")) {
        if (samples->size() % id160::size != 0) {
            in.fail("r.samples: not a whole number of 20-byte hashes");
        } else {
            std::vector<id160> hashes;
            for (std::size_t at = 0; at < samples->size(); at += id160::size) {
                hashes.push_back(*id160::from_bytes(std::string_view(*samples).substr(at, id160::size)));
            }
            r.samples = std::move(hashes);
        }
    }
    r.num = in.integer(body, "num", "r");
    r.interval = in.integer(body, "interval", "r");
}

void read_error(reader& in, bnode message, krpc_error_body& e) {
    const bnode body = message.find("e");
    if (!body.is_list() || body.size() < 2) {
        in.fail("e: missing or not a [code, message] list");
        return;
    }
    auto items = body.list_items();
    auto it = items.begin();
    auto code = (*it).as_int();
    ++it;
    auto text = (*it).as_string();
    if (!code || !text || *code < 0 || *code > 999) {
        in.fail("e: not a [code, message] list");
        return;
    }
    e.code = static_cast<int>(*code);
    e.message = std::string(*text);
}

}  // namespace

std::string_view to_string(krpc_method method) {
    for (const auto& [text, m] : method_names) {
        if (m == method) {
            return text;
        }
    }
    return "unknown";
}

tl::expected<krpc_message, krpc_decode_error> decode_krpc(byte_view datagram) {
    if (datagram.size() > krpc_datagram_max) {
        return tl::unexpected(krpc_decode_error{
            {}, false, "datagram larger than " + std::to_string(krpc_datagram_max) + " bytes"});
    }
    bdecode_limits limits;
    limits.depth_max = 8;
    limits.values_max = 1024;
    limits.string_length_max = krpc_datagram_max;
    limits.sorted_keys_required = false;  // some clients do not sort their keys
    auto doc = bdecode(datagram, limits);
    if (!doc) {
        return tl::unexpected(krpc_decode_error{{}, false, "bencode: " + doc.error().message()});
    }
    const bnode root = doc->root();
    if (!root.is_dict()) {
        return tl::unexpected(krpc_decode_error{{}, false, "not a dictionary"});
    }
    krpc_message out;
    auto tid = root.find_string("t");
    auto type = root.find_string("y");
    const bool is_query = type == "q";
    if (!tid || tid->empty() || tid->size() > transaction_id_max) {
        return tl::unexpected(krpc_decode_error{{}, is_query, "t: missing, empty or too long"});
    }
    out.transaction_id = std::string(*tid);
    reader in;
    if (auto version = root.find_string("v")) {
        out.version = std::string(version->substr(0, 16));
    }
    if (auto ip = root.find_string("ip")) {
        out.requester = parse_compact(as_bytes(*ip));
    }
    if (is_query) {
        out.type = krpc_message::kind::query;
        read_query(in, root, out.query);
    } else if (type == "r") {
        out.type = krpc_message::kind::response;
        read_response(in, root, out.response);
    } else if (type == "e") {
        out.type = krpc_message::kind::error;
        read_error(in, root, out.error);
    } else {
        in.fail("y: missing or not one of q, r, e");
    }
    if (!in.problem.empty()) {
        return tl::unexpected(krpc_decode_error{out.transaction_id, is_query, std::move(in.problem)});
    }
    return out;
}

namespace {

void write_nodes(bencode_writer& w, std::string_view key, const std::vector<node_contact>& nodes,
                 std::string& scratch) {
    if (nodes.empty()) {
        return;
    }
    scratch.clear();
    for (const auto& contact : nodes) {
        append_compact_node(scratch, contact);
    }
    w.key(key).string(scratch);
}

void write_query(bencode_writer& w, const krpc_query& q) {
    w.key("a").begin_dict();
    if (q.cas) {
        w.key("cas").integer(*q.cas);
    }
    w.key("id").string(q.id.chars());
    if (q.method == krpc_method::announce_peer && q.implied_port) {
        w.key("implied_port").integer(1);
    }
    if (q.info_hash) {
        w.key("info_hash").string(q.info_hash->chars());
    }
    if (q.key) {
        w.key("k").string(*q.key);
    }
    if (q.port) {
        w.key("port").integer(*q.port);
    }
    if (q.read_only) {
        w.key("ro").integer(1);
    }
    if (!q.salt.empty()) {
        w.key("salt").string(q.salt);
    }
    if (q.method == krpc_method::announce_peer && q.seed) {
        w.key("seed").integer(1);
    }
    if (q.seq) {
        w.key("seq").integer(*q.seq);
    }
    if (q.signature) {
        w.key("sig").string(*q.signature);
    }
    if (q.target) {
        w.key("target").string(q.target->chars());
    }
    if (q.method == krpc_method::announce_peer || q.method == krpc_method::put) {
        w.key("token").string(q.token);
    }
    if (q.value) {
        w.key("v").raw(*q.value);
    }
    if (q.want_v4 || q.want_v6) {
        w.key("want").begin_list();
        if (q.want_v4) {
            w.string("n4");
        }
        if (q.want_v6) {
            w.string("n6");
        }
        w.end();
    }
    w.end();
}

void write_response(bencode_writer& w, const krpc_response& r) {
    std::string scratch;
    w.key("r").begin_dict();
    w.key("id").string(r.id.chars());
    if (r.interval) {
        w.key("interval").integer(*r.interval);
    }
    if (r.key) {
        w.key("k").string(*r.key);
    }
    write_nodes(w, "nodes", r.nodes, scratch);
    write_nodes(w, "nodes6", r.nodes6, scratch);
    if (r.num) {
        w.key("num").integer(*r.num);
    }
    if (r.samples) {
        scratch.clear();
        for (const auto& hash : *r.samples) {
            scratch.append(hash.chars());
        }
        w.key("samples").string(scratch);
    }
    if (r.seq) {
        w.key("seq").integer(*r.seq);
    }
    if (r.signature) {
        w.key("sig").string(*r.signature);
    }
    if (r.token) {
        w.key("token").string(*r.token);
    }
    if (r.value) {
        w.key("v").raw(*r.value);
    }
    if (!r.values.empty()) {
        w.key("values").begin_list();
        for (const auto& peer : r.values) {
            scratch.clear();
            append_compact(scratch, peer);
            w.string(scratch);
        }
        w.end();
    }
    w.end();
}

}  // namespace

void encode_krpc(std::string& out, const krpc_message& message) {
    bencode_writer w(out);
    w.begin_dict();
    if (message.type == krpc_message::kind::query) {
        write_query(w, message.query);
    }
    if (message.type == krpc_message::kind::error) {
        w.key("e").begin_list().integer(message.error.code).string(message.error.message).end();
    }
    if (message.requester) {
        std::string compact;
        append_compact(compact, *message.requester);
        w.key("ip").string(compact);
    }
    if (message.type == krpc_message::kind::query) {
        w.key("q").string(message.query.method == krpc_method::unknown
                              ? std::string_view(message.query.method_name)
                              : to_string(message.query.method));
    }
    if (message.type == krpc_message::kind::response) {
        write_response(w, message.response);
    }
    w.key("t").string(message.transaction_id);
    if (!message.version.empty()) {
        w.key("v").string(message.version);
    }
    const char* y = message.type == krpc_message::kind::query      ? "q"
                    : message.type == krpc_message::kind::response ? "r"
                                                                   : "e";
    w.key("y").string(y);
    w.end();
}

std::string encode_krpc(const krpc_message& message) {
    std::string out;
    encode_krpc(out, message);
    return out;
}

}  // namespace hyphae::dht
