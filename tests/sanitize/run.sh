#!/usr/bin/env bash
# Builds the parsers with clang-14 + ASan/UBSan, runs the parser unit tests
# under the sanitizers, then fuzzes each parser for a bounded time
# (FUZZ_SECONDS, default 30) from seed corpora of real inputs: safetensors headers,
# config.json, tokenizer.json, text to encode, chat messages and completions.
# Usage: run.sh SOURCE_DIR BUILD_DIR CONFORMANCE_DIR
set -euo pipefail
SRC=$1 OUT=$2 CONF=$3
SECONDS_PER_TARGET=${FUZZ_SECONDS:-30}
CXX_BIN=$(command -v clang++-14 || command -v clang++)
cmake -S "$SRC/tests/sanitize" -B "$OUT" -DCMAKE_CXX_COMPILER="$CXX_BIN" -DCMAKE_BUILD_TYPE=None >/dev/null
cmake --build "$OUT" -j"$(nproc)" >/dev/null

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== parser tests under ASan/UBSan"
"$OUT/parser_tests_sanitized"

TARGETS="safetensors config tokenizer encode chat"
echo "== seed corpora"
rm -rf "$OUT/corpus"
for t in $TARGETS; do mkdir -p "$OUT/corpus/$t"; done
i=0
for d in "$CONF"/golden/*/model; do
  # The header alone (8-byte length + JSON) is enough to reach every check.
  len=$(od -An -t u8 -N 8 "$d/model.safetensors" | tr -d ' ')
  head -c $((8 + len)) "$d/model.safetensors" > "$OUT/corpus/safetensors/seed$i"
  cp "$d/config.json" "$OUT/corpus/config/seed$i.json"
  i=$((i + 1))
done
# tokenizer.json: the test fixture (8 KB), alone and with its tokenizer_config.json after a
# NUL byte; text to encode: the fixture's tokens and the
# official chat prompts; chat: each official case's messages and its prompt (which the
# completion parser also reads).
cp "$SRC/tests/data/tokenizer_fixture/tokenizer.json" "$OUT/corpus/tokenizer/fixture.json"
{ cat "$SRC/tests/data/tokenizer_fixture/tokenizer.json"; printf '\0'
  cat "$SRC/tests/data/tokenizer_fixture/tokenizer_config.json"; } > "$OUT/corpus/tokenizer/fixture-with-config"
cp "$SRC/tests/data/tokenizer_fixture/tokenizer.json" "$OUT/corpus/encode/fixture.json"
/usr/bin/python3 - "$CONF/encoding/cases.json" "$OUT/corpus" <<'PY'
import json, sys
cases = json.load(open(sys.argv[1], encoding="utf-8"))
for i, c in enumerate(cases):
    with open(f"{sys.argv[2]}/chat/messages{i}.json", "w", encoding="utf-8") as f:
        json.dump(c["messages"], f, ensure_ascii=False)
    for t in ("chat", "encode"):
        with open(f"{sys.argv[2]}/{t}/prompt{i}.txt", "w", encoding="utf-8") as f:
            f.write(c["expected_prompt"])
PY
# Inputs that once crashed a fuzzer stay in the corpus (run first, every time).
for t in $TARGETS; do
  for f in "$SRC"/tests/fuzz/regressions/$t/*; do
    [ -f "$f" ] && cp "$f" "$OUT/corpus/$t/"
  done
done

for t in $TARGETS; do
  echo "== fuzzing $t for ${SECONDS_PER_TARGET}s"
  "$OUT/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -rss_limit_mb=2048 \
    -print_final_stats=1 "$OUT/corpus/$t" 2>&1 | tail -n 12
done
echo "fuzzing and sanitizer checks passed"
