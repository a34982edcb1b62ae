"""Number formats of the official V4 checkpoint layout (numpy only).

ARCHITECTURE-V4.md section 2: FP8 = e4m3fn with ue8m0 scales per 128x128 block, FP4 = e2m1
packed two per byte (low nibble first) with one ue8m0 scale per 32 inputs, BF16 elsewhere.
Quantizers round to nearest (ties to even) on the grid after dividing by a power-of-two
scale 2^ceil(log2(amax/qmax)), so that amax itself always lands inside the grid.
"""
import numpy as np

FP8_MAX = 448.0
FP4_MAX = 6.0
E2M1_VALUES = np.array([0, .5, 1, 1.5, 2, 3, 4, 6, -0.0, -.5, -1, -1.5, -2, -3, -4, -6],
                       dtype=np.float32)


def _e4m3_table():
    """Value of every e4m3fn byte (bias 7, subnormals, 0x7F / 0xFF are NaN)."""
    b = np.arange(256)
    sign = np.where(b >> 7, -1.0, 1.0)
    exp = (b >> 3) & 15
    man = b & 7
    val = np.where(exp == 0, man / 8.0 * 2.0 ** -6, (1 + man / 8.0) * 2.0 ** (exp - 7.0))
    val = sign * val
    val[[0x7F, 0xFF]] = np.nan
    return val.astype(np.float32)


E4M3_VALUES = _e4m3_table()
# Positive finite codes 0x00..0x7E are increasing in value: used to encode grid values.
_E4M3_POS = E4M3_VALUES[:0x7F].astype(np.float64)


def round_to_grid(v, fmt):
    """Round-to-nearest-even of float values (already within +-QMAX) onto e4m3 or e2m1."""
    mant, min_exp = (3, -6) if fmt == "e4m3" else (1, 0)
    v = np.asarray(v, dtype=np.float64)
    _, e = np.frexp(v)                      # |v| in [2^(e-1), 2^e)
    e = np.maximum(e - 1, min_exp)          # below the smallest normal: fixed subnormal step
    step = np.ldexp(1.0, e - mant)
    return np.round(v / step) * step        # np.round rounds half to even


def pow2_scale_exp(amax, qmax):
    """Exponent k of the ue8m0 scale 2^k = 2^ceil(log2(amax/qmax)) (amax > 0)."""
    return np.ceil(np.log2(np.asarray(amax, dtype=np.float64) / qmax)).astype(np.int64)


def encode_e4m3(q):
    """Grid values (exactly representable, |q| <= 448) -> e4m3fn bytes."""
    q = np.asarray(q, dtype=np.float64)
    idx = np.searchsorted(_E4M3_POS, np.abs(q))
    assert np.all(_E4M3_POS[np.minimum(idx, 0x7E)] == np.abs(q)), "value not on e4m3 grid"
    return (idx | np.where(q < 0, 0x80, 0)).astype(np.uint8)


def encode_e2m1(q):
    """Grid values (|q| <= 6, on the e2m1 grid) -> 4-bit codes (uint8 0..15)."""
    q = np.asarray(q, dtype=np.float64)
    idx = np.searchsorted(E2M1_VALUES[:8].astype(np.float64), np.abs(q))
    assert np.all(E2M1_VALUES[np.minimum(idx, 7)] == np.abs(q)), "value not on e2m1 grid"
    return (idx | np.where(q < 0, 8, 0)).astype(np.uint8)


def _exp_to_e8m0(k):
    k = np.asarray(k)
    assert np.all((k >= -127) & (k <= 127)), "scale exponent outside ue8m0"
    return (k + 127).astype(np.uint8)


def e8m0_to_float(s):
    return np.ldexp(1.0, s.astype(np.int64) - 127).astype(np.float32)


def quantize_fp8_blocks(w, block=128):
    """w [out, in] float -> (e4m3 bytes [out, in], ue8m0 bytes [ceil(out/128), ceil(in/128)])."""
    w = np.asarray(w, dtype=np.float64)
    out, inn = w.shape
    bo, bi = -(-out // block), -(-inn // block)
    pad = np.zeros((bo * block, bi * block))
    pad[:out, :inn] = w
    blocks = pad.reshape(bo, block, bi, block)
    amax = np.abs(blocks).max(axis=(1, 3))
    k = pow2_scale_exp(np.maximum(amax, 2.0 ** -100), FP8_MAX)
    scale = np.ldexp(1.0, k)[:, None, :, None]
    q = round_to_grid(np.clip(blocks / scale, -FP8_MAX, FP8_MAX), "e4m3")
    q = q.reshape(bo * block, bi * block)[:out, :inn]
    return encode_e4m3(q), _exp_to_e8m0(k)


def dequantize_fp8_blocks(codes, scale, block=128):
    w = E4M3_VALUES[codes].astype(np.float32)
    s = e8m0_to_float(scale)
    s = np.repeat(np.repeat(s, block, 0), block, 1)[:w.shape[0], :w.shape[1]]
    return w * s


def quantize_fp4_rows(w, block=32):
    """w [out, in] (in % 32 == 0) -> (packed int8 [out, in/2] low nibble = even element,
    ue8m0 bytes [out, in/32])."""
    w = np.asarray(w, dtype=np.float64)
    out, inn = w.shape
    assert inn % block == 0 and inn % 2 == 0, "FP4 needs input dims divisible by 32"
    blocks = w.reshape(out, inn // block, block)
    amax = np.abs(blocks).max(axis=2)
    k = pow2_scale_exp(np.maximum(amax, 2.0 ** -100), FP4_MAX)
    q = round_to_grid(np.clip(blocks / np.ldexp(1.0, k)[..., None], -FP4_MAX, FP4_MAX), "e2m1")
    codes = encode_e2m1(q.reshape(out, inn))
    packed = (codes[:, 0::2] | (codes[:, 1::2] << 4)).astype(np.uint8)
    return packed.view(np.int8), _exp_to_e8m0(k)


def dequantize_fp4_rows(packed, scale, block=32):
    p = packed.view(np.uint8)
    codes = np.empty((p.shape[0], p.shape[1] * 2), dtype=np.uint8)
    codes[:, 0::2] = p & 15
    codes[:, 1::2] = p >> 4
    w = E2M1_VALUES[codes]
    return w * np.repeat(e8m0_to_float(scale), block, 1)


def f32_to_bf16_bits(x):
    """float32 -> bf16 bit patterns (uint16), round to nearest even."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def bf16_bits_to_f32(b):
    return (np.asarray(b, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
