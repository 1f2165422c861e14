// Micro benchmarks of the codecs on hot paths: bencode decoding (DHT messages, torrents with many
// files), metainfo parsing, SHA-1 of a piece. Run: build/release/bench/hyphae_micro_bench

#include <benchmark/benchmark.h>

#include "hyphae/core/bencode.hpp"
#include "hyphae/core/bencode_writer.hpp"
#include "hyphae/core/sha.hpp"
#include "hyphae/proto/bittorrent/metainfo.hpp"

namespace hyphae {
using namespace hyphae::bittorrent;
namespace {

std::string many_file_torrent(int files) {
    blist list;
    for (int i = 0; i < files; ++i) {
        list.push_back(bdict{{"length", 1000 + i},
                             {"path", blist{"dir" + std::to_string(i % 50), "file-" + std::to_string(i)}}});
    }
    std::int64_t total = 0;
    for (int i = 0; i < files; ++i) {
        total += 1000 + i;
    }
    const std::int64_t pieces = (total + 16383) / 16384;
    bdict info{{"files", list},
               {"name", "many"},
               {"piece length", 16384},
               {"pieces", std::string(static_cast<std::size_t>(pieces) * 20, 'x')}};
    return bencode(bdict{{"announce", "http://t/a"}, {"info", info}});
}

void bdecode_krpc_message(benchmark::State& state) {
    const std::string msg =
        "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe";
    for (auto _ : state) {
        auto doc = bdecode(as_bytes(msg));
        benchmark::DoNotOptimize(doc->root().find_dict("a").find_string("info_hash"));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * msg.size()));
}
BENCHMARK(bdecode_krpc_message);

void bdecode_10k_file_torrent(benchmark::State& state) {
    const std::string torrent = many_file_torrent(10000);
    for (auto _ : state) {
        auto doc = bdecode(as_bytes(torrent));
        benchmark::DoNotOptimize(doc->value_count());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * torrent.size()));
}
BENCHMARK(bdecode_10k_file_torrent);

void parse_metainfo_10k_files(benchmark::State& state) {
    const std::string torrent = many_file_torrent(10000);
    for (auto _ : state) {
        auto m = parse_metainfo(as_bytes(torrent));
        benchmark::DoNotOptimize(m->total_size);
    }
    state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(parse_metainfo_10k_files);

void sha1_piece(benchmark::State& state) {
    const std::string piece(static_cast<std::size_t>(state.range(0)), 'x');
    for (auto _ : state) {
        benchmark::DoNotOptimize(sha1(as_bytes(piece)));
    }
    state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(sha1_piece)->Arg(16 << 10)->Arg(256 << 10);

}  // namespace
}  // namespace hyphae
