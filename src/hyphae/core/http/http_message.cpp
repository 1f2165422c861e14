#include "hyphae/core/http/http_message.hpp"

#include "hyphae/core/http/http_syntax.hpp"

namespace hyphae::http {
namespace {

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::string_view to_string(http_version version) {
    return version == http_version::http_1_0 ? "HTTP/1.0" : "HTTP/1.1";
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

void http_headers::add(std::string name, std::string value) {
    fields_.push_back(http_header{std::move(name), std::move(value)});
}

std::optional<std::string_view> http_headers::find(std::string_view name) const {
    for (const http_header& field : fields_) {
        if (equals_ignoring_case(field.name, name)) {
            return std::string_view(field.value);
        }
    }
    return std::nullopt;
}

std::vector<std::string_view> http_headers::find_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const http_header& field : fields_) {
        if (equals_ignoring_case(field.name, name)) {
            out.emplace_back(field.value);
        }
    }
    return out;
}

bool http_headers::has_token(std::string_view name, std::string_view token) const {
    for (std::string_view value : find_all(name)) {
        while (true) {
            const std::size_t comma = value.find(',');
            if (equals_ignoring_case(http_syntax::trim(value.substr(0, comma)), token)) {
                return true;
            }
            if (comma == std::string_view::npos) {
                break;
            }
            value.remove_prefix(comma + 1);
        }
    }
    return false;
}

}  // namespace hyphae::http
