"""The exporter writes the official checkpoint layout: for the golden tiny-s4 config it
must produce exactly the golden file's tensor names, dtypes and shapes, and what it writes
must load back to the same (quantized) weights."""
import json
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from tinyv4 import checkpoint, safetensors  # noqa: E402
from tinyv4.config import V4Config  # noqa: E402
from tinyv4.init import init_weights  # noqa: E402
from tinyv4.model import Transformer  # noqa: E402

from conftest import REPO  # noqa: E402

MODEL = os.path.join(REPO, "models", "dsv4-tiny-code")


def _header(tensors):
    return {n: (dt, list(a.shape)) for n, (dt, a) in tensors.items()}


def test_layout_matches_golden(conformance_dir, tmp_path):
    gdir = os.path.join(conformance_dir, "golden", "tiny-s4", "model")
    golden, meta = safetensors.read(os.path.join(gdir, "model.safetensors"))
    cfg = V4Config.load(os.path.join(gdir, "config.json"))
    model = Transformer(cfg)
    init_weights(model, 0)
    ours = checkpoint.to_tensors(model)
    assert _header(ours) == _header(golden)
    # written file reads back identical, and loads into a model with the stored values
    path = tmp_path / "model.safetensors"
    safetensors.write(str(path), ours)
    back, meta2 = safetensors.read(str(path))
    assert meta2 == meta == {"format": "pt"}
    for n in ours:
        assert np.array_equal(back[n][1], ours[n][1]), n
    with open(tmp_path / "config.json", "w") as f:
        json.dump(cfg.hf_dict(), f)
    loaded, _ = checkpoint.load_model(str(tmp_path))
    ref = checkpoint.roundtrip_(model)
    for (n, a), (_, b) in zip(loaded.state_dict().items(), ref.state_dict().items()):
        assert torch.equal(a, b), n


def test_config_keys_match_golden(conformance_dir):
    with open(os.path.join(conformance_dir, "golden", "tiny-s4", "model", "config.json")) as f:
        golden = json.load(f)
    cfg = V4Config.from_hf(golden)
    assert cfg.hf_dict() == golden


def test_shipped_model():
    """The committed default model: layout, size budget, and config consistency."""
    path = os.path.join(MODEL, "model.safetensors")
    if not os.path.exists(path):
        pytest.fail("models/dsv4-tiny-code/model.safetensors missing")
    total = sum(os.path.getsize(os.path.join(MODEL, n)) for n in os.listdir(MODEL))
    assert total < 30e6
    cfg = V4Config.load(os.path.join(MODEL, "config.json")).check()
    tensors, _ = safetensors.read(path)
    ref = checkpoint.to_tensors(Transformer(cfg))
    assert _header(tensors) == _header(ref)
    assert tensors["embed.weight"][0] == "BF16"
    assert tensors["layers.1.ffn.experts.0.w1.weight"][0] == "I8"
    assert tensors["layers.0.ffn.gate.tid2eid"][0] == "I64"
