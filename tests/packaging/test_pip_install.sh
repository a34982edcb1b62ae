#!/usr/bin/env bash
# `pip install .` of the source tree (pyproject.toml + setup.py, no build isolation, no
# network) into a temporary folder, then imports the installed dsv4 package from outside
# the source tree, with nothing else on the path, and generates a few tokens with the
# embedded model. setup.py rebuilds the library (Release, through ccache when present) in
# WORK_DIR, which is kept between runs so that a rerun is incremental.
# Usage: test_pip_install.sh SOURCE_DIR WORK_DIR PYTHON
set -euo pipefail
SRC=$1 WORK=$2 PY=$3
mkdir -p "$WORK"
TMP=$(mktemp -d "$WORK/run.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
TARGET=$TMP/site RUN=$TMP/cwd   # RUN: an empty working folder, outside the source tree
mkdir -p "$RUN"

"$PY" -m pip --version || { echo "FAIL: no pip for $PY (Debian: apt-get install python3-pip; scripts/setup.sh does)"; exit 1; }

echo "== pip install --no-build-isolation --no-deps --target $TARGET $SRC"
start=$(date +%s)
export DSV4_SETUP_BUILD_DIR=$WORK/setuptools
(cd "$SRC" && "$PY" -m pip install --no-build-isolation --no-deps --no-index --disable-pip-version-check \
   --target "$TARGET" .) || { echo "FAIL: pip install . failed"; exit 1; }
echo "pip install took $(( $(date +%s) - start ))s"

echo "== installed files"
ext=$(ls "$TARGET"/dsv4/_dsv4*.so)
for f in __init__.py __init__.pyi chat.py chat.pyi py.typed; do
  test -f "$TARGET/dsv4/$f" || { echo "FAIL: $f missing from the installed package"; exit 1; }
done
if ldd "$ext" | grep -q libdsv4; then echo "FAIL: $ext needs libdsv4.so at run time"; ldd "$ext"; exit 1; fi
if nm -D --defined-only "$ext" | grep -q ' dsv4_'; then echo "FAIL: $ext exports dsv4_* symbols"; exit 1; fi

echo "== import and generate (from $TARGET only)"
WANT=$(grep -m1 'DSV4_VERSION_STRING' "$SRC/include/dsv4/dsv4.h" | sed 's/.*"\(.*\)".*/\1/')
cd "$RUN"
env -u LD_LIBRARY_PATH PYTHONPATH="$TARGET" PYTHONNOUSERSITE=1 PYTHONDONTWRITEBYTECODE=1 \
  "$PY" - "$TARGET" "$SRC/models/dsv4-tiny-code" "$WANT" <<'PYEOF'
import importlib.metadata, os, sys
target, model_dir, want = sys.argv[1:]
import dsv4
assert os.path.dirname(os.path.dirname(os.path.realpath(dsv4.__file__))) == os.path.realpath(target), dsv4.__file__
assert dsv4.__version__ == want, (dsv4.__version__, want)
dist = importlib.metadata.distribution("dsv4")
assert dist.version == want, (dist.version, want)
assert any(r.startswith("numpy") for r in dist.requires or []), dist.requires
with dsv4.Model(model_dir) as m:
    print(m.info.n_layers, "layers, backend", m.info.backend)
    ids = list(m.session(ctx=256).generate("def fibonacci(n):", max_tokens=8, temperature=0,
                                           stop_at_eos=False, ids_only=True))
    assert len(ids) == 8, ids
    text = "".join(m.session(ctx=256).generate("def fibonacci(n):", max_tokens=8, temperature=0))
    print("generated:", repr(text))
    assert text, "empty generation"
print("pip install test passed:", dsv4.__file__)
PYEOF
