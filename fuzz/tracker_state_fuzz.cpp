// Fuzz target: the tracker's state file reader. The input gets a valid SHA-1 appended, so that
// the fuzzer reaches the structure behind the checksum. Beyond not crashing: a file refused leaves
// the table untouched, and a file taken never puts the table past its bounds.

#include <cstdint>
#include <cstdlib>

#include "fuzz_target.hpp"

#include "hyphae/core/sha.hpp"
#include "hyphae/proto/tracker/tracker_state.hpp"

using namespace hyphae::tracker;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace hyphae;
    byte_buffer file(data, data + size);
    const sha1_hash digest = sha1(file);
    file.insert(file.end(), digest.bytes.begin(), digest.bytes.end());
    swarm_limits limits;
    limits.swarms_max = 8;
    limits.peers_max = 32;
    limits.peers_per_swarm_max = 8;
    rng random(1);
    swarm_table table(limits, keyed_hash(random));
    const std::uint32_t now = 1u << 24;
    auto summary = restore_tracker_state(file, table, now, 1000, 600, 3600,
                                         [](const sha1_hash& h) { return h.bytes[0] != 0xff; });
    if (!summary) {
        if (table.swarms() != 0 || table.peers() != 0) {
            std::abort();
        }
        return 0;
    }
    if (table.swarms() > limits.swarms_max || table.peers() > limits.peers_max ||
        summary->swarms != table.swarms() || summary->peers != table.peers() ||
        table.seeders() > table.peers()) {
        std::abort();
    }
    // What was taken writes out and reads back the same.
    const byte_buffer again = encode_tracker_state(table, now, 1000);
    swarm_table copy(limits, keyed_hash(random));
    auto reread =
        restore_tracker_state(again, copy, now, 1000, 600, 3600, [](const sha1_hash&) { return true; });
    if (!reread || copy.peers() != table.peers() || copy.swarms() != table.swarms()) {
        std::abort();
    }
    return 0;
}
