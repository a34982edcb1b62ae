#!/usr/bin/env bash
# The ABI check must fail on an incompatible change: compare the committed
# baseline with a copy from which one exported function was removed.
# Usage: abi_check_catches_removal.sh SOURCE_DIR
set -uo pipefail
SRC=$1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
sed -e "/<elf-symbol name='dsv4_model_layer_ratio'/d" \
    -e "/<function-decl name='dsv4_model_layer_ratio'/,/<\/function-decl>/d" \
    "$SRC/abi/libdsv4.abi" > "$WORK/removed.abi"
cmp -s "$SRC/abi/libdsv4.abi" "$WORK/removed.abi" && { echo "the edit removed nothing" >&2; exit 1; }
if "$SRC/tests/packaging/abi_check.sh" --corpus "$SRC/abi/libdsv4.abi" "$WORK/removed.abi" "$SRC/include/dsv4"; then
  echo "abi_check.sh accepted a removed function" >&2
  exit 1
fi
echo "abi_check.sh rejects a removed function, as it must"
