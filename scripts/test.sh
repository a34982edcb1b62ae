#!/usr/bin/env bash
# Runs the whole test suite of a build made by scripts/setup.sh: ctest (C++ unit
# and conformance tests, C header check, packaging, ABI, fuzzing) and pytest
# for the Python binding. Usage: scripts/test.sh [build-dir]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
[ -d "$BUILD_DIR" ] || { echo "test: no build in $BUILD_DIR; run scripts/setup.sh first" >&2; exit 1; }
cd "$BUILD_DIR"
ctest --output-on-failure -j"$(nproc)" --timeout 1200
