#!/usr/bin/env bash
# Compares the built library's ABI with the committed baseline (abi/libdsv4.abi)
# using libabigail. Fails on any incompatible change; additions (new
# functions, appended enum values) are allowed.
# To accept an intended change (and bump DSV4_ABI_VERSION if incompatible),
# regenerate the baseline: scripts/update-abi-baseline.sh
# Usage: abi_check.sh LIBRARY BASELINE HEADER_DIR
#        abi_check.sh --corpus BASELINE CURRENT_ABI_XML HEADER_DIR   (two abidw files)
set -uo pipefail
if [ "$1" = "--corpus" ]; then
  shift
  BASELINE=$1 CURRENT=$2 HEADERS=$3
else
  LIB=$1 BASELINE=$2 HEADERS=$3
  CURRENT=$(mktemp)
  trap 'rm -f "$CURRENT"' EXIT
  abidw --no-corpus-path --no-show-locs --no-comp-dir-path --drop-private-types --exported-interfaces-only --headers-dir "$HEADERS" --out-file "$CURRENT" "$LIB" || exit 1
fi
abidiff --no-added-syms --headers-dir1 "$HEADERS" --headers-dir2 "$HEADERS" "$BASELINE" "$CURRENT"
rc=$?
# abidiff's exit status is a bit field: 1 error, 2 usage error, 4 ABI change,
# 8 incompatible ABI change.
if (( rc & 3 )); then echo "abidiff failed to run (status $rc)" >&2; exit 1; fi
if (( rc & 8 )); then echo "INCOMPATIBLE ABI change against $BASELINE" >&2; exit 1; fi
if (( rc & 4 )); then echo "ABI changed against $BASELINE (see above); if intended, run scripts/update-abi-baseline.sh" >&2; exit 1; fi
echo "ABI compatible with $BASELINE"
