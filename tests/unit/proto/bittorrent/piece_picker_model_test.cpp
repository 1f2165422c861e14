// The piece picker against a naive model: thousands of random operations (peers coming and going,
// haves, picks with and without options, blocks arriving, aborts, hash results), checking after
// each one that both agree and that every pick obeyed the documented order of preference.

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "hyphae/proto/bittorrent/piece_picker.hpp"

namespace hyphae::bittorrent {
namespace {

struct model_block {
    bool received = false;
    peer_key from = 0;
    std::set<peer_key> requesters;
};

// Everything recomputed from scratch, the obvious way.
struct naive_picker {
    std::vector<std::vector<model_block>> blocks;
    std::vector<std::uint32_t> peers;
    std::vector<bool> have;
    std::uint32_t seeds = 0;
    std::size_t duplicates_max = 1;

    std::size_t size() const { return blocks.size(); }
    std::size_t have_count() const {
        return static_cast<std::size_t>(std::count(have.begin(), have.end(), true));
    }

    bool started(piece_index p) const {
        return std::any_of(blocks[p].begin(), blocks[p].end(),
                           [](const model_block& b) { return b.received || !b.requesters.empty(); });
    }
    std::uint32_t free(piece_index p) const {
        if (have[p]) {
            return 0;
        }
        return static_cast<std::uint32_t>(
            std::count_if(blocks[p].begin(), blocks[p].end(),
                          [](const model_block& b) { return !b.received && b.requesters.empty(); }));
    }
    bool in_endgame() const {
        bool requested = false;
        for (piece_index p = 0; p < size(); ++p) {
            if (have[p]) {
                continue;
            }
            if ((seeds > 0 || peers[p] > 0) && free(p) > 0) {
                return false;
            }
            for (const auto& b : blocks[p]) {
                requested = requested || !b.requesters.empty();
            }
        }
        return requested;
    }
    void reset(piece_index p) {
        for (auto& b : blocks[p]) {
            b = model_block{};
        }
    }
};

struct model_peer {
    bool connected = false;
    bool seed = false;
    bitfield has;
};

class picker_model_run {
public:
    picker_model_run(std::uint64_t seed)
        : random_(seed), picker_rng_(seed ^ 0x5eed), picker_(make_picker()), peers_(6) {}

    void run(int operations) {
        for (int op = 0; op < operations && !picker_.complete(); ++op) {
            step();
            if (::testing::Test::HasFatalFailure() || ::testing::Test::HasNonfatalFailure()) {
                ADD_FAILURE() << "seed " << seed_info_ << ", operation " << op;
                return;
            }
        }
    }

    int picks() const { return picks_; }
    int endgame_picks() const { return endgame_picks_; }
    int passed() const { return passed_; }

private:
    piece_picker make_picker() {
        const std::int64_t piece_length = static_cast<std::int64_t>(1 + random_.uniform(3)) * block_size +
                                          (random_.uniform(2) == 0 ? 0 : 100);
        const auto pieces = static_cast<std::int64_t>(4 + random_.uniform(24));
        const std::int64_t total =
            (pieces - 1) * piece_length + 1 +
            static_cast<std::int64_t>(random_.uniform(static_cast<std::uint64_t>(piece_length)));
        config_.random_first_pieces_max = random_.uniform(2) == 0 ? 0 : 2;
        config_.endgame_duplicates_max = 1 + random_.uniform(3);
        // 0 or a few: the walk in availability order gives up early and the bitfield pass runs.
        const std::size_t scans[] = {0, 3, 512};
        config_.ordered_scan_pieces_max = scans[random_.uniform(3)];
        piece_picker picker(piece_length, total, config_);
        model_.blocks.resize(picker.piece_count());
        for (piece_index p = 0; p < picker.piece_count(); ++p) {
            model_.blocks[p].resize(picker.blocks_in_piece(p));
        }
        model_.peers.assign(picker.piece_count(), 0);
        model_.have.assign(picker.piece_count(), false);
        model_.duplicates_max = config_.endgame_duplicates_max;
        seed_info_ = "pieces " + std::to_string(picker.piece_count()) + ", piece length " +
                     std::to_string(piece_length) + ", duplicates " +
                     std::to_string(config_.endgame_duplicates_max) + ", scan " +
                     std::to_string(config_.ordered_scan_pieces_max);
        return picker;
    }

    std::size_t n() const { return model_.size(); }

