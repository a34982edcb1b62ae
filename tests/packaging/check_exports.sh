#!/usr/bin/env bash
# The shared library exports the public C ABI and nothing else: every defined
# dynamic symbol starts with dsv4_. Usage: check_exports.sh LIBRARY
set -euo pipefail
LIB=$1
syms=$(nm -D --defined-only "$LIB" | awk '{print $3}' | grep -v '^$')
[ -n "$syms" ] || { echo "no exported symbols in $LIB" >&2; exit 1; }
bad=$(echo "$syms" | grep -v '^dsv4_' || true)
if [ -n "$bad" ]; then
  echo "symbols exported outside dsv4_*:" >&2
  echo "$bad" | head -20 >&2
  exit 1
fi
echo "$(echo "$syms" | wc -l) exported symbols, all dsv4_*"
