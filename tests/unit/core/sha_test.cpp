#include "hyphae/core/sha.hpp"

#include <gtest/gtest.h>

#include "hyphae/core/rng.hpp"

namespace hyphae {
namespace {

TEST(sha1, matches_fips_180_vectors) {
    EXPECT_EQ(sha1(as_bytes("")).to_hex(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    EXPECT_EQ(sha1(as_bytes("abc")).to_hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
    EXPECT_EQ(sha1(as_bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).to_hex(),
              "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    EXPECT_EQ(sha1(as_bytes(std::string(1'000'000, 'a'))).to_hex(),
              "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(sha256, matches_fips_180_vectors) {
    EXPECT_EQ(sha256(as_bytes("")).to_hex(),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256(as_bytes("abc")).to_hex(),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(sha1_hasher, incremental_equals_one_shot_for_any_split) {
    std::string data(100'000, '\0');
    rng random(7);
    for (char& c : data) {
        c = static_cast<char>(random());
    }
    const sha1_hash expected = sha1(as_bytes(data));
    sha1_hasher hasher;
    for (int round = 0; round < 5; ++round) {
        std::size_t at = 0;
        while (at < data.size()) {
            const std::size_t n = std::min<std::size_t>(data.size() - at, random.uniform(5000));
            hasher.update(as_bytes(std::string_view(data).substr(at, n)));
            at += n;
        }
        // finish() also resets, so every round starts afresh.
        EXPECT_EQ(hasher.finish(), expected);
    }
}

TEST(sha256_hasher, incremental_equals_one_shot) {
    sha256_hasher hasher;
    hasher.update(as_bytes("ab"));
    hasher.update(as_bytes("c"));
    EXPECT_EQ(hasher.finish(), sha256(as_bytes("abc")));
    sha256_hasher moved = std::move(hasher);
    moved.update(as_bytes(""));
    EXPECT_EQ(moved.finish(), sha256(as_bytes("")));
}

}  // namespace
}  // namespace hyphae
