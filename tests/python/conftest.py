"""Shared setup for the Python tooling tests: import path and conformance data location."""
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))


@pytest.fixture(scope="session")
def conformance_dir():
    # same default as CMakeLists.txt; fail (never skip) when the data is missing
    d = os.environ.get("DSV4_CONFORMANCE_DIR", os.path.join(REPO, "..", "shared", "conformance"))
    assert os.path.isdir(d), f"conformance data not found at {d} (set DSV4_CONFORMANCE_DIR)"
    return d