    void step() {
        const auto roll = random_.uniform(100);
        if (roll < 8) {
            connect();
        } else if (roll < 14) {
            have_message();
        } else if (roll < 18) {
            disconnect();
        } else if (roll < 50) {
            pick();
        } else if (roll < 78) {
            receive();
        } else if (roll < 86) {
            abort();
        } else if (roll < 99) {
            hash_result();
        } else {
            set_have();
        }
        check();
    }

    model_peer* random_peer(bool connected) {
        const auto i = random_.uniform(peers_.size());
        return peers_[i].connected == connected ? &peers_[i] : nullptr;
    }
    peer_key key_of(const model_peer* peer) const { return static_cast<peer_key>(peer - peers_.data()); }

    void connect() {
        model_peer* peer = random_peer(false);
        if (peer == nullptr) {
            return;
        }
        peer->connected = true;
        peer->seed = random_.uniform(5) == 0;
        peer->has = bitfield(n(), peer->seed);
        if (peer->seed) {
            picker_.add_seed();
            ++model_.seeds;
            return;
        }
        const auto density = 1 + random_.uniform(9);
        for (piece_index p = 0; p < n(); ++p) {
            if (random_.uniform(10) < density) {
                peer->has.set(p);
                ++model_.peers[p];
            }
        }
        picker_.add_peer_bitfield(peer->has);
    }

    void have_message() {
        model_peer* peer = random_peer(true);
        if (peer == nullptr || peer->seed) {
            return;
        }
        const auto p = static_cast<piece_index>(random_.uniform(n()));
        if (!peer->has.test(p)) {
            peer->has.set(p);
            ++model_.peers[p];
            picker_.add_peer_have(p);
        }
    }

    void disconnect() {
        model_peer* peer = random_peer(true);
        if (peer == nullptr) {
            return;
        }
        if (peer->seed) {
            picker_.remove_seed();
            --model_.seeds;
        } else {
            picker_.remove_peer_bitfield(peer->has);
            for (piece_index p = 0; p < n(); ++p) {
                model_.peers[p] -= peer->has.test(p) ? 1 : 0;
            }
        }
        picker_.peer_gone(key_of(peer));
        for (auto& piece : model_.blocks) {
            for (auto& b : piece) {
                b.requesters.erase(key_of(peer));
            }
        }
        peer->connected = false;
    }

    std::vector<piece_index> random_pieces() {
        std::vector<piece_index> out(random_.uniform(4));
        for (auto& p : out) {
            p = static_cast<piece_index>(random_.uniform(n()));
        }
        return out;
    }

    // Checks each picked block at the moment it is taken, against the model's state then.
    void pick() {
        model_peer* peer = random_peer(true);
        if (peer == nullptr) {
            return;
        }
        const peer_key key = key_of(peer);
        const std::size_t count = 1 + random_.uniform(6);
        std::vector<piece_index> restriction;
        std::vector<piece_index> suggestion;
        pick_options options;
        const auto kind = random_.uniform(8);
        if (kind == 0) {
            restriction = random_pieces();
            options.restrict_to = restriction;
        } else if (kind == 1) {
            suggestion = random_pieces();
            options.suggested = suggestion;
        }
        const auto allowed = [&](piece_index p) {
            return !options.restrict_to ||
                   std::find(restriction.begin(), restriction.end(), p) != restriction.end();
        };
        const auto eligible = [&](piece_index p) {
            return peer->has.test(p) && !model_.have[p] && allowed(p);
        };
        const bool random_first = model_.have_count() < config_.random_first_pieces_max;

        const auto picked = picker_.pick(peer->has, key, count, picker_rng_, options);
        ++picks_;
        ASSERT_LE(picked.size(), count);
        std::set<piece_index> touched;
        bool busy_phase = false;
        for (std::size_t i = 0; i < picked.size(); ++i) {
            const block_ref blk = picked[i];
            ASSERT_LT(blk.piece, n());
            ASSERT_LT(blk.block, model_.blocks[blk.piece].size());
            ASSERT_TRUE(eligible(blk.piece)) << "piece " << blk.piece;
            model_block& b = model_.blocks[blk.piece][blk.block];
            ASSERT_FALSE(b.received);
            ASSERT_EQ(b.requesters.count(key), 0u) << "asked twice";
            ASSERT_LT(b.requesters.size(), model_.duplicates_max);
            if (!b.requesters.empty()) {
                ASSERT_TRUE(model_.in_endgame()) << "duplicate request outside endgame";
                busy_phase = true;
                ++endgame_picks_;
            } else {
                ASSERT_FALSE(busy_phase) << "a free block after endgame blocks";
                for (std::uint32_t earlier = 0; earlier < blk.block; ++earlier) {
                    const model_block& e = model_.blocks[blk.piece][earlier];
                    ASSERT_TRUE(e.received || !e.requesters.empty()) << "blocks of a piece go in order";
                }
                if (touched.insert(blk.piece).second) {
                    check_first_touch(blk.piece, touched, eligible, random_first, suggestion,
                                      peer->has.all());
                }
            }
            b.requesters.insert(key);
        }
        if (picked.size() < count) {
            for (piece_index p = 0; p < n(); ++p) {
                if (!eligible(p)) {
                    continue;
                }
                ASSERT_EQ(model_.free(p), 0u)
                    << "left a free block of piece " << p << " peers " << model_.peers[p] << " started "
                    << model_.started(p) << " picked " << picked.size() << " of " << count << " kind " << kind
                    << " all " << peer->has.all() << " random " << random_first;
                if (!model_.in_endgame()) {
                    continue;
                }
                for (const auto& b : model_.blocks[p]) {
                    const bool wanted = !b.received && !b.requesters.empty() &&
                                        b.requesters.size() < model_.duplicates_max &&
                                        b.requesters.count(key) == 0;
                    ASSERT_FALSE(wanted) << "left an endgame block of piece " << p;
                }
            }
        }
    }

