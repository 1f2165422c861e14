// Fuzz target: magnet link parsing. What parses must format and parse back to the same link.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz_target.hpp"

#include "hyphae/proto/bittorrent/magnet.hpp"

using namespace hyphae::bittorrent;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hyphae;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto link = parse_magnet(text);
    if (!link) {
        return 0;
    }
    auto again = parse_magnet(format_magnet(*link));
    if (!again || again->info_hash != link->info_hash || again->info_hash_v2 != link->info_hash_v2 ||
        again->name != link->name || again->trackers != link->trackers || again->peers != link->peers ||
        again->web_seeds != link->web_seeds) {
        std::abort();
    }
    return 0;
}
