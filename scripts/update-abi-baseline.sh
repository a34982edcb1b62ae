#!/usr/bin/env bash
# Regenerates abi/libdsv4.abi from a build, on purpose, after an intended ABI
# change. If the change is incompatible (a removed or changed function, a
# reordered struct), bump DSV4_ABI_VERSION in include/dsv4/dsv4.h and
# CMakeLists.txt first. Usage: scripts/update-abi-baseline.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
LIB=$(ls "$BUILD_DIR"/lib/libdsv4.so.*.*.* | head -n1)
abidw --no-corpus-path --no-show-locs --no-comp-dir-path --drop-private-types --exported-interfaces-only --headers-dir include/dsv4 --out-file abi/libdsv4.abi "$LIB"
echo "wrote abi/libdsv4.abi from $LIB"
