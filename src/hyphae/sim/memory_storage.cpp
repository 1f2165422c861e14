#include "hyphae/sim/memory_storage.hpp"

#include <algorithm>
#include <cstring>

#include "hyphae/core/rng.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/proto/bittorrent/torrent_builder.hpp"

namespace hyphae::sim {

std::shared_ptr<const shared_content> shared_content::make(std::string name, std::uint64_t size,
                                                           std::int64_t piece_length, std::uint64_t seed) {
    auto c = std::make_shared<shared_content>();
    c->size_ = size;
    rng random(seed);
    for (std::uint64_t at = 0; at < size; at += block_size) {
        std::vector<std::uint8_t> block(
            static_cast<std::size_t>(std::min<std::uint64_t>(block_size, size - at)));
        for (std::size_t i = 0; i < block.size(); i += 8) {
            const std::uint64_t word = random();
            std::memcpy(block.data() + i, &word, std::min<std::size_t>(8, block.size() - i));
        }
        c->blocks_.push_back(std::make_shared<const std::vector<std::uint8_t>>(std::move(block)));
    }
    bittorrent::torrent_spec spec;
    spec.name = std::move(name);
    spec.piece_length = piece_length;
    spec.files = {{"", static_cast<std::int64_t>(size)}};
    const auto layout = bittorrent::validate(spec);
    std::vector<sha1_hash> pieces;
    for (bittorrent::piece_index p = 0; p < layout->piece_count(); ++p) {
        const auto begin = static_cast<std::uint64_t>(p) * static_cast<std::uint64_t>(piece_length);
        const shared_bytes bytes = c->read(begin, static_cast<std::uint32_t>(layout->piece_size(p)));
        pieces.push_back(sha1(byte_view(bytes->data(), bytes->size())));
    }
    const std::string file = encode_torrent_file(spec, encode_info_dictionary(spec, pieces));
    c->meta_ = *bittorrent::parse_metainfo(as_bytes(file));
    return c;
}

shared_bytes shared_content::read(std::uint64_t offset, std::uint32_t length) const {
    if (offset % block_size == 0 && offset / block_size < blocks_.size() &&
        blocks_[offset / block_size]->size() == length) {
        return blocks_[offset / block_size];
    }
    std::vector<std::uint8_t> out;
    out.reserve(length);
    std::uint64_t at = offset;
    const std::uint64_t end = std::min(offset + length, size_);
    while (at < end) {
        const auto& b = *blocks_[at / block_size];
        const std::size_t from = at % block_size;
        const std::size_t take = std::min<std::uint64_t>(b.size() - from, end - at);
        out.insert(out.end(), b.begin() + static_cast<std::ptrdiff_t>(from),
                   b.begin() + static_cast<std::ptrdiff_t>(from + take));
        at += take;
    }
    return std::make_shared<const std::vector<std::uint8_t>>(std::move(out));
}

bool shared_content::matches(std::uint64_t offset, byte_view bytes) const {
    std::uint64_t at = offset;
    std::size_t done = 0;
    while (done < bytes.size()) {
        if (at >= size_) {
            return false;
        }
        const auto& b = *blocks_[at / block_size];
        const std::size_t from = at % block_size;
        const std::size_t take = std::min(b.size() - from, bytes.size() - done);
        if (std::memcmp(b.data() + from, bytes.data() + done, take) != 0) {
            return false;
        }
        at += take;
        done += take;
    }
    return true;
}

std::string shared_content::bytes() const {
    std::string out;
    out.reserve(size_);
    for (const auto& b : blocks_) {
        out.append(reinterpret_cast<const char*>(b->data()), b->size());
    }
    return out;
}

memory_storage::memory_storage(std::shared_ptr<const shared_content> content, bool complete)
    : content_(std::move(content)),
      states_(content_->block_count(), complete ? state::good : state::missing) {
    good_blocks_ = complete ? states_.size() : 0;
}

disk_result memory_storage::run(const disk_job& job) {
    disk_result r;
    const std::uint64_t offset =
        static_cast<std::uint64_t>(job.piece) * static_cast<std::uint64_t>(content_->meta().piece_length) +
        job.begin;
    constexpr std::uint32_t bs = shared_content::block_size;
    switch (job.what) {
        case disk_job::kind::write: {
            const byte_view bytes(job.data->data(), job.data->size());
            // A block passed along by reference from a peer's read is the content's own.
            const bool own_block =
                offset % bs == 0 && offset < content_->size() && job.data == content_->block(offset);
            const bool good = own_block || content_->matches(offset, bytes);
            if (!good) {
                ++bad_writes_;
            }
            // Blocks the write covers whole take its verdict; the core writes whole blocks.
            for (std::uint64_t at = offset; at < offset + bytes.size(); at = (at / bs + 1) * bs) {
                state& s = states_[at / bs];
                good_blocks_ -= s == state::good ? 1 : 0;
                s = good ? state::good : state::bad;
                good_blocks_ += good ? 1 : 0;
            }
            break;
        }
        case disk_job::kind::read: {
            for (std::uint64_t at = offset; at < offset + job.length; at = (at / bs + 1) * bs) {
                if (states_[at / bs] == state::missing) {
                    return disk_result{false, "read of a block never written", nullptr, {}};
                }
            }
            const bool wrong = corrupt_all || (corrupt_piece && *corrupt_piece == job.piece) ||
                               states_[offset / bs] == state::bad;
            r.data = content_->read(offset, job.length);
            if (wrong) {
                auto copy = std::make_shared<std::vector<std::uint8_t>>(*r.data);
                (*copy)[0] ^= 0xff;
                r.data = std::move(copy);
            }
            break;
        }
        case disk_job::kind::hash: {
            bool all_good = true;
            for (std::uint64_t at = offset; at < offset + job.length; at = (at / bs + 1) * bs) {
                all_good = all_good && states_[at / bs] == state::good;
            }
            // What was written is the content, so its hash is the torrent's; anything else is not.
            r.hash = all_good ? content_->meta().piece_hash(job.piece) : sha1_hash{};
            break;
        }
    }
    return r;
}

}  // namespace hyphae::sim
