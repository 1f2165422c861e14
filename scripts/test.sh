#!/usr/bin/env bash
# Builds and runs every test: unit, layering, interop with real peers, e2e (ASan+UBSan build);
# builds the release preset; then runs the libFuzzer smoke (clang build). Exits non-zero on the
# first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build test
jobs=$(nproc)

cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
ctest --preset asan -j "$jobs"

# The release build (demo, benchmarks) must keep compiling too; -O2 brings its own warnings.
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs"
ctest --preset fuzz -j "$jobs"
