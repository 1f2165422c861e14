// Fuzz target: BEP 10 extension handshakes and the BEP 9 / BEP 11 messages inside extended
// messages. Whatever parses must re-encode and parse back to the same thing.

#include <cstdint>
#include <cstdlib>

#include "fuzz_target.hpp"

#include "hyphae/proto/bittorrent/extension_handshake.hpp"
#include "hyphae/proto/bittorrent/ut_metadata.hpp"
#include "hyphae/proto/bittorrent/ut_pex.hpp"

using namespace hyphae::bittorrent;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hyphae;
    const byte_view input(data, size);
    if (auto h = wire::parse_extension_handshake(input)) {
        auto again = wire::parse_extension_handshake(as_bytes(wire::encode_extension_handshake(*h)));
        if (!again || again->messages != h->messages || again->metadata_size != h->metadata_size) {
            std::abort();
        }
    }
    if (auto m = wire::parse_metadata_message(input)) {
        if (m->type == wire::metadata_type::data && m->data.size() > wire::metadata_piece_size) {
            std::abort();
        }
    }
    if (auto p = wire::parse_pex(input)) {
        auto again = wire::parse_pex(as_bytes(wire::encode_pex(*p)));
        if (!again || again->added != p->added || again->dropped != p->dropped) {
            std::abort();
        }
    }
    return 0;
}
