// Fuzz target: the peer-wire framing after the handshake, as a connection reads it: messages are
// taken from the front of the buffer until more bytes are needed or an error ends the peer.

#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_target.hpp"

#include "hyphae/proto/bittorrent/handshake.hpp"
#include "hyphae/proto/bittorrent/message.hpp"

using namespace hyphae::bittorrent;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hyphae;
    byte_view rest(data, size);
    if (rest.size() >= wire::handshake_size) {
        (void)wire::decode_handshake(rest);
    }
    while (true) {
        auto r = wire::decode_message(rest, 16384 + 13);
        if (!r || !*r) {
            break;
        }
        if ((*r)->consumed == 0 || (*r)->consumed > rest.size()) {
            std::abort();
        }
        // Re-encoding a known message gives its bytes back.
        if (!std::holds_alternative<wire::unknown_msg>((*r)->msg)) {
            std::string again;
            wire::append(again, (*r)->msg);
            if (as_bytes(again).size() != (*r)->consumed ||
                !std::equal(again.begin(), again.end(), reinterpret_cast<const char*>(rest.data()))) {
                std::abort();
            }
        }
        rest = rest.subspan((*r)->consumed);
    }
    return 0;
}
