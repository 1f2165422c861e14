#!/usr/bin/env bash
# Benchmark: get_peers lookups in a mixed loopback Mainline DHT of Hyphae and libtorrent 2.0.8
# nodes, in the same run and over the same targets (bench/dht_lookup, hyphae_dht_bench). Hyphae's
# nodes run in the benchmark's process (one UDP socket each on 127.0.0.1, one event-loop thread);
# libtorrent's run as tests/interop/lt_dht.py processes under /usr/bin/python3. The nodes are
# meshed and warmed up until every routing table is full, info-hashes are announced (half by each
# kind), then every target is looked up from several nodes of each kind, one lookup at a time,
# first in the healthy network and then with a fraction of each kind silenced (they stop answering
# without a word). Prints, per phase and implementation: found and completion rates, time to the
# first peer and to completion (median, p90, max), messages per lookup, the ratios
# Hyphae/libtorrent, and the memory of a Hyphae node with a full routing table. Not a test.
#
#   bench/dht.sh [--hyphae N] [--libtorrent N] [--targets M] [--lookups R] [--silent-lookups R]
#                [--silent F] [--seed S] [--json FILE] [-- more hyphae_dht_bench options]
#
# Defaults: 20 Hyphae + 20 libtorrent nodes, 20 targets, 10 lookups per target and implementation
# in the healthy phase and 3 in the silent one, 10 % of each kind silent in the second phase
# (--silent 0 skips it), seed 1.
# --json FILE writes the whole report (every lookup) as JSON. Options after `--` go to
# hyphae_dht_bench unchanged (see its --help: --warmup, --fill, --mesh-contacts, --lookup-deadline,
# --memory-nodes, --memory-network, ...). The silent phase takes a few minutes: libtorrent's lookups
# wait for its 15 s timeout when a silent node ranks among the closest.
set -euo pipefail
cd "$(dirname "$0")/.."

args=()
json=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --hyphae | --libtorrent | --targets | --lookups | --silent-lookups | --silent | --seed)
      args+=("$1" "$2"); shift 2 ;;
    --json) json=$2; shift 2 ;;
    --) shift; args+=("$@"); break ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "dht.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

scripts/setup.sh build test
if ! /usr/bin/python3 -c 'import libtorrent' 2>/dev/null; then
  echo "dht.sh: /usr/bin/python3 cannot import libtorrent (python3-libtorrent)" >&2
  exit 1
fi
cmake --preset release >/dev/null
cmake --build --preset release --target hyphae_dht_bench >/dev/null
bench=$PWD/build/release/bench/hyphae_dht_bench
[[ -n $json ]] && args+=(--json "$json")

echo "== $(nproc) cores, $(uname -r), libtorrent $(/usr/bin/python3 -c 'import libtorrent; print(libtorrent.__version__)')" >&2
exec "$bench" "${args[@]}"
