import dsv4
import numpy as np
import pytest


def test_version_and_backends():
    assert dsv4.version() == dsv4.__version__
    assert "cpu" in dsv4.backends() and "reference" in dsv4.backends()


def test_model_info_and_context_manager(tiny_dir):
    seen = []
    with dsv4.Model(tiny_dir, progress=lambda done, total: seen.append((done, total))) as m:
        info = m.info
        assert isinstance(info, dsv4.ModelInfo)
        assert info.hidden_size == 128 and info.vocab_size == 1024 and info.n_layers == 4
        assert info.compress_ratios == [0, 4, 128, 4, 0]
        assert info.experts_fp4
        assert 0 < info.active_params < info.total_params
        assert sum(info.bytes_by_dtype.values()) == info.total_bytes
    assert m.closed
    assert seen and seen[-1][0] == seen[-1][1]
    with pytest.raises(dsv4.InvalidArgumentError, match="closed"):
        m.session()


def test_progress_can_cancel(tiny_dir):
    with pytest.raises(dsv4.CancelledError):
        dsv4.Model(tiny_dir, progress=lambda done, total: False)


def test_progress_exception_propagates(tiny_dir):
    def boom(done, total):
        raise RuntimeError("from the callback")
    with pytest.raises(RuntimeError, match="from the callback"):
        dsv4.Model(tiny_dir, progress=boom)


def test_errors_map_to_exception_types(tmp_path, tiny_dir):
    with pytest.raises(dsv4.IOError, match="config.json") as e:
        dsv4.Model(tmp_path / "nowhere")
    assert isinstance(e.value, OSError) and isinstance(e.value, dsv4.Error) and e.value.status == 2
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    with pytest.raises(dsv4.FormatError, match="not valid JSON"):
        dsv4.Model(bad)
    with pytest.raises(dsv4.UnsupportedError, match="backend"):
        dsv4.Model(tiny_dir, backend="tpu")
    with dsv4.Model(tiny_dir) as m:
        s = m.session(ctx=8)
        with pytest.raises(dsv4.InvalidArgumentError, match="out of range"):
            s.prefill([5, 100000])
        assert s.position == 0
        with pytest.raises(dsv4.ContextFullError):
            s.prefill(list(range(9)))
        assert s.position == 0
        s.prefill([1, 2, 3])
        assert s.position == 3
        with pytest.raises(dsv4.InvalidArgumentError):
            dsv4.chat.encode([], mode="poetry")
