"""The spec's quantization simulations in torch, differentiable by straight-through estimate.

ARCHITECTURE-V4.md "Quantization simulation": blocks of B along the last dim,
scale = 2^ceil(log2(amax/QMAX)) (amax floored), v <- round_to_grid(clamp(v/scale)) * scale with
round-to-nearest-even. The model was trained with these in the forward, so our training
forward applies them too; the backward treats them as identity (STE), the usual QAT choice.
The same functions (with a 2-D block) simulate FP8 / FP4 weight storage for weight QAT.
"""
import torch

from . import sums

FP8 = ("e4m3", 448.0, 1e-4)
FP4 = ("e2m1", 6.0, 6 * 2.0 ** -126)


def round_to_grid(v, fmt):
    """Round-to-nearest-even onto e4m3 (3 mantissa bits, min normal 2^-6) or e2m1
    (1 mantissa bit, min normal 2^0); v must already be clamped to +-QMAX."""
    mant, min_exp = (3, -6) if fmt == "e4m3" else (1, 0)
    _, e = torch.frexp(v)                               # |v| in [2^(e-1), 2^e)
    e = torch.clamp(e - 1, min=min_exp)
    step = torch.pow(2.0, (e - mant).to(v.dtype))       # exact power of two
    return torch.round(v / step) * step                  # torch.round: half to even


def _fake_quant(xb, fmt, qmax, floor):
    """xb [..., block]: quantize each row (last dim) with one power-of-two scale."""
    amax = xb.abs().amax(dim=-1, keepdim=True).clamp_min(floor)
    scale = torch.pow(2.0, torch.ceil(torch.log2(amax / qmax)))
    return round_to_grid(torch.clamp(xb / scale, -qmax, qmax), fmt) * scale


def _ste(x, q):
    return x + (q - x).detach() if x.requires_grad else q


def act_sim(x, block, kind):
    """Activation simulation of the spec along the last dim (kind = FP8 or FP4)."""
    fmt, qmax, floor = kind
    with torch.no_grad():
        xb = x.detach().float().reshape(*x.shape[:-1], x.shape[-1] // block, block)
        q = _fake_quant(xb, fmt, qmax, floor).reshape(x.shape).to(x.dtype)
    return _ste(x, q)


def kv_fp8_sim(kv, nope):
    """FP8 simulation of the first `nope` dims of kv (blocks of 64); rope dims stay as is."""
    return torch.cat([act_sim(kv[..., :nope], 64, FP8), kv[..., nope:]], dim=-1)


def weight_fp8_sim(w):
    """FP8 e4m3 weight storage with one scale per 128x128 block (ragged edges allowed)."""
    with torch.no_grad():
        out, inn = w.shape
        bo, bi = -(-out // 128), -(-inn // 128)
        pad = w.new_zeros(bo * 128, bi * 128)
        pad[:out, :inn] = w.detach()
        blocks = pad.view(bo, 128, bi, 128).permute(0, 2, 1, 3).reshape(bo, bi, 128 * 128)
        # floor far below any real weight so empty padding never sets the scale
        q = _fake_quant(blocks, "e4m3", 448.0, 2.0 ** -100)
        q = q.view(bo, bi, 128, 128).permute(0, 2, 1, 3).reshape(bo * 128, bi * 128)
        q = q[:out, :inn].contiguous()
    return _ste(w, q)


def weight_fp4_sim(w):
    """FP4 e2m1 weight storage with one scale per 32 consecutive inputs."""
    with torch.no_grad():
        out, inn = w.shape
        q = _fake_quant(w.detach().view(out, inn // 32, 32), "e2m1", 6.0, 2.0 ** -100)
        q = q.view(out, inn)
    return _ste(w, q)


def weight_bf16_sim(w):
    with torch.no_grad():
        q = w.detach().to(torch.bfloat16).float()
    return _ste(w, q)


_HADAMARD = {}


def hadamard(x):
    """Sylvester-ordered Walsh-Hadamard transform of the last dim, scaled by n^-1/2."""
    n = x.shape[-1]
    if n not in _HADAMARD:
        h = torch.ones(1, 1)
        while h.shape[0] < n:
            h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
        assert h.shape[0] == n, "Hadamard size must be a power of two"
        _HADAMARD[n] = h * n ** -0.5
    return sums.matmul(x, _HADAMARD[n].to(x.dtype))