    template <class Eligible>
    void check_first_touch(piece_index piece, const std::set<piece_index>& touched, const Eligible& eligible,
                           bool random_first, const std::vector<piece_index>& suggestion, bool has_all) {
        // The model's state still lacks this pick's first request of `piece`.
        const auto partial = [&](piece_index q) {
            return model_.started(q) && model_.free(q) > 0;
        };
        if (partial(piece)) {
            for (piece_index q = 0; q < n(); ++q) {
                if (q != piece && touched.count(q) == 0 && eligible(q) && partial(q)) {
                    ASSERT_LE(model_.free(piece), model_.free(q)) << "most complete partial piece first";
                }
            }
            return;
        }
        for (piece_index q = 0; q < n(); ++q) {
            if (touched.count(q) == 0 && eligible(q)) {
                ASSERT_FALSE(partial(q)) << "partial piece " << q << " before new piece " << piece;
            }
        }
        const bool suggested = std::find(suggestion.begin(), suggestion.end(), piece) != suggestion.end();
        if (suggested) {
            return;
        }
        for (piece_index q : suggestion) {
            if (q < n() && eligible(q) && touched.count(q) == 0) {
                ASSERT_EQ(model_.free(q), 0u) << "suggested piece " << q << " before " << piece;
            }
        }
        if (random_first) {
            return;
        }
        for (piece_index q = 0; q < n(); ++q) {
            if (touched.count(q) == 0 && eligible(q) && !model_.started(q) &&
                (has_all || model_.peers[q] > 0)) {
                ASSERT_LE(model_.peers[piece], model_.peers[q]) << "rarest first: " << piece << " over " << q;
            }
        }
    }

    void receive() {
        std::vector<std::pair<block_ref, peer_key>> outstanding;
        for (piece_index p = 0; p < n(); ++p) {
            for (std::uint32_t b = 0; b < model_.blocks[p].size(); ++b) {
                for (peer_key k : model_.blocks[p][b].requesters) {
                    outstanding.push_back({{p, b}, k});
                }
            }
        }
        block_ref blk;
        peer_key from = 0;
        if (!outstanding.empty() && random_.uniform(10) != 0) {
            const auto& pick = outstanding[random_.uniform(outstanding.size())];
            blk = pick.first;
            from =
                random_.uniform(5) == 0 ? static_cast<peer_key>(random_.uniform(peers_.size())) : pick.second;
        } else {  // unsolicited, possibly a duplicate or of a piece we have
            blk.piece = static_cast<piece_index>(random_.uniform(n()));
            blk.block = static_cast<std::uint32_t>(random_.uniform(model_.blocks[blk.piece].size()));
            from = static_cast<peer_key>(random_.uniform(peers_.size()));
        }
        const auto got = picker_.block_received(blk, from);
        model_block& b = model_.blocks[blk.piece][blk.block];
        if (model_.have[blk.piece] || b.received) {
            EXPECT_FALSE(got.piece_complete);
            EXPECT_TRUE(got.cancel_at.empty());
            return;
        }
        std::vector<peer_key> cancel;
        for (peer_key k : b.requesters) {
            if (k != from) {
                cancel.push_back(k);
            }
        }
        EXPECT_EQ(got.cancel_at, cancel);
        b = model_block{true, from, {}};
        const bool complete = std::all_of(model_.blocks[blk.piece].begin(), model_.blocks[blk.piece].end(),
                                          [](const model_block& m) { return m.received; });
        EXPECT_EQ(got.piece_complete, complete);
    }

