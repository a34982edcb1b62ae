"""The training-side torch forward must equal the spec: it must reproduce the golden logits
that DeepSeek's reference code computed for the conformance checkpoints."""
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from tinyv4 import checkpoint  # noqa: E402

TOL = 1e-3   # max-abs per row, as conformance/README.md suggests


@pytest.mark.parametrize("name", ["tiny-s4", "tiny-pro-s4", "tiny-fp8x-s1"])
def test_golden_logits(conformance_dir, name):
    d = os.path.join(conformance_dir, "golden", name)
    model, _ = checkpoint.load_model(os.path.join(d, "model"))
    g = np.load(os.path.join(d, "golden.npz"))
    toks = torch.from_numpy(g["tokens"].astype(np.int64))[None]
    P = int(g["decode_start"])
    with torch.no_grad():
        logits, _ = model(toks)
        _, mtp = model(toks[:, :P], toks[:, 1:P + 1])   # MTP at P-1 is fed token P
    lg = logits[0].numpy()
    # a causal whole-sequence forward gives every prefill length and every decode step
    for m, row in zip(g["prefill_lens"], g["prefill_logits"]):
        assert np.abs(lg[m - 1] - row).max() < TOL
        assert lg[m - 1].argmax() == row.argmax()
    dec = g["decode_logits"]
    ours = lg[P:P + len(dec)]
    assert np.abs(ours - dec).max(axis=1).max() < TOL
    assert (ours.argmax(1) == dec.argmax(1)).all()
    assert np.abs(mtp[0, P - 1].numpy() - g["mtp_logits"]).max() < TOL
