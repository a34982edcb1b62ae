"""The binding's view of what sessions read and hold (Session.stats, Model.estimate_session,
SessionInfo) and the machine probes behind `dsv4 bench` (dsv4.measure_*, dsv4.cpu_isa)."""
import math

import pytest

import dsv4

FORMATS = {"bf16", "fp8", "fp4"}


def test_stats_count_tokens_and_weight_bytes_per_call(tiny_dir):
    with dsv4.Model(tiny_dir) as m:
        s = m.session(ctx=64)
        st = s.stats
        assert (st.tokens, st.weight_bytes, st.last_tokens, st.last_weight_bytes) == (0, 0, 0, 0)
        assert set(st.matmul_bytes) == FORMATS and set(st.matmul_seconds) == FORMATS
        assert all(v == 0 for v in st.matmul_bytes.values())

        s.prefill([1, 2, 3, 4, 5])
        p = s.stats
        assert (p.tokens, p.last_tokens) == (5, 5)
        assert p.weight_bytes == p.last_weight_bytes > 0
        s.decode(6)
        d = s.stats
        assert (d.tokens, d.last_tokens) == (6, 1)
        assert d.weight_bytes == p.weight_bytes + d.last_weight_bytes
        # tiny-s4 has BF16 (head, compressors), FP8 (attention, shared expert) and FP4 (routed
        # experts) products; the bytes by format are part of what the calls read.
        for f in FORMATS:
            assert d.matmul_bytes[f] > p.matmul_bytes[f] > 0, f
            assert d.matmul_seconds[f] > p.matmul_seconds[f] > 0, f
        assert sum(d.matmul_bytes.values()) <= d.weight_bytes

        # The same step in a fresh session reads the same bytes.
        t = m.session(ctx=64)
        t.prefill([1, 2, 3, 4, 5])
        t.decode(6)
        assert t.stats.last_weight_bytes == d.last_weight_bytes
        assert t.stats.matmul_bytes == d.matmul_bytes


def test_stats_name_formats_by_the_weights_a_model_has(conformance):
    # tiny-fp8x-s1 keeps its routed experts in FP8: no FP4 product at all.
    with dsv4.Model(conformance / "golden" / "tiny-fp8x-s1" / "model") as m:
        s = m.session(ctx=16)
        s.prefill([3, 4, 5])
        st = s.stats
        assert st.matmul_bytes["fp4"] == 0 and st.matmul_seconds["fp4"] == 0
        assert st.matmul_bytes["fp8"] > 0 and st.matmul_bytes["bf16"] > 0


def test_estimate_session_is_what_a_session_holds(tiny_dir):
    with dsv4.Model(tiny_dir) as m:
        i = m.info
        for ctx in (1, 64, 1000):
            est = m.estimate_session(ctx)
            assert est == m.session(ctx=ctx).info, ctx
            assert est.position == 0 and est.n_ctx == ctx
        assert m.estimate_session(0) == m.session(ctx=0).info  # the library's default
        big = m.estimate_session(i.max_context)  # priced, not allocated
        assert big.n_ctx == i.max_context and big.state_bytes > m.estimate_session(1000).state_bytes
        # A window row or compressed entry: FP8 codes of the non-rotary dims, a scale byte per 64,
        # the rotary dims in float32; an indexer key: FP4 codes two a byte, a scale byte per 32.
        nope = i.head_dim - i.rope_head_dim
        assert big.kv_row_bytes == nope + math.ceil(nope / 64) + 4 * i.rope_head_dim
        assert big.index_key_bytes == i.index_head_dim // 2 + i.index_head_dim // 32
        assert big.state_bytes == (big.window_bytes + big.compressed_bytes + big.indexer_bytes + big.carry_bytes +
                                   big.history_bytes)
        with pytest.raises(dsv4.InvalidArgumentError, match="context limit"):
            m.estimate_session(i.max_context + 1)
        with pytest.raises(dsv4.InvalidArgumentError, match="ctx"):
            m.estimate_session(-1)


def test_machine_probes():
    assert dsv4.cpu_isa() in {"avx512fp16", "avx512vnni", "avx512", "avx2", "scalar"}
    for f in sorted(FORMATS):
        for threads in (1, 2):
            v = dsv4.measure_decode_kernel(f, threads=threads)
            assert math.isfinite(v) and v > 0, (f, threads)
    assert dsv4.measure_read_bandwidth(threads=1, buffer_bytes=32 << 20) > 0
    assert dsv4.measure_gemm_peak(threads=1, m=16, n=64, k=128) > 0
    with pytest.raises(dsv4.InvalidArgumentError, match="'fp16'"):
        dsv4.measure_decode_kernel("fp16")
    with pytest.raises(dsv4.InvalidArgumentError, match="threads"):
        dsv4.measure_decode_kernel("fp8", threads=-1)
    with pytest.raises(dsv4.InvalidArgumentError, match="threads"):
        dsv4.measure_read_bandwidth(threads=1 << 40)
    with pytest.raises(dsv4.InvalidArgumentError, match="buffer_bytes"):
        dsv4.measure_read_bandwidth(threads=1, buffer_bytes=1 << 60)
