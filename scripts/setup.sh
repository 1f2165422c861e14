#!/usr/bin/env bash
# Installs the Debian 12 packages Hyphae needs; idempotent, installs only what is missing.
#   scripts/setup.sh build        compilers, build tools and libraries
#   scripts/setup.sh build test   ... and the real peers the tests run against
set -euo pipefail

declare -A sets
sets[build]="cmake ninja-build g++ pkg-config ccache clang-14 clang-format-14 libclang-rt-14-dev openssl libssl-dev libsodium-dev
  libasio-dev libabsl-dev libexpected-dev libfmt-dev libcli11-dev nlohmann-json3-dev libtomlplusplus-dev gnuplot-nox libgtest-dev libgmock-dev libbenchmark-dev"
sets[test]="mktorrent transmission-cli transmission-daemon python3-libtorrent opentracker"

wanted=()
for set in "${@:-build}"; do
  [[ -n "${sets[$set]:-}" ]] || { echo "setup.sh: unknown package set '$set' (known: ${!sets[*]})" >&2; exit 2; }
  for pkg in ${sets[$set]}; do wanted+=("$pkg"); done
done

missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

as_root=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  as_root=(sudo)
fi
echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
