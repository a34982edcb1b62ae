#!/usr/bin/env bash
# Installs the Debian 12 packages dsv4 needs (when missing) and builds it.
# Idempotent: re-running only rebuilds what changed. Needs no network beyond
# the Debian mirror. Usage: scripts/setup.sh [build-dir]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}

PACKAGES=(
  build-essential cmake pkg-config ccache git
  libeigen3-dev libdnnl-dev pybind11-dev python3-dev catch2 libfmt-dev nlohmann-json3-dev libpcre2-dev
  zlib1g-dev libbenchmark-dev
  abigail-tools clang-14 libclang-rt-14-dev
  python3-numpy python3-pytest python3-torch python3-regex
  python3-pip python3-setuptools python3-wheel
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js + npm run the tokenizer conformance test's reference implementation;
# a machine may already carry its own Node.js, which is then kept.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$BUILD_DIR" -j"$(nproc)"
echo "setup: built into $BUILD_DIR (the dsv4 program is $BUILD_DIR/bin/dsv4)"

# The engine's main job, on the embedded default model (models/dsv4-tiny-code):
# continue a line of Python.
echo "setup: generating with the embedded model:"
"$BUILD_DIR/bin/dsv4" run -p "def fibonacci(n):" -n 64 --temp 0.5 --top-p 0.9 --repeat-penalty 1.15 --seed 1
echo
