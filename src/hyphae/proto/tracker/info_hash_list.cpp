#include "hyphae/proto/tracker/info_hash_list.hpp"

#include <algorithm>
#include <string>

namespace hyphae::tracker {

result<std::vector<sha1_hash>> parse_info_hash_list(std::string_view text) {
    std::vector<sha1_hash> out;
    out.reserve(text.size() / 41 + 1);  // 40 digits and a newline a line: no regrowth, little slack
    std::size_t line_number = 0;
    while (!text.empty()) {
        ++line_number;
        const std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        const std::size_t first = line.find_first_not_of(" \t\r");
        if (first == std::string_view::npos || line[first] == '#') {
            continue;
        }
        line = line.substr(first, line.find_last_not_of(" \t\r") + 1 - first);
        auto hash = sha1_hash::from_hex(line);
        if (!hash) {
            return fail(errc::invalid_input, "allow-list line " + std::to_string(line_number),
                        "'" + std::string(line.substr(0, 48)) + "' is not a 40-digit hex info-hash");
        }
        out.push_back(*hash);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    out.shrink_to_fit();
    return out;
}

}  // namespace hyphae::tracker
