"""The golden conformance logits, reproduced through Python."""
import dsv4
import numpy as np
import pytest

from conftest import golden_names


@pytest.mark.parametrize("name", golden_names())
def test_golden_logits(conformance, golden, name):
    g = golden(name)
    tokens = g["tokens"].astype(np.int32)
    with dsv4.Model(conformance / "golden" / name / "model") as m:
        s = m.session(ctx=len(tokens) + 8)
        for i, n in enumerate(g["prefill_lens"]):
            s.reset()
            s.prefill(tokens[:n])
            got = s.logits
            assert got.dtype == np.float32 and got.shape == g["prefill_logits"][i].shape
            assert np.abs(got - g["prefill_logits"][i]).max() < 1e-3
            assert got.argmax() == g["prefill_logits"][i].argmax()
        P = int(g["decode_start"])
        s.reset()
        s.prefill(tokens[:P])
        mtp = s.mtp_logits(int(tokens[P]))
        assert np.abs(mtp - g["mtp_logits"]).max() < 1e-3
        assert s.position == P
        for i, t in enumerate(tokens[P:]):
            s.decode(int(t))
            row = g["decode_logits"][i]
            got = s.logits
            assert np.abs(got - row).max() < 1e-3, f"decode row {i}"
            assert got.argmax() == row.argmax()


def test_logits_are_copies(tiny_dir):
    with dsv4.Model(tiny_dir) as m:
        s = m.session()
        s.prefill([3, 4, 5])
        a = s.logits
        a[:] = 0
        assert np.abs(s.logits).max() > 0
