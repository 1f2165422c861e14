#include "hyphae/proto/tracker/tracker_reply.hpp"

#include "hyphae/core/bencode_writer.hpp"

namespace hyphae::tracker {

std::string format_announce_reply(const announce_reply& reply) {
    std::string out;
    out.reserve(96 + reply.peers.size() * (reply.compact ? compact_v6_size : 48));
    bencode_writer w(out);
    w.begin_dict();
    w.key("complete").integer(reply.complete);
    w.key("downloaded").integer(reply.downloaded);
    w.key("incomplete").integer(reply.incomplete);
    w.key("interval").integer(reply.interval.count());
    w.key("min interval").integer(reply.min_interval.count());
    if (reply.compact) {
        std::string v4;
        std::string v6;
        for (const endpoint& peer : reply.peers) {
            append_compact(peer.address.is_v4() ? v4 : v6, peer);
        }
        w.key("peers").string(v4);
        if (!v6.empty()) {
            w.key("peers6").string(v6);
        }
    } else {
        w.key("peers").begin_list();
        for (const endpoint& peer : reply.peers) {
            w.begin_dict().key("ip").string(peer.address.to_string()).key("port").integer(peer.port).end();
        }
        w.end();
    }
    w.end();
    return out;
}

std::string format_failure_reply(std::string_view reason) {
    std::string out;
    bencode_writer(out).begin_dict().key("failure reason").string(reason).end();
    return out;
}

std::string format_scrape_reply(std::span<const scrape_entry> files) {
    std::string out;
    out.reserve(16 + files.size() * 80);
    bencode_writer w(out);
    w.begin_dict().key("files").begin_dict();
    for (const scrape_entry& file : files) {
        w.key(file.info_hash.chars()).begin_dict();
        w.key("complete").integer(file.complete);
        w.key("downloaded").integer(file.downloaded);
        w.key("incomplete").integer(file.incomplete);
        w.end();
    }
    w.end().end();
    return out;
}

}  // namespace hyphae::tracker
