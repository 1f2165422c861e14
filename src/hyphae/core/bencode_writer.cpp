#include "hyphae/core/bencode_writer.hpp"

#include <cassert>

namespace hyphae {

bencode_writer& bencode_writer::integer(std::int64_t value) {
    out_.push_back('i');
    out_ += std::to_string(value);
    out_.push_back('e');
    return *this;
}

bencode_writer& bencode_writer::string(std::string_view value) {
    out_ += std::to_string(value.size());
    out_.push_back(':');
    out_.append(value);
    return *this;
}

bencode_writer& bencode_writer::raw(std::string_view encoded) {
    out_.append(encoded);
    return *this;
}

bencode_writer& bencode_writer::begin_list() {
    out_.push_back('l');
#ifndef NDEBUG
    is_dict_.push_back(false);
    last_keys_.emplace_back();
#endif
    return *this;
}

bencode_writer& bencode_writer::begin_dict() {
    out_.push_back('d');
#ifndef NDEBUG
    is_dict_.push_back(true);
    last_keys_.emplace_back();
#endif
    return *this;
}

bencode_writer& bencode_writer::end() {
    out_.push_back('e');
#ifndef NDEBUG
    assert(!is_dict_.empty() && "end() without an open list or dictionary");
    is_dict_.pop_back();
    last_keys_.pop_back();
#endif
    return *this;
}

bencode_writer& bencode_writer::key(std::string_view key) {
#ifndef NDEBUG
    assert(!is_dict_.empty() && is_dict_.back() && "key() outside a dictionary");
    assert((last_keys_.back().empty() || last_keys_.back() < key) &&
           "dictionary keys must be written sorted");
    last_keys_.back() = std::string(key);
#endif
    return string(key);
}

void bencode(bencode_writer& writer, const bvalue& value) {
    switch (value.type()) {
        case btype::integer:
            writer.integer(value.as_int());
            break;
        case btype::string:
            writer.string(value.as_string());
            break;
        case btype::list:
            writer.begin_list();
            for (const bvalue& item : value.as_list()) {
                bencode(writer, item);
            }
            writer.end();
            break;
        case btype::dict:
            writer.begin_dict();
            for (const auto& [k, v] : value.as_dict()) {
                writer.key(k);
                bencode(writer, v);
            }
            writer.end();
            break;
    }
}

std::string bencode(const bvalue& value) {
    std::string out;
    bencode_writer writer(out);
    bencode(writer, value);
    return out;
}

bvalue to_bvalue(bnode node) {
    switch (node.type()) {
        case btype::integer:
            return *node.as_int();
        case btype::string:
            return *node.as_string();
        case btype::list: {
            blist items;
            items.reserve(node.size());
            for (bnode item : node.list_items()) {
                items.push_back(to_bvalue(item));
            }
            return items;
        }
        case btype::dict: {
            bdict entries;
            for (auto [k, v] : node.dict_items()) {
                entries.emplace(std::string(k), to_bvalue(v));
            }
            return entries;
        }
    }
    return {};
}

}  // namespace hyphae
