#include "hyphae/core/bencode.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace hyphae {
namespace {

using detail::btoken;

bool is_digit(std::uint8_t c) {
    return c >= '0' && c <= '9';
}

struct frame {
    std::uint32_t token;
    std::uint32_t last_key = std::numeric_limits<std::uint32_t>::max();
    bool expect_key = true;  // dictionaries alternate key, value
};

class parser {
public:
    parser(byte_view input, const bdecode_limits& limits, std::vector<btoken>& tokens)
        : in_(input), n_(input.size()), limits_(limits), tokens_(tokens) {}

    // Returns the offset just past the root value.
    tl::expected<std::size_t, bdecode_error> run() {
        if (n_ >= std::numeric_limits<std::uint32_t>::max()) {
            return fail(bdecode_errc::input_too_large, 0);
        }
        while (true) {
            if (!stack_.empty()) {
                frame& top = stack_.back();
                if (pos_ >= n_) {
                    return fail(bdecode_errc::unexpected_end, pos_);
                }
                if (in_[pos_] == 'e') {
                    btoken& t = tokens_[top.token];
                    if (t.type == btype::dict && !top.expect_key) {
                        return fail(bdecode_errc::key_without_value, pos_);
                    }
                    ++pos_;
                    t.end = static_cast<std::uint32_t>(pos_);
                    t.next = static_cast<std::uint32_t>(tokens_.size());
                    stack_.pop_back();
                    if (auto done = value_done(top.token); !done) {
                        return tl::unexpected(done.error());
                    }
                    if (stack_.empty()) {
                        return pos_;
                    }
                    continue;
                }
                if (tokens_[top.token].type == btype::dict && top.expect_key && !is_digit(in_[pos_])) {
                    return fail(bdecode_errc::key_not_string, pos_);
                }
            }
            if (auto v = value(); !v) {
                return tl::unexpected(v.error());
            }
            if (stack_.empty()) {
                return pos_;
            }
        }
    }

private:
    tl::unexpected<bdecode_error> fail(bdecode_errc code, std::size_t offset) const {
        return tl::unexpected(bdecode_error{code, offset});
    }

    tl::expected<void, bdecode_error> value() {
        if (pos_ >= n_) {
            return fail(bdecode_errc::unexpected_end, pos_);
        }
        if (tokens_.size() >= limits_.values_max) {
            return fail(bdecode_errc::too_many_values, pos_);
        }
        const std::uint8_t c = in_[pos_];
        if (c == 'i') {
            return integer();
        }
        if (is_digit(c)) {
            return string();
        }
        if (c == 'l' || c == 'd') {
            if (stack_.size() >= limits_.depth_max) {
                return fail(bdecode_errc::depth_exceeded, pos_);
            }
            const auto index = static_cast<std::uint32_t>(tokens_.size());
            tokens_.push_back(
                {static_cast<std::uint32_t>(pos_), 0, 0, 0, c == 'l' ? btype::list : btype::dict});
            stack_.push_back(frame{index});
            ++pos_;
            return {};
        }
        return fail(bdecode_errc::expected_value, pos_);
    }

    tl::expected<void, bdecode_error> integer() {
        const std::size_t start = pos_;
        std::size_t p = pos_ + 1;
        bool negative = false;
        if (p < n_ && in_[p] == '-') {
            negative = true;
            ++p;
        }
        if (p >= n_) {
            return fail(bdecode_errc::unexpected_end, p);
        }
        if (!is_digit(in_[p])) {
            return fail(bdecode_errc::expected_digit, p);
        }
        if (in_[p] == '0') {
            if (negative) {
                return fail(bdecode_errc::negative_zero, start);
            }
            if (p + 1 < n_ && is_digit(in_[p + 1])) {
                return fail(bdecode_errc::leading_zero, p);
            }
        }
        const std::uint64_t limit =
            negative ? std::uint64_t{1} << 63
                     : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        std::uint64_t v = 0;
        while (p < n_ && is_digit(in_[p])) {
            const std::uint64_t d = in_[p] - '0';
            if (v > (limit - d) / 10) {
                return fail(bdecode_errc::integer_overflow, start);
            }
            v = v * 10 + d;
            ++p;
        }
        if (p >= n_) {
            return fail(bdecode_errc::unexpected_end, p);
        }
        if (in_[p] != 'e') {
            return fail(bdecode_errc::expected_end, p);
        }
        pos_ = p + 1;
        const auto index = static_cast<std::uint32_t>(tokens_.size());
        tokens_.push_back({static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(pos_), index + 1,
                           static_cast<std::uint32_t>(start + 1), btype::integer});
        return value_done(index);
    }

