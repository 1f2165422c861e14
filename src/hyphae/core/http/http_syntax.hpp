#pragma once
// Character classes of RFC 9110 5.6 / 9112, shared by the HTTP parsers and formatters.

#include <algorithm>
#include <string_view>

namespace hyphae::http_syntax {

// tchar: the characters of methods and field names.
inline bool is_token_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

inline bool is_token(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char);
}

// Field values, reason phrases and start lines: tab, space, visible ASCII and obs-text (0x80+);
// no other control characters (CR, LF and NUL among them).
inline bool is_field_text(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) {
        const auto b = static_cast<unsigned char>(c);
        return b == '\t' || (b >= 0x20 && b != 0x7f);
    });
}

// Optional whitespace (space and tab) removed from both ends.
inline std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

}  // namespace hyphae::http_syntax
