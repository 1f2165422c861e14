#pragma once
// Bencode output. bencode_writer streams into a string (hot paths: KRPC, peer-wire extension
// messages); bvalue is an owning tree for building documents whose shape varies (metainfo).
// Keys of a bvalue dictionary are kept sorted by std::map; a writer's caller must write them
// sorted, which debug builds check.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/bytes.hpp"

namespace hyphae {

class bencode_writer {
public:
    explicit bencode_writer(std::string& out) : out_(out) {}

    bencode_writer& integer(std::int64_t value);
    bencode_writer& string(std::string_view value);
    bencode_writer& string(byte_view value) { return string(as_chars(value)); }
    // Already-encoded bytes, e.g. an info dictionary kept verbatim.
    bencode_writer& raw(std::string_view encoded);
    bencode_writer& begin_list();
    bencode_writer& begin_dict();
    bencode_writer& end();
    // A dictionary key; the value follows with the next call.
    bencode_writer& key(std::string_view key);

private:
    std::string& out_;
#ifndef NDEBUG
    std::vector<std::string> last_keys_;  // per open container; checks key order in debug builds
    std::vector<bool> is_dict_;
#endif
};

class bvalue;
using blist = std::vector<bvalue>;
using bdict = std::map<std::string, bvalue, std::less<>>;

class bvalue {
public:
    bvalue() : v_(std::int64_t{0}) {}
    bvalue(std::int64_t v) : v_(v) {}                   // NOLINT(google-explicit-constructor)
    bvalue(int v) : v_(std::int64_t{v}) {}              // NOLINT(google-explicit-constructor)
    bvalue(std::string v) : v_(std::move(v)) {}         // NOLINT(google-explicit-constructor)
    bvalue(std::string_view v) : v_(std::string(v)) {}  // NOLINT(google-explicit-constructor)
    bvalue(const char* v) : v_(std::string(v)) {}       // NOLINT(google-explicit-constructor)
    bvalue(blist v) : v_(std::move(v)) {}               // NOLINT(google-explicit-constructor)
    bvalue(bdict v) : v_(std::move(v)) {}               // NOLINT(google-explicit-constructor)

    btype type() const { return static_cast<btype>(v_.index()); }
    std::int64_t& as_int() { return std::get<std::int64_t>(v_); }
    std::string& as_string() { return std::get<std::string>(v_); }
    blist& as_list() { return std::get<blist>(v_); }
    bdict& as_dict() { return std::get<bdict>(v_); }
    const std::int64_t& as_int() const { return std::get<std::int64_t>(v_); }
    const std::string& as_string() const { return std::get<std::string>(v_); }
    const blist& as_list() const { return std::get<blist>(v_); }
    const bdict& as_dict() const { return std::get<bdict>(v_); }

    friend bool operator==(const bvalue&, const bvalue&) = default;

private:
    // Order matches btype.
    std::variant<std::int64_t, std::string, blist, bdict> v_;
};

void bencode(bencode_writer& writer, const bvalue& value);
std::string bencode(const bvalue& value);
// Deep copy of a decoded node into an owning tree.
bvalue to_bvalue(bnode node);

}  // namespace hyphae