    tl::expected<void, bdecode_error> string() {
        const std::size_t start = pos_;
        std::size_t p = pos_;
        if (in_[p] == '0' && p + 1 < n_ && is_digit(in_[p + 1])) {
            return fail(bdecode_errc::leading_zero, p);
        }
        std::uint64_t length = 0;
        while (p < n_ && is_digit(in_[p])) {
            length = length * 10 + (in_[p] - '0');
            if (length > limits_.string_length_max) {
                return fail(bdecode_errc::string_too_long, start);
            }
            ++p;
        }
        if (p >= n_) {
            return fail(bdecode_errc::unexpected_end, p);
        }
        if (in_[p] != ':') {
            return fail(bdecode_errc::expected_colon, p);
        }
        ++p;
        if (length > n_ - p) {
            return fail(bdecode_errc::string_exceeds_input, start);
        }
        pos_ = p + length;
        const auto index = static_cast<std::uint32_t>(tokens_.size());
        tokens_.push_back({static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(pos_), index + 1,
                           static_cast<std::uint32_t>(p), btype::string});
        return value_done(index);
    }

    std::string_view string_at(std::uint32_t index) const {
        const btoken& t = tokens_[index];
        return {reinterpret_cast<const char*>(in_.data()) + t.payload, t.end - t.payload};
    }

    // A value (scalar, or a container just closed) is complete: account for it in its parent.
    tl::expected<void, bdecode_error> value_done(std::uint32_t index) {
        if (stack_.empty()) {
            return {};
        }
        frame& parent = stack_.back();
        btoken& p = tokens_[parent.token];
        if (p.type == btype::list) {
            ++p.payload;
            return {};
        }
        if (!parent.expect_key) {
            ++p.payload;
            parent.expect_key = true;
            return {};
        }
        if (parent.last_key != std::numeric_limits<std::uint32_t>::max()) {
            const int order = string_at(parent.last_key).compare(string_at(index));
            if (order == 0) {
                return fail(bdecode_errc::duplicate_key, tokens_[index].start);
            }
            if (order > 0 && limits_.sorted_keys_required) {
                return fail(bdecode_errc::keys_unsorted, tokens_[index].start);
            }
        }
        parent.last_key = index;
        parent.expect_key = false;
        return {};
    }

    byte_view in_;
    std::size_t n_;
    std::size_t pos_ = 0;
    const bdecode_limits& limits_;
    std::vector<btoken>& tokens_;
    std::vector<frame> stack_;
};

}  // namespace

std::string_view to_string(btype type) {
    switch (type) {
        case btype::integer:
            return "integer";
        case btype::string:
            return "string";
        case btype::list:
            return "list";
        case btype::dict:
            return "dictionary";
    }
    return "?";
}

std::string_view to_string(bdecode_errc code) {
    switch (code) {
        case bdecode_errc::unexpected_end:
            return "input ends inside a value";
        case bdecode_errc::expected_value:
            return "expected a value (i, l, d or a digit)";
        case bdecode_errc::expected_digit:
            return "expected a digit in integer";
        case bdecode_errc::leading_zero:
            return "leading zero in number";
        case bdecode_errc::negative_zero:
            return "negative zero in integer";
        case bdecode_errc::integer_overflow:
            return "integer outside the 64-bit range";
        case bdecode_errc::expected_end:
            return "integer not terminated by 'e'";
        case bdecode_errc::expected_colon:
            return "expected ':' after string length";
        case bdecode_errc::string_too_long:
            return "string longer than the limit";
        case bdecode_errc::string_exceeds_input:
            return "string length runs past the end of the input";
        case bdecode_errc::depth_exceeded:
            return "nesting deeper than the limit";
        case bdecode_errc::too_many_values:
            return "more values than the limit";
        case bdecode_errc::key_not_string:
            return "dictionary key is not a string";
        case bdecode_errc::key_without_value:
            return "dictionary key without a value";
        case bdecode_errc::keys_unsorted:
            return "dictionary keys not in sorted order";
        case bdecode_errc::duplicate_key:
            return "duplicate dictionary key";
        case bdecode_errc::trailing_data:
            return "data after the end of the value";
        case bdecode_errc::input_too_large:
            return "input larger than 4 GiB";
    }
    return "unknown error";
}

