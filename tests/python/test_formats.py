"""Number formats of the checkpoint layout (spec section 2) and the QAT grid rounding."""
import numpy as np
import pytest

from tinyv4 import formats


def test_e4m3_table_known_values():
    v = formats.E4M3_VALUES
    assert v[0x00] == 0 and v[0x01] == 2.0 ** -9          # smallest subnormal
    assert v[0x08] == 2.0 ** -6 and v[0x38] == 1.0
    assert v[0x7E] == 448 and v[0xFE] == -448
    assert np.isnan(v[0x7F]) and np.isnan(v[0xFF])


def test_round_to_grid_ties_to_even():
    # e2m1 grid 0 .5 1 1.5 2 3 4 6: midpoints go to the even mantissa
    got = formats.round_to_grid([0.25, 0.75, 1.25, 2.5, 3.5, 5.0, 5.5], "e2m1")
    assert list(got) == [0.0, 1.0, 1.0, 2.0, 4.0, 4.0, 6.0]
    # e4m3: 1 + 1/16 is halfway between 1 and 1.125 -> 1; 1 + 3/16 -> 1.25
    got = formats.round_to_grid([1.0625, 1.1875, 2.0 ** -10, 3 * 2.0 ** -10], "e4m3")
    assert list(got) == [1.0, 1.25, 0.0, 2.0 ** -8]


def test_fp8_block_quantization_roundtrip():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(200, 300)).astype(np.float32)      # ragged 128-blocks
    w[:128, :128] *= 1e-3
    q, s = formats.quantize_fp8_blocks(w)
    assert q.shape == w.shape and s.shape == (2, 3) and q.dtype == np.uint8
    back = formats.dequantize_fp8_blocks(q, s)
    # scale = 2^ceil(log2(amax/448)): the block's amax stays within the grid
    for i in range(2):
        for j in range(3):
            blk = w[i * 128:(i + 1) * 128, j * 128:(j + 1) * 128]
            k = int(s[i, j]) - 127
            assert 2.0 ** k >= np.abs(blk).max() / 448 > 2.0 ** (k - 1)
    assert np.abs(back - w).max() <= np.abs(w).max() * 2 ** -4
    assert np.all(np.isfinite(back))


def test_fp4_packing_low_nibble_first():
    w = np.zeros((1, 32), dtype=np.float32)
    w[0, 0], w[0, 1], w[0, 2] = 6.0, -0.5, 1.5               # amax 6 -> scale 1
    q, s = formats.quantize_fp4_rows(w)
    assert q.shape == (1, 16) and s.shape == (1, 1) and int(s[0, 0]) == 127
    b = q.view(np.uint8)
    assert b[0, 0] == (7 | (9 << 4))                          # 6.0 low, -0.5 high
    assert b[0, 1] == 3
    assert np.array_equal(formats.dequantize_fp4_rows(q, s), w)


def test_bf16_rounding():
    x = np.array([1.0, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -2.5], dtype=np.float32)
    back = formats.bf16_bits_to_f32(formats.f32_to_bf16_bits(x))
    assert list(back) == [1.0, 1.0, 1 + 2 ** -6, -2.5]


def test_torch_grid_matches_numpy():
    torch = pytest.importorskip("torch")
    from tinyv4 import quant
    v = np.random.default_rng(1).uniform(-448, 448, 5000)
    v[:100] *= 1e-4
    for fmt, lim in (("e4m3", 448), ("e2m1", 6)):
        x = np.clip(v / (448 / lim), -lim, lim)
        t = quant.round_to_grid(torch.tensor(x, dtype=torch.float32), fmt).double().numpy()
        assert np.array_equal(t, formats.round_to_grid(x.astype(np.float32), fmt))
