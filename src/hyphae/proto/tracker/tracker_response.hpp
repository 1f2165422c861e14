#pragma once
// What every bencoded HTTP tracker response (announce or scrape) shares: it must decode within
// limits to a dictionary, and a 'failure reason' in it turns the whole response into an error
// whose `what` is the tracker's own text, unchanged.

#include <string_view>

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/bytes.hpp"
#include "hyphae/core/error.hpp"

namespace hyphae::tracker {

// The document's nodes point into `body`, which must outlive it.
result<bdocument> decode_tracker_dictionary(byte_view body, const bdecode_limits& limits,
                                            std::string_view where);

}  // namespace hyphae::tracker
