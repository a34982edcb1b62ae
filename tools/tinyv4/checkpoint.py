"""Model state <-> tensors of the official checkpoint layout (spec section 2).

Storage format per tensor follows from the module holding it: QLinear.fmt (fp8 / fp4 / bf16),
norms / embedding / gate weight in BF16, gate bias and hc / ape / sink parameters in F32,
tid2eid in I64. Loading dequantizes everything to float32 (what the engine computes with).
"""
import json
import os

import numpy as np
import torch

from . import formats, safetensors
from .config import V4Config
from .model import Gate, QLinear, RMSNorm, Transformer


def _bf16(t):
    return ("BF16", formats.f32_to_bf16_bits(t.detach().float().numpy()))


def to_tensors(model):
    """-> {name: (safetensors dtype, storage array)} in the official layout."""
    out = {}
    handled = set()
    for name, mod in model.named_modules():
        pre = name + "." if name else ""
        if isinstance(mod, QLinear):
            w = mod.weight.detach().float().numpy()
            if mod.fmt == "fp8":
                q, s = formats.quantize_fp8_blocks(w)
                out[pre + "weight"] = ("F8_E4M3", q)
                out[pre + "scale"] = ("F8_E8M0", s)
            elif mod.fmt == "fp4":
                q, s = formats.quantize_fp4_rows(w)
                out[pre + "weight"] = ("I8", q)
                out[pre + "scale"] = ("F8_E8M0", s)
            else:
                out[pre + "weight"] = _bf16(mod.weight)
            handled.add(pre + "weight")
        elif isinstance(mod, (RMSNorm, torch.nn.Embedding)):
            out[pre + "weight"] = _bf16(mod.weight)
            handled.add(pre + "weight")
        elif isinstance(mod, Gate):
            out[pre + "weight"] = _bf16(mod.weight)
            if mod.hashed:
                out[pre + "tid2eid"] = ("I64", mod.tid2eid.numpy().astype(np.int64))
            else:
                out[pre + "bias"] = ("F32", mod.bias.numpy().astype(np.float32))
            handled.update({pre + "weight", pre + "tid2eid", pre + "bias"})
    for name, t in model.state_dict().items():
        if name not in handled:                      # hc_*, ape, attn_sink: kept in F32
            out[name] = ("F32", t.detach().float().numpy())
    return out


def _dequantize(tensors):
    """{name: (dtype, array)} -> {param name: float32 numpy}, scales folded in."""
    out = {}
    for name, (dtype, arr) in tensors.items():
        if name.endswith(".scale") and (name[:-6] + ".weight") in tensors:
            continue
        if dtype == "F8_E4M3":
            s = tensors[name[:-7] + ".scale"][1]
            out[name] = formats.dequantize_fp8_blocks(arr, s)
        elif dtype == "I8":
            s = tensors[name[:-7] + ".scale"][1]
            out[name] = formats.dequantize_fp4_rows(arr, s)
        elif dtype == "BF16":
            out[name] = formats.bf16_bits_to_f32(arr)
        elif dtype == "I64":
            out[name] = arr.astype(np.int64)
        else:
            out[name] = arr.astype(np.float32)
    return out


def load_model(model_dir):
    """Build our torch model from an official-layout directory (config.json + safetensors)."""
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = V4Config.from_hf(json.load(f))
    path = os.path.join(model_dir, "model.safetensors")
    tensors, _ = safetensors.read(path)
    # expert_dtype may be absent from config.json: the tensors decide
    ex = [dt for n, (dt, _) in tensors.items() if ".experts." in n and n.endswith("w1.weight")]
    cfg.expert_dtype = "fp4" if ex and ex[0] == "I8" else "fp8"
    model = Transformer(cfg)
    values = _dequantize(tensors)
    state = model.state_dict()
    missing = set(state) - set(values)
    extra = set(values) - set(state)
    assert not missing and not extra, f"layout mismatch: missing {sorted(missing)[:5]}, " \
                                      f"unexpected {sorted(extra)[:5]}"
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)).to(state[k].dtype)
                           .view(state[k].shape) for k, v in values.items()})
    return model.eval(), cfg


def roundtrip_(model):
    """Replace the model's weights by their stored (quantized) values, in place."""
    values = _dequantize(to_tensors(model))
    state = model.state_dict()
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)).to(state[k].dtype)
                           .view(state[k].shape) for k, v in values.items()})
    return model
