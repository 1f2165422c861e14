#!/usr/bin/env bash
# Builds Hyphae (release) and runs the main job on this machine: `hyphae demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target hyphae
exec build/release/apps/hyphae/hyphae demo "$@"
