#include "hyphae/proto/tracker/tracker_response.hpp"

#include <string>

namespace hyphae::tracker {

result<bdocument> decode_tracker_dictionary(byte_view body, const bdecode_limits& limits,
                                            std::string_view where) {
    auto doc = bdecode(body, limits);
    if (!doc) {
        const errc code = doc.error().code == bdecode_errc::string_too_long ||
                                  doc.error().code == bdecode_errc::too_many_values ||
                                  doc.error().code == bdecode_errc::depth_exceeded
                              ? errc::limit_exceeded
                              : errc::invalid_input;
        return fail(code, std::string(where), "not bencoded: " + doc.error().message());
    }
    const bnode root = doc->root();
    if (!root.is_dict()) {
        return fail(errc::invalid_input, std::string(where), "not a dictionary");
    }
    if (const bnode failure = root.find("failure reason"); failure.valid()) {
        const auto text = failure.as_string();
        if (!text) {
            return fail(errc::invalid_input, std::string(where), "'failure reason' is not a string");
        }
        return fail(errc::invalid_input, std::string(where) + ": failure reason", std::string(*text));
    }
    return std::move(*doc);
}

}  // namespace hyphae::tracker
