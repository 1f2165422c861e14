// Fuzz target: the bencode decoder. Beyond not crashing, a strict decode must be canonical:
// re-encoding what was decoded gives back exactly the input bytes.

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "fuzz_target.hpp"

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/bencode_writer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hyphae;
    const byte_view input(data, size);
    auto doc = bdecode(input);
    if (doc) {
        const std::string again = bencode(to_bvalue(doc->root()));
        if (again.size() != size || std::memcmp(again.data(), data, size) != 0) {
            std::abort();
        }
    }
    bdecode_limits lenient;
    lenient.sorted_keys_required = false;
    lenient.depth_max = 8;
    lenient.values_max = 64;
    if (auto loose = bdecode(input, lenient)) {
        // Every node reachable must be readable.
        for (auto [key, value] : loose->root().dict_items()) {
            (void)key;
            (void)value.as_int();
            (void)value.as_string();
            (void)value.raw();
        }
    }
    if (auto prefix = bdecode_prefix(input)) {
        if (prefix->root().raw().size() > size) {
            std::abort();
        }
    }
    return 0;
}
