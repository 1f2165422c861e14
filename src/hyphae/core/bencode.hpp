#pragma once
// Zero-copy bencode decoder (BEP 3). bdecode() validates the whole input in one pass and builds a
// flat token array over it; bnode is a cheap handle into that array and never copies a string.
// The input bytes must outlive the document and every node taken from it.
//
// Strict where BEP 3 is: no leading zeros, no "-0", dictionary keys are strings in raw byte order
// with no duplicates, every length lies within the input, nothing follows the root value (unless
// bdecode_prefix is used). Bounds on depth, value count and string size are explicit, and every
// rejection is a bdecode_error naming the problem and its byte offset.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "hyphae/core/bytes.hpp"

namespace hyphae {

enum class btype : std::uint8_t { integer, string, list, dict };

std::string_view to_string(btype type);

enum class bdecode_errc : std::uint8_t {
    unexpected_end,        // input ended inside a value
    expected_value,        // a byte that cannot start a value
    expected_digit,        // "i-e", "ie", "-" without digits
    leading_zero,          // "i03e", "03:abc"
    negative_zero,         // "i-0e"
    integer_overflow,      // outside int64
    expected_end,          // integer not closed by 'e'
    expected_colon,        // string length not followed by ':'
    string_too_long,       // over limits.string_length_max
    string_exceeds_input,  // declared length runs past the input
    depth_exceeded,        // nesting over limits.depth_max
    too_many_values,       // over limits.values_max
    key_not_string,        // a dictionary key that is not a string
    key_without_value,     // dictionary closed after a key
    keys_unsorted,         // key smaller than the one before it
    duplicate_key,         // key equal to the one before it
    trailing_data,         // bytes after the root value
    input_too_large,       // input over 4 GiB - 1 (offsets are 32-bit)
};

std::string_view to_string(bdecode_errc code);

struct bdecode_error {
    bdecode_errc code;
    std::size_t offset;           // byte offset in the input where the problem was found
    std::string message() const;  // e.g. "leading zero in integer at offset 17"
};

struct bdecode_limits {
    std::size_t depth_max = 64;
    std::size_t values_max = 4'000'000;
    std::size_t string_length_max = 64u << 20;
    // Some DHT clients send unsorted keys; callers that must accept them switch this off.
    // Duplicate keys are rejected either way.
    bool sorted_keys_required = true;
};

namespace detail {
struct btoken {
    std::uint32_t start;    // first byte of the value's encoding
    std::uint32_t end;      // one past its last byte
    std::uint32_t next;     // index of the token after this value's subtree
    std::uint32_t payload;  // strings: offset of the first data byte; containers: element count
    btype type;
};
}  // namespace detail

class bnode;

// One decoded document. Movable; nodes stay valid across moves (they point at the token storage).
class bdocument {
public:
    bnode root() const;
    std::size_t value_count() const { return tokens_.size(); }

private:
    friend tl::expected<bdocument, bdecode_error> bdecode_prefix(byte_view, const bdecode_limits&);
    byte_view input_;
    std::vector<detail::btoken> tokens_;
};

// Decodes exactly one value that spans the whole input.
tl::expected<bdocument, bdecode_error> bdecode(byte_view input, const bdecode_limits& limits = {});
// Decodes the value at the start of the input and ignores what follows; root().raw().size() tells
// how many bytes it took (BEP 9 appends raw piece data after a bencoded header).
tl::expected<bdocument, bdecode_error> bdecode_prefix(byte_view input, const bdecode_limits& limits = {});

class bnode {
public:
    bnode() = default;  // a null node: valid() is false

    bool valid() const { return tokens_ != nullptr; }
    btype type() const { return token().type; }
    bool is_int() const { return valid() && type() == btype::integer; }
    bool is_string() const { return valid() && type() == btype::string; }
    bool is_list() const { return valid() && type() == btype::list; }
    bool is_dict() const { return valid() && type() == btype::dict; }

    // The exact bytes of this value's encoding, e.g. the info dictionary an info-hash is taken over.
    byte_view raw() const;
    std::size_t offset() const { return token().start; }

    // Typed access; empty when the node is of another type.
    std::optional<std::int64_t> as_int() const;
    std::optional<std::string_view> as_string() const;

    // Lists and dictionaries: number of elements (pairs for a dictionary).
    std::size_t size() const;

    class list_iterator;
    class dict_iterator;
    struct list_range;
    struct dict_range;
    struct dict_entry;
    list_range list_items() const;  // empty range unless is_list()
    dict_range dict_items() const;  // empty range unless is_dict()

    // Dictionary lookups; a null node / empty optional when absent, of another type, or not a dict.
    bnode find(std::string_view key) const;
    std::optional<std::int64_t> find_int(std::string_view key) const;
    std::optional<std::string_view> find_string(std::string_view key) const;
    bnode find_list(std::string_view key) const;
    bnode find_dict(std::string_view key) const;

private:
    friend class bdocument;
    bnode(const detail::btoken* tokens, const std::uint8_t* input, std::uint32_t index)
        : tokens_(tokens), input_(input), index_(index) {}
    const detail::btoken& token() const { return tokens_[index_]; }
    bnode at(std::uint32_t index) const { return {tokens_, input_, index}; }

    const detail::btoken* tokens_ = nullptr;
    const std::uint8_t* input_ = nullptr;
    std::uint32_t index_ = 0;
};

struct bnode::dict_entry {
    std::string_view key;
    bnode value;
};

class bnode::list_iterator {
public:
    bnode operator*() const { return node_; }
    list_iterator& operator++();
    bool operator==(const list_iterator& other) const { return node_.index_ == other.node_.index_; }

private:
    friend class bnode;
    explicit list_iterator(bnode node) : node_(node) {}
    bnode node_;
};

class bnode::dict_iterator {
public:
    dict_entry operator*() const;
    dict_iterator& operator++();
    bool operator==(const dict_iterator& other) const { return key_.index_ == other.key_.index_; }

private:
    friend class bnode;
    explicit dict_iterator(bnode key) : key_(key) {}
    bnode key_;
};

struct bnode::list_range {
    list_iterator first, last;
    list_iterator begin() const { return first; }
    list_iterator end() const { return last; }
};

struct bnode::dict_range {
    dict_iterator first, last;
    dict_iterator begin() const { return first; }
    dict_iterator end() const { return last; }
};

}  // namespace hyphae
