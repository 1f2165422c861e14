#include "lt_dht_node.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "hyphae/core/encoding.hpp"

namespace hyphae::test {
namespace {

using namespace std::chrono_literals;

const std::string python = "/usr/bin/python3";

// The driver keeps the command's deadline itself and answers then; the test waits this much more.
constexpr auto answer_slack = 5s;

std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> words;
    std::istringstream in(line);
    std::string word;
    while (in >> word) {
        words.push_back(word);
    }
    return words;
}

std::string hex(const std::string& bytes) {
    return to_hex(byte_view(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

std::string unhex(const std::string& text) {
    const auto raw = from_hex(text);
    return raw ? std::string(raw->begin(), raw->end()) : std::string();
}

// lt_dht.py writes an empty salt as "-".
std::string salt_word(const std::string& salt) {
    return salt.empty() ? "-" : hex(salt);
}

bool is_field(const std::string& word) {
    return word.find('=') != std::string::npos;
}

std::string field(const std::vector<std::string>& words, const std::string& name) {
    for (const std::string& w : words) {
        if (w.rfind(name + "=", 0) == 0) {
            return w.substr(name.size() + 1);
        }
    }
    return {};
}

long long number(const std::string& text, long long fallback = -1) {
    try {
        return text.empty() ? fallback : std::stoll(text);
    } catch (const std::exception&) {
        return fallback;
    }
}

lt_dht_stats stats_of(const std::vector<std::string>& words) {
    lt_dht_stats s;
    s.elapsed = std::chrono::milliseconds(number(field(words, "ms")));
    s.first_result = std::chrono::milliseconds(number(field(words, "first_ms")));
    s.queries_sent = static_cast<int>(number(field(words, "sent"), 0));
    s.replies = static_cast<int>(number(field(words, "replies"), 0));
    return s;
}

// The answer's words that are not key=value fields, the answer's kind first.
std::vector<std::string> positional(const std::vector<std::string>& words) {
    std::vector<std::string> out;
    std::copy_if(words.begin(), words.end(), std::back_inserter(out),
                 [](const auto& w) { return !is_field(w); });
    return out;
}

std::string millis(std::chrono::milliseconds deadline) {
    return "deadline=" + std::to_string(std::max<long long>(deadline.count(), 1));
}

}  // namespace

bool lt_dht_node::available() {
    return unavailable_reason().empty();
}

std::string lt_dht_node::unavailable_reason() {
    static const std::string reason = [] {
        if (!have_program(python)) {
            return python + " is missing";
        }
        const run_result r = run({python, "-c", "import libtorrent"}, 30s);
        if (r.exit_code != 0) {
            return python + " cannot import libtorrent (run scripts/setup.sh test): " + r.err;
        }
        return std::string();
    }();
    return reason;
}

lt_dht_node::lt_dht_node(const options& opts) {
    std::vector<std::string> argv = {python, opts.script.empty() ? HYPHAE_LT_DHT_SCRIPT : opts.script,
                                     "--port", std::to_string(opts.port)};
    for (const std::string& node : opts.bootstrap) {
        argv.insert(argv.end(), {"--bootstrap", node});
    }
    if (opts.explicit_port) {
        argv.push_back("--explicit-port");
    }
    process_ = std::make_unique<background_process>(argv, std::string(), child_stdin::pipe);
    const auto line = process_->wait_for_line(
        [](const std::string& l) { return l.rfind("listening ", 0) == 0 || l.rfind("error ", 0) == 0; }, 20s);
    if (!line || line->rfind("listening ", 0) != 0) {
        throw std::runtime_error("libtorrent DHT node did not start:\n" + process_->output());
    }
    port_ = static_cast<std::uint16_t>(number(split(*line).at(1), 0));
    for (const std::string& l : process_->lines()) {
        if (l.rfind("node_id ", 0) == 0) {
            node_id_hex_ = l.substr(8);
        }
    }
}

lt_dht_node::~lt_dht_node() {
    // End of stdin stops it cleanly; background_process stops it by PID if it does not go.
    process_->close_stdin();
    process_->wait(5s);
}

std::vector<std::string> lt_dht_node::call(const std::string& command, std::chrono::milliseconds deadline) {
    const std::string tag = std::to_string(next_tag_++);
    last_answer_.clear();
    if (!process_->write_line(tag + " " + command + " " + millis(deadline))) {
        last_answer_ = "error: the driver is gone";
        return {};
    }
    const std::string prefix = tag + " ";
    const auto line = process_->wait_for_line([&](const std::string& l) { return l.rfind(prefix, 0) == 0; },
                                              deadline + answer_slack);
    if (!line) {
        last_answer_ = "error: no answer to \"" + command + "\"";
        return {};
    }
    last_answer_ = line->substr(prefix.size());
    return split(last_answer_);
}

bool lt_dht_node::add_node(const std::string& endpoint) {
    const auto words = call("add_node " + endpoint, 5s);
    return !words.empty() && words[0] == "added";
}

std::optional<int> lt_dht_node::node_count(std::chrono::milliseconds deadline) {
    const auto words = call("nodes", deadline);
    if (words.size() < 3 || words[0] != "nodes") {
        return std::nullopt;
    }
    return static_cast<int>(number(words[1], 0));
}

std::optional<lt_dht_announced> lt_dht_node::announce(const std::string& info_hash_hex,
                                                      std::chrono::milliseconds deadline) {
    // announced IH PORT NODES STATS
    const auto words = call("announce " + info_hash_hex, deadline);
    const auto pos = positional(words);
    if (pos.size() < 4 || pos[0] != "announced") {
        return std::nullopt;
    }
    return lt_dht_announced{static_cast<std::uint16_t>(number(pos[2], 0)),
                            static_cast<int>(number(pos[3], 0)), stats_of(words)};
}

std::optional<lt_dht_peers> lt_dht_node::get_peers(const std::string& info_hash_hex,
                                                   std::chrono::milliseconds deadline) {
    // peers IH STATS complete=0|1 HOST:PORT...
    const auto words = call("get_peers " + info_hash_hex, deadline);
    const auto pos = positional(words);
    if (pos.size() < 2 || pos[0] != "peers") {
        return std::nullopt;
    }
    lt_dht_peers result;
    result.peers.assign(pos.begin() + 2, pos.end());
    result.complete = field(words, "complete") == "1";
    result.stats = stats_of(words);
    return result;
}

std::optional<std::string> lt_dht_node::wait_incoming_announce(const std::string& info_hash_hex,
                                                               std::chrono::milliseconds deadline) {
    const std::string prefix = "incoming_announce " + info_hash_hex + " ";
    const auto line =
        process_->wait_for_line([&](const std::string& l) { return l.rfind(prefix, 0) == 0; }, deadline);
    if (!line) {
        return std::nullopt;
    }
    return line->substr(prefix.size());
}

std::optional<lt_dht_stored> lt_dht_node::put_immutable(const std::string& bencoded_value,
                                                        std::chrono::milliseconds deadline) {
    // put_immutable TARGET SUCCESS_COUNT STATS
    const auto words = call("put_immutable " + hex(bencoded_value), deadline);
    const auto pos = positional(words);
    if (pos.size() < 3 || pos[0] != "put_immutable") {
        return std::nullopt;
    }
    return lt_dht_stored{pos[1], 0, static_cast<int>(number(pos[2], 0)), stats_of(words)};
}

std::optional<lt_dht_item> lt_dht_node::get_immutable(const std::string& target_hex,
                                                      std::chrono::milliseconds deadline) {
    // item TARGET VALUE STATS
    const auto words = call("get_immutable " + target_hex, deadline);
    const auto pos = positional(words);
    if (pos.size() < 3 || pos[0] != "item") {
        return std::nullopt;
    }
    return lt_dht_item{unhex(pos[2]), 0, true, stats_of(words)};
}

std::optional<lt_dht_stored> lt_dht_node::put_mutable(const std::string& seed_hex, const std::string& salt,
                                                      const std::string& bencoded_value,
                                                      std::chrono::milliseconds deadline) {
    // put_mutable PUBKEY SALT SEQ SUCCESS_COUNT STATS
    const auto words =
        call("put_mutable " + seed_hex + " " + salt_word(salt) + " " + hex(bencoded_value), deadline);
    const auto pos = positional(words);
    if (pos.size() < 5 || pos[0] != "put_mutable") {
        return std::nullopt;
    }
    return lt_dht_stored{pos[1], number(pos[3], 0), static_cast<int>(number(pos[4], 0)), stats_of(words)};
}

std::optional<lt_dht_item> lt_dht_node::get_mutable(const std::string& public_key_hex,
                                                    const std::string& salt,
                                                    std::chrono::milliseconds deadline) {
    // mutable PUBKEY SALT SEQ VALUE authoritative=0|1 STATS
    const auto words = call("get_mutable " + public_key_hex + " " + salt_word(salt), deadline);
    const auto pos = positional(words);
    if (pos.size() < 5 || pos[0] != "mutable") {
        return std::nullopt;
    }
    return lt_dht_item{unhex(pos[4]), number(pos[3], 0), field(words, "authoritative") == "1",
                       stats_of(words)};
}

std::vector<std::unique_ptr<lt_dht_node>> start_lt_dht_mesh(std::size_t count,
                                                            std::chrono::milliseconds deadline) {
    std::vector<std::unique_ptr<lt_dht_node>> nodes;
    for (std::size_t i = 0; i < count; ++i) {
        lt_dht_node::options opts;
        for (const auto& earlier : nodes) {
            opts.bootstrap.push_back(earlier->endpoint());
        }
        nodes.push_back(std::make_unique<lt_dht_node>(opts));
    }
    // A node that was only queried holds the querier as a replacement, not a live entry, until it
    // queries it itself: have every node ping every other one.
    for (const auto& node : nodes) {
        for (const auto& other : nodes) {
            if (other != node) {
                node->add_node(other->endpoint());
            }
        }
    }
    const auto end = std::chrono::steady_clock::now() + deadline;
    const int wanted = static_cast<int>(count) - 1;
    for (const auto& node : nodes) {
        while (node->node_count().value_or(0) < wanted) {
            if (std::chrono::steady_clock::now() >= end) {
                throw std::runtime_error("libtorrent DHT nodes did not learn of each other:\n" +
                                         node->output());
            }
            std::this_thread::sleep_for(20ms);
        }
    }
    return nodes;
}

}  // namespace hyphae::test