    void abort() {
        const auto p = static_cast<piece_index>(random_.uniform(n()));
        const auto b = static_cast<std::uint32_t>(random_.uniform(model_.blocks[p].size()));
        auto& requesters = model_.blocks[p][b].requesters;
        peer_key key = static_cast<peer_key>(random_.uniform(peers_.size()));
        if (!requesters.empty() && random_.uniform(4) != 0) {
            key = *std::next(requesters.begin(),
                             static_cast<std::ptrdiff_t>(random_.uniform(requesters.size())));
        }
        picker_.abort_request({p, b}, key);
        if (!model_.have[p]) {
            requesters.erase(key);
        }
    }

    void hash_result() {
        for (piece_index p = 0; p < n(); ++p) {
            const auto& piece = model_.blocks[p];
            const bool complete =
                !model_.have[p] &&
                std::all_of(piece.begin(), piece.end(), [](const model_block& b) { return b.received; });
            if (!complete) {
                continue;
            }
            if (random_.uniform(5) == 0) {
                std::set<peer_key> senders;
                for (const auto& b : piece) {
                    senders.insert(b.from);
                }
                EXPECT_EQ(picker_.piece_failed(p), std::vector<peer_key>(senders.begin(), senders.end()));
            } else {
                picker_.piece_passed(p);
                model_.have[p] = true;
                ++passed_;
            }
            model_.reset(p);
            return;
        }
    }

    void set_have() {
        const auto p = static_cast<piece_index>(random_.uniform(n()));
        picker_.set_have(p);
        model_.have[p] = true;
        model_.reset(p);
    }

    void check() {
        ASSERT_TRUE(picker_.check_invariants());
        ASSERT_EQ(picker_.have_count(), model_.have_count());
        for (piece_index p = 0; p < n(); ++p) {
            ASSERT_EQ(picker_.have(p), model_.have[p]);
            ASSERT_EQ(picker_.availability(p), model_.peers[p] + model_.seeds) << "piece " << p;
        }
        ASSERT_EQ(picker_.in_endgame(), model_.in_endgame());
        ASSERT_EQ(picker_.complete(), model_.have_count() == n());
        for (const auto& peer : peers_) {
            if (peer.connected) {
                bool interesting = false;
                for (piece_index p = 0; p < n(); ++p) {
                    interesting = interesting || (peer.has.test(p) && !model_.have[p]);
                }
                ASSERT_EQ(picker_.is_interesting(peer.has), interesting);
            }
        }
    }

    rng random_;
    rng picker_rng_;
    picker_config config_;
    naive_picker model_;
    std::string seed_info_;  // before picker_: make_picker() writes it
    piece_picker picker_;
    std::vector<model_peer> peers_;
    int picks_ = 0;
    int endgame_picks_ = 0;
    int passed_ = 0;
};

TEST(piece_picker_model, random_operations_agree_with_a_naive_model) {
    int picks = 0;
    int endgame_picks = 0;
    int passed = 0;
    for (std::uint64_t seed = 1; seed <= 500; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        picker_model_run run(seed);
        run.run(2000);  // or until the download completes
        if (HasFailure()) {
            return;
        }
        picks += run.picks();
        endgame_picks += run.endgame_picks();
        passed += run.passed();
    }
    // The runs covered what they are meant to: picks, endgame duplicates, completed pieces.
    EXPECT_GT(picks, 10000);
    EXPECT_GT(endgame_picks, 1000);
    EXPECT_GT(passed, 1000);
    std::printf("%d picks, %d endgame blocks, %d pieces passed\n", picks, endgame_picks, passed);
}

}  // namespace
}  // namespace hyphae::bittorrent
