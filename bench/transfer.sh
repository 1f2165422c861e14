#!/usr/bin/env bash
# Benchmark: one seeder to one and to four leechers over loopback TCP, Hyphae->Hyphae against
# libtorrent->libtorrent (python3-libtorrent, uTP off, seed mode) on the same files in the same
# run. Prints wall time from the leechers' start to the last one's completion, throughput, CPU
# seconds per GiB on each side, and the ratios. Not a test: it prints figures.
#
#   bench/transfer.sh [SIZES_MIB...]     (default: 256 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(256 1024)
scripts/setup.sh build test
cmake --preset release >/dev/null
cmake --build --preset release --target hyphae >/dev/null
hyphae=$PWD/build/release/apps/hyphae/hyphae
lt_peer=$PWD/tests/interop/lt_peer.py
work=$(mktemp -d /tmp/hyphae-bench-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
cpu_seconds() {  # utime + stime of a live process, in seconds
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"
}
now_ns() { date +%s%N; }
wait_line() {  # wait_line FILE PATTERN SECONDS
  local end=$((SECONDS + $3))
  until grep -q "$2" "$1" 2>/dev/null; do
    ((SECONDS < end)) || { echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; exit 1; }
    sleep 0.01
  done
}

# run KIND SIZE LEECHERS -> prints "wall seed_cpu leech_cpu"
run() {
  local kind=$1 size=$2 n=$3 dir=$work/$1-$2-$3
  mkdir -p "$dir"
  local seed_port=$((40000 + RANDOM % 10000)) ports=() i
  for ((i = 0; i < n; i++)); do ports+=($((seed_port + 1 + i))); done
  local seed_log=$dir/seed.log
  if [[ $kind == hyphae ]]; then
    "$hyphae" seed "$work/content-$size.torrent" --data "$work/data-$size" --port "$seed_port" --bind 127.0.0.1 \
      >"$seed_log" 2>&1 &
    local seed_pid=$!
    pids+=("$seed_pid")
    wait_line "$seed_log" "checked:" 120
  else
    /usr/bin/python3 "$lt_peer" seed "$work/content-$size.torrent" "$work/data-$size" --port "$seed_port" \
      >"$seed_log" 2>&1 &
    local seed_pid=$!
    pids+=("$seed_pid")
    wait_line "$seed_log" "listening" 60
  fi
  local seed_cpu_before
  seed_cpu_before=$(cpu_seconds "$seed_pid")
  local start leech_pids=()
  start=$(now_ns)
  for ((i = 0; i < n; i++)); do
    local others=() j
    for ((j = 0; j < n; j++)); do ((j == i)) || others+=("127.0.0.1:${ports[j]}"); done
    if [[ $kind == hyphae ]]; then
      local peers=(--peer "127.0.0.1:$seed_port")
      for o in "${others[@]}"; do peers+=(--peer "$o"); done
      /usr/bin/time -f "%U %S" -o "$dir/time-$i" "$hyphae" get "$work/content-$size.torrent" -o "$dir/get-$i" \
        "${peers[@]}" --port "${ports[i]}" --bind 127.0.0.1 >"$dir/get-$i.log" 2>&1 &
    else
      local connects=(--connect "127.0.0.1:$seed_port")
      for o in "${others[@]}"; do connects+=(--connect "$o"); done
      /usr/bin/time -f "%U %S" -o "$dir/time-$i" /usr/bin/python3 "$lt_peer" get "$work/content-$size.torrent" \
        "$dir/get-$i" --port "${ports[i]}" "${connects[@]}" >"$dir/get-$i.log" 2>&1 &
    fi
    leech_pids+=($!)
  done
  for p in "${leech_pids[@]}"; do wait "$p" || { echo "a $kind leecher failed" >&2; cat "$dir"/get-*.log >&2; exit 1; }; done
  local end
  end=$(now_ns)
  local seed_cpu_after
  seed_cpu_after=$(cpu_seconds "$seed_pid")
  kill "$seed_pid"; wait "$seed_pid" 2>/dev/null || true
  local leech_cpu=0
  for ((i = 0; i < n; i++)); do
    leech_cpu=$(awk -v a="$leech_cpu" '{ printf "%.3f", a + $1 + $2 }' "$dir/time-$i")
    cmp -s "$work/data-$size/content.bin" "$dir/get-$i/content.bin" || { echo "$kind leecher $i: data differs" >&2; exit 1; }
  done
  echo "$(calc "($end - $start) / 1e9") $(calc "$seed_cpu_after - $seed_cpu_before") $leech_cpu"
  rm -rf "$dir"
}

printf '%-10s %-9s %-10s %8s %9s %15s %16s\n' size leechers peer wall_s MB/s seed_cpu_s/GiB leech_cpu_s/GiB
for size in "${sizes[@]}"; do
  mkdir -p "$work/data-$size"
  dd if=/dev/urandom of="$work/data-$size/content.bin" bs=4M count=$((size / 4)) status=none
  "$hyphae" create "$work/data-$size/content.bin" -o "$work/content-$size.torrent" --piece-size 1M --force >/dev/null 2>&1
  for n in 1 4; do
    read -r hw hs hl <<<"$(run hyphae "$size" "$n")"
    read -r lw ls ll <<<"$(run libtorrent "$size" "$n")"
    gib=$(calc "$size * $n / 1024")
    for row in "hyphae $hw $hs $hl" "libtorrent $lw $ls $ll"; do
      read -r who w s l <<<"$row"
      printf '%-10s %-9s %-10s %8.2f %9.1f %15.2f %16.2f\n' "${size}MiB" "$n" "$who" "$w" \
        "$(calc "$size * $n * 1.048576 / $w")" "$(calc "$s / $gib")" "$(calc "$l / $gib")"
    done
    printf '%-10s %-9s %-10s %8s %9s %15s %16s\n' "" "" "ratio" "" "$(calc "$lw / $hw")x" \
      "$(calc "($hs / $gib) / ($ls / $gib)")" "$(calc "($hl / $gib) / ($ll / $gib)")"
  done
  rm -rf "$work/data-$size"
done
echo "ratio: throughput is Hyphae/libtorrent (above 1: Hyphae faster); CPU is Hyphae/libtorrent (below 1: Hyphae cheaper)"
