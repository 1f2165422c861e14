// Fuzz target: the KRPC decoder (BEP 5, 32, 42, 43, 44, 51). Beyond not crashing: whatever
// decodes re-encodes to a canonical form that decodes again to the same canonical bytes, and a
// refusal of a query names a transaction id whenever the datagram carried a usable one.

#include <cstdint>
#include <cstdlib>

#include "fuzz_target.hpp"

#include "hyphae/proto/dht/krpc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hyphae;
    using namespace hyphae::dht;
    auto message = decode_krpc(byte_view(data, size));
    if (!message) {
        if (message.error().message.empty() || message.error().transaction_id.size() > transaction_id_max) {
            std::abort();
        }
        return 0;
    }
    if (message->transaction_id.empty() || message->transaction_id.size() > transaction_id_max) {
        std::abort();
    }
    const std::string canonical = encode_krpc(*message);
    auto again = decode_krpc(as_bytes(canonical));
    if (!again || encode_krpc(*again) != canonical) {
        std::abort();
    }
    return 0;
}
