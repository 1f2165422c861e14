#!/usr/bin/env bash
# Benchmark: create a torrent of one file in the page cache with Hyphae and with `mktorrent -t 2`
# in the same run; best of three wall times each, the ratio, and the 2-core SHA-1 limit from
# `openssl speed -multi 2 -evp sha1`. Not a test: it prints figures.
#
#   bench/create_torrent.sh [SIZE_MIB]      (default 512)
#
# The file is written twice: with 4 MiB writes (the kernel keeps it in large page-cache folios,
# which Hyphae's mapped reads map in whole) and with 4 KiB writes (4 KiB pages: every page costs
# a page-table entry to map). mktorrent read()s either way; both figures are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-512}
scripts/setup.sh build test
cmake --preset release >/dev/null
cmake --build --preset release --target hyphae >/dev/null
hyphae=$PWD/build/release/apps/hyphae/hyphae

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cores=$(nproc)

seconds_of() {  # runs "$@", prints its wall time in seconds
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s%N)
  awk -v ns=$((end - start)) 'BEGIN { printf "%.4f", ns / 1e9 }'
}

best_of_three() {
  local best="" t
  for _ in 1 2 3; do
    t=$(seconds_of "$@")
    if [[ -z $best ]] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
  done
  echo "$best"
}

limit_line=$(openssl speed -multi 2 -evp sha1 -seconds 3 2>/dev/null | grep -E '^sha1 ' | tail -1)
limit_bps=$(echo "$limit_line" | awk '{ v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 }')
bytes=$((size_mib * 1024 * 1024))
calc() { awk "BEGIN { printf \"%.4f\", $1 }"; }
limit_s=$(calc "$bytes / $limit_bps")

echo "create a torrent of ${size_mib} MiB, 256 KiB pieces, ${cores} cores, best of 3"
echo "SHA-1 limit (openssl speed -multi 2 -evp sha1, 16 KiB blocks): $(calc "$limit_bps / 1e9") GB/s -> ${limit_s} s"
for write_size in 4M 4K; do
  file=$work/content-$write_size.bin
  dd if=/dev/urandom of="$file" bs="$write_size" count=$((bytes / $(numfmt --from=iec "$write_size"))) status=none
  cat "$file" >/dev/null
  h=$(best_of_three "$hyphae" create "$file" -o "$work/h.torrent" --piece-size 256K --force)
  m=$(best_of_three bash -c "rm -f '$work/m.torrent'; mktorrent -t 2 -l 18 -a http://127.0.0.1:1/a -o '$work/m.torrent' '$file'")
  same=$([[ $("$hyphae" info --json "$work/h.torrent" | grep '"info_hash"') == $("$hyphae" info --json "$work/m.torrent" | grep '"info_hash"') ]] && echo yes || echo NO)
  printf '\nfile written with %s writes (info-hashes equal: %s)\n' "$write_size" "$same"
  printf '  hyphae create      %6.3f s   %5.2f GB/s\n' "$h" "$(calc "$bytes / $h / 1e9")"
  printf '  mktorrent -t 2     %6.3f s   %5.2f GB/s\n' "$m" "$(calc "$bytes / $m / 1e9")"
  printf '  speed-up vs mktorrent: %.2fx   hyphae time / SHA-1 limit: %.3f\n' \
    "$(calc "$m / $h")" "$(calc "$h / $limit_s")"
  rm -f "$file"
done
