"""Shared setup for the Python tests (the binding and the tooling): import path for
tools/, and the conformance data location, which must exist (fail, never skip)."""
import json
import os
import sys
from pathlib import Path

# torch picks its vector kernels (AVX2 or AVX-512) per machine, and float32 reductions
# round differently on each; the golden comparisons of the torch forward sit close to
# FP8 / FP4 grid midpoints, so every machine runs the same (AVX2) kernels. Set before
# anything imports torch.
os.environ.setdefault("ATEN_CPU_CAPABILITY", "avx2")

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))


def _conformance() -> Path:
    d = Path(os.environ.get("DSV4_CONFORMANCE_DIR", REPO.parent / "shared" / "conformance"))
    if not d.is_dir():
        pytest.fail(f"conformance vectors not found at {d} (expected ../shared/conformance beside the clone)")
    return d


@pytest.fixture(scope="session")
def conformance() -> Path:
    return _conformance()


def golden_names():
    root = _conformance() / "golden"
    names = sorted(p.name for p in root.iterdir() if (p / "golden.npz").is_file())
    if not names:
        pytest.fail(f"no golden checkpoints under {root}")
    return names


@pytest.fixture(scope="session")
def conformance_dir(conformance) -> str:
    return str(conformance)


@pytest.fixture(scope="session")
def tiny_dir(conformance) -> Path:
    return conformance / "golden" / "tiny-s4" / "model"


@pytest.fixture(scope="session")
def golden(conformance):
    def load(name):
        z = np.load(conformance / "golden" / name / "golden.npz")
        return {k: z[k] for k in z.files}
    return load


@pytest.fixture(scope="session")
def encoding_cases(conformance):
    return json.loads((conformance / "encoding" / "cases.json").read_text(encoding="utf-8"))