std::string bdecode_error::message() const {
    return std::string(to_string(code)) + " at offset " + std::to_string(offset);
}

tl::expected<bdocument, bdecode_error> bdecode_prefix(byte_view input, const bdecode_limits& limits) {
    bdocument doc;
    doc.input_ = input;
    auto end = parser(input, limits, doc.tokens_).run();
    if (!end) {
        return tl::unexpected(end.error());
    }
    doc.input_ = input.first(*end);
    return doc;
}

tl::expected<bdocument, bdecode_error> bdecode(byte_view input, const bdecode_limits& limits) {
    auto doc = bdecode_prefix(input, limits);
    if (doc && doc->root().raw().size() != input.size()) {
        return tl::unexpected(bdecode_error{bdecode_errc::trailing_data, doc->root().raw().size()});
    }
    return doc;
}

bnode bdocument::root() const {
    return tokens_.empty() ? bnode{} : bnode(tokens_.data(), input_.data(), 0);
}

byte_view bnode::raw() const {
    if (!valid()) {
        return {};
    }
    return {input_ + token().start, token().end - token().start};
}

std::optional<std::int64_t> bnode::as_int() const {
    if (!is_int()) {
        return std::nullopt;
    }
    // Validated by the parser: digits, an optional '-', within int64.
    const std::uint8_t* p = input_ + token().payload;
    const bool negative = *p == '-';
    if (negative) {
        ++p;
    }
    std::uint64_t v = 0;
    while (*p != 'e') {
        v = v * 10 + static_cast<std::uint64_t>(*p - '0');
        ++p;
    }
    return negative ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v);
}

std::optional<std::string_view> bnode::as_string() const {
    if (!is_string()) {
        return std::nullopt;
    }
    return std::string_view(reinterpret_cast<const char*>(input_) + token().payload,
                            token().end - token().payload);
}

std::size_t bnode::size() const {
    return (is_list() || is_dict()) ? token().payload : 0;
}

bnode::list_range bnode::list_items() const {
    if (!is_list()) {
        return {list_iterator(bnode{}), list_iterator(bnode{})};
    }
    return {list_iterator(at(index_ + 1)), list_iterator(at(token().next))};
}

bnode::dict_range bnode::dict_items() const {
    if (!is_dict()) {
        return {dict_iterator(bnode{}), dict_iterator(bnode{})};
    }
    return {dict_iterator(at(index_ + 1)), dict_iterator(at(token().next))};
}

bnode::list_iterator& bnode::list_iterator::operator++() {
    node_ = node_.at(node_.token().next);
    return *this;
}

bnode::dict_entry bnode::dict_iterator::operator*() const {
    return {*key_.as_string(), key_.at(key_.token().next)};
}

bnode::dict_iterator& bnode::dict_iterator::operator++() {
    const bnode value = key_.at(key_.token().next);
    key_ = key_.at(value.token().next);
    return *this;
}

bnode bnode::find(std::string_view key) const {
    for (auto [k, v] : dict_items()) {
        if (k == key) {
            return v;
        }
    }
    return {};
}

std::optional<std::int64_t> bnode::find_int(std::string_view key) const {
    return find(key).as_int();
}

std::optional<std::string_view> bnode::find_string(std::string_view key) const {
    return find(key).as_string();
}

bnode bnode::find_list(std::string_view key) const {
    bnode n = find(key);
    return n.is_list() ? n : bnode{};
}

bnode bnode::find_dict(std::string_view key) const {
    bnode n = find(key);
    return n.is_dict() ? n : bnode{};
}

}  // namespace hyphae
