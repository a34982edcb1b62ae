"""Session state from Python: snapshots (bytes and files), forks, truncation and batched
verification give bit for bit the logits of a session that got there directly."""
import gc

import dsv4
import numpy as np
import pytest


@pytest.fixture(scope="module")
def model(tiny_dir):
    with dsv4.Model(tiny_dir) as m:
        yield m


# 70 tokens cross ratio-4 block ends and the 64-token window's wrap of tiny-s4.
TOKENS = [(i * 37 + 11) % 1000 for i in range(90)]


def fed(model, n, ctx=256):
    s = model.session(ctx=ctx)
    s.prefill(TOKENS[:n])
    return s


def same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def continue_both(a, b, tokens):
    for t in tokens:
        a.decode(t)
        b.decode(t)
        assert same(a.logits, b.logits)
        assert same(a.mtp_logits(3), b.mtp_logits(3))


def test_snapshot_restores_into_a_new_session(model):
    a = fed(model, 70)
    data = a.snapshot()
    assert isinstance(data, bytes) and data[:8] == b"DSV4SNAP"
    b = model.session(ctx=256)
    b.restore(data)
    assert b.position == 70 and same(a.logits, b.logits)
    # A snapshot of the restored session is the same bytes; any bytes-like object restores.
    assert b.snapshot() == data
    c = model.session(ctx=128)
    c.restore(memoryview(bytearray(data)))
    continue_both(a, b, TOKENS[70:76])
    continue_both(c, fed(model, 70), TOKENS[70:73])


def test_save_and_load_files(model, tmp_path):
    a = fed(model, 40)
    path = tmp_path / "state.dsv4"
    a.save(path)
    assert path.read_bytes() == a.snapshot()
    b = model.session(ctx=64)
    b.load(str(path))
    continue_both(a, b, TOKENS[40:45])
    with pytest.raises(dsv4.IOError):
        b.load(tmp_path / "missing")
    assert b.position == 45


def test_damaged_and_oversized_snapshots_are_refused(model):
    a = fed(model, 50)
    data = bytearray(a.snapshot())
    victim = fed(model, 10)
    before = victim.snapshot()
    data[len(data) // 2] ^= 1
    with pytest.raises(dsv4.FormatError, match="checksum"):
        victim.restore(data)
    with pytest.raises(dsv4.FormatError, match="truncated"):
        victim.restore(a.snapshot()[:100])
    with pytest.raises(dsv4.FormatError, match="not a dsv4 session snapshot"):
        victim.restore(b"hello world" * 20)
    with pytest.raises(dsv4.InvalidArgumentError, match="n_ctx"):
        model.session(ctx=32).restore(a.snapshot())
    with pytest.raises(TypeError):
        victim.restore("a str is not bytes")
    assert victim.position == 10 and victim.snapshot() == before


def test_fork_branches_independently(model):
    a = fed(model, 66)
    f = a.fork()
    assert isinstance(f, dsv4.Session) and f.model is model
    assert f.position == 66 and same(f.logits, a.logits)
    assert f.info.n_ctx == a.info.n_ctx
    # The branches go their own ways, and each matches a session fed the same tokens.
    a.decode(5)
    f.decode(9)
    assert not same(a.logits, f.logits)
    direct = fed(model, 66)
    direct.decode(9)
    assert same(direct.logits, f.logits)
    # The fork outlives its parent (its abort callback is its own, not the parent's).
    del a
    gc.collect()
    f.decode(7)
    assert f.position == 68


def test_truncate_and_verify(model):
    s = fed(model, 80)
    rows = s.verify(TOKENS[80:84])
    assert rows.shape == (4, model.info.vocab_size) and rows.dtype == np.float32
    assert s.position == 84
    d = fed(model, 80)
    for i, t in enumerate(TOKENS[80:84]):
        d.decode(t)
        assert same(rows[i], d.logits)
    s.truncate(82)  # within the rings: cheap
    assert s.position == 82 and same(s.logits, rows[1])
    s.truncate(20)  # past them: re-runs the kept tokens
    assert same(s.logits, fed(model, 20).logits)
    with pytest.raises(dsv4.InvalidArgumentError):
        s.truncate(21)
    with pytest.raises(dsv4.InvalidArgumentError):
        s.truncate(-1)
    with pytest.raises(dsv4.InvalidArgumentError):
        s.verify([])
    with pytest.raises(dsv4.InvalidArgumentError, match="out of range"):
        s.verify([1, 100000])
    assert s.position == 20
