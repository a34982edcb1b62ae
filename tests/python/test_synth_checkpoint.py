"""tools/synth_checkpoint.py writes a checkpoint the engine accepts, in the official layout."""
import json
import os
import subprocess
import sys

import dsv4
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_tiny_preset_loads_and_runs(tmp_path):
    out = tmp_path / "synth"
    subprocess.run([sys.executable, os.path.join(REPO, "tools", "synth_checkpoint.py"), "--preset", "tiny",
                    "-o", str(out), "--seed", "3"], check=True)
    cfg = json.loads((out / "config.json").read_text())
    assert len(cfg["compress_ratios"]) == cfg["num_hidden_layers"] + cfg["num_nextn_predict_layers"]
    with dsv4.Model(out) as m:
        assert m.info.hidden_size == 256 and m.info.experts_fp4
        s = m.session(ctx=64)
        s.prefill(list(range(2, 40)))
        assert np.isfinite(s.logits).all()


def test_flash_shape_layout_without_writing_it():
    sys.path.insert(0, os.path.join(REPO, "tools"))
    import synth_checkpoint as sc
    p = dict(sc.PRESETS["flash-shape"])
    cfg = dict(sc.COMMON, **p, num_hidden_layers=4, num_nextn_predict_layers=1)
    specs = {name: (dtype, shape) for name, dtype, shape, _ in sc.spec_tensors(cfg)}
    assert specs["layers.0.attn.wq_b.weight"] == ("F8_E4M3", [64 * 512, 1024])
    assert specs["layers.0.attn.wq_b.scale"] == ("F8_E8M0", [256, 8])
    assert specs["layers.0.attn.wo_a.weight"] == ("F8_E4M3", [8 * 1024, 64 * 512 // 8])
    assert specs["layers.1.ffn.experts.31.w2.weight"] == ("I8", [4096, 1024])
    assert specs["layers.1.ffn.experts.31.w2.scale"] == ("F8_E8M0", [4096, 64])
    assert specs["layers.0.ffn.gate.tid2eid"] == ("I64", [129280, 6])
    assert "layers.3.ffn.gate.bias" in specs and "layers.1.attn.indexer.wq_b.weight" not in specs
    assert specs["layers.2.attn.indexer.wq_b.weight"] == ("F8_E4M3", [64 * 128, 1024])
    assert specs["mtp.0.e_proj.weight"] == ("F8_E4M3", [4096, 4096])
