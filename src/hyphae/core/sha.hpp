#pragma once
// SHA-1 and SHA-256 through OpenSSL 3's EVP interface (SHA-NI where the CPU has it). Pure
// functions of their input: cores may call them; the simulator may substitute cheaper ones.

#include <memory>

#include "hyphae/core/bytes.hpp"
#include "hyphae/core/fixed_id.hpp"

namespace hyphae {

using sha1_hash = id160;
using sha256_hash = id256;

sha1_hash sha1(byte_view data);
sha256_hash sha256(byte_view data);

// Incremental hashing: update() any number of times, then finish(), which also resets the hasher
// for the next message.
template <class Digest>
class incremental_hasher {
public:
    incremental_hasher();
    ~incremental_hasher();
    incremental_hasher(incremental_hasher&&) noexcept;
    incremental_hasher& operator=(incremental_hasher&&) noexcept;
    incremental_hasher(const incremental_hasher&) = delete;
    incremental_hasher& operator=(const incremental_hasher&) = delete;

    void update(byte_view data);
    Digest finish();

private:
    struct context;
    std::unique_ptr<context> ctx_;
};

using sha1_hasher = incremental_hasher<sha1_hash>;
using sha256_hasher = incremental_hasher<sha256_hash>;

extern template class incremental_hasher<sha1_hash>;
extern template class incremental_hasher<sha256_hash>;

}  // namespace hyphae
