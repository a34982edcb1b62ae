#!/usr/bin/env bash
# The ISA-specific kernel units (kernels_avx*.cpp, compiled under a
# `#pragma GCC target`) must define no weak or unique symbols. An inline
# function or template instantiated there (std::vector's members, <cmath>
# helpers) is emitted as a weak symbol, and the linker may keep that copy for
# the whole library: AVX-512 or AVX2 code that faults on CPUs without them.
# Usage: check_isa_units.sh OBJECT... (a ';'-separated list is split too).
set -euo pipefail
checked=0
status=0
for arg in "$@"; do
  IFS=';' read -r -a objs <<< "$arg"
  for obj in "${objs[@]}"; do
    case "$(basename "$obj")" in kernels_avx*.o) ;; *) continue ;; esac
    checked=$((checked + 1))
    # DW.ref.__gxx_personality_v0 (emitted where a unit has unwind tables, e.g. in the
    # ASan/UBSan build) is a pointer to the C++ runtime's personality routine: data, no ISA.
    bad=$(nm -C --defined-only "$obj" | awk '$2 ~ /^[WVu]$/ && $3 != "DW.ref.__gxx_personality_v0"' || true)
    if [ -n "$bad" ]; then
      echo "$obj defines weak symbols (compiled for its ISA, shared with the rest):" >&2
      echo "$bad" | head -20 >&2
      status=1
    fi
  done
done
[ "$checked" -gt 0 ] || { echo "no kernels_avx* objects among the arguments" >&2; exit 1; }
[ "$status" -eq 0 ] && echo "$checked ISA kernel units, no weak symbols"
exit "$status"
