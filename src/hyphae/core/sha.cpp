#include "hyphae/core/sha.hpp"

#include <cstdio>
#include <cstdlib>

#include <openssl/evp.h>

namespace hyphae {
namespace {

// Fetched once: EVP_MD_fetch does a provider lookup that costs more than hashing a small message.
template <class Digest>
const EVP_MD* digest_method() {
    static const EVP_MD* const md = [] {
        const EVP_MD* fetched = EVP_MD_fetch(nullptr, Digest::size == 20 ? "SHA1" : "SHA256", nullptr);
        if (fetched == nullptr) {
            // No default provider means a broken OpenSSL installation; nothing can be verified.
            std::fputs("hyphae: OpenSSL has no SHA-1/SHA-256 digest (default provider missing)\n", stderr);
            std::abort();
        }
        return fetched;
    }();
    return md;
}

template <class Digest>
Digest one_shot(byte_view data) {
    Digest out;
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), out.bytes.data(), &length, digest_method<Digest>(), nullptr) !=
            1 ||
        length != Digest::size) {
        std::fputs("hyphae: EVP_Digest failed\n", stderr);
        std::abort();
    }
    return out;
}

}  // namespace

sha1_hash sha1(byte_view data) {
    return one_shot<sha1_hash>(data);
}
sha256_hash sha256(byte_view data) {
    return one_shot<sha256_hash>(data);
}

template <class Digest>
struct incremental_hasher<Digest>::context {
    EVP_MD_CTX* md_ctx = EVP_MD_CTX_new();
    ~context() { EVP_MD_CTX_free(md_ctx); }
    void reset() {
        if (md_ctx == nullptr || EVP_DigestInit_ex2(md_ctx, digest_method<Digest>(), nullptr) != 1) {
            std::fputs("hyphae: EVP_DigestInit_ex2 failed\n", stderr);
            std::abort();
        }
    }
};

template <class Digest>
incremental_hasher<Digest>::incremental_hasher() : ctx_(std::make_unique<context>()) {
    ctx_->reset();
}

template <class Digest>
incremental_hasher<Digest>::~incremental_hasher() = default;
template <class Digest>
incremental_hasher<Digest>::incremental_hasher(incremental_hasher&&) noexcept = default;
template <class Digest>
incremental_hasher<Digest>& incremental_hasher<Digest>::operator=(incremental_hasher&&) noexcept = default;

template <class Digest>
void incremental_hasher<Digest>::update(byte_view data) {
    EVP_DigestUpdate(ctx_->md_ctx, data.data(), data.size());
}

template <class Digest>
Digest incremental_hasher<Digest>::finish() {
    Digest out;
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx_->md_ctx, out.bytes.data(), &length);
    ctx_->reset();
    return out;
}

template class incremental_hasher<sha1_hash>;
template class incremental_hasher<sha256_hash>;

}  // namespace hyphae
