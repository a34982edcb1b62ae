#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds and runs consumer
# programs in C and C++ against it, once through find_package(dsv4) and once
# through pkg-config. Usage: test_consumer.sh BUILD_DIR SOURCE_DIR MODEL_DIR
set -euo pipefail
BUILD=$1 SRC=$2 MODEL=$3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PREFIX=$WORK/prefix
cmake --install "$BUILD" --prefix "$PREFIX" >/dev/null
export LD_LIBRARY_PATH=$PREFIX/lib:$PREFIX/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

echo "== find_package(dsv4)"
cmake -S "$SRC/tests/packaging/consumer" -B "$WORK/cmake-build" -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
cmake --build "$WORK/cmake-build" >/dev/null
"$WORK/cmake-build/consumer_c" "$MODEL"
"$WORK/cmake-build/consumer_cpp" "$MODEL"

echo "== pkg-config dsv4"
PC_DIR=$(dirname "$(find "$PREFIX" -name dsv4.pc | head -n1)")
export PKG_CONFIG_PATH=$PC_DIR
[ "$(pkg-config --modversion dsv4)" = "$(grep -m1 'DSV4_VERSION_STRING' "$SRC/include/dsv4/dsv4.h" | sed 's/.*"\(.*\)".*/\1/')" ]
cc -std=c99 -pedantic -Werror "$SRC/tests/packaging/consumer/consumer.c" $(pkg-config --cflags --libs dsv4) -o "$WORK/pc_c"
c++ -std=c++17 "$SRC/tests/packaging/consumer/consumer.cpp" $(pkg-config --cflags --libs dsv4) -o "$WORK/pc_cpp"
"$WORK/pc_c" "$MODEL"
"$WORK/pc_cpp" "$MODEL"

echo "== installed files"
test -x "$PREFIX/bin/dsv4"
"$PREFIX/bin/dsv4" --version
ls "$PREFIX"/lib*/libdsv4.so.* >/dev/null 2>&1 || ls "$PREFIX"/lib/*/libdsv4.so.* >/dev/null
echo "consumer test passed"
