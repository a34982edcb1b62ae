"""Initial weights and the hash-routing table of the tiny model (seeded, deterministic)."""
import math

import numpy as np
import torch

from .model import QLinear

STD = 0.02


def init_weights(model, seed):
    """GPT-style normal init; residual output projections scaled down by sqrt(2 * blocks).
    Hyper-connections start near a plain residual: pre = 1/2 per stream, post = 1, the
    Sinkhorn matrix leaning to identity; small random hc_fn rows break the symmetry of the
    hc streams (they all start equal to the embedding)."""
    g = torch.Generator().manual_seed(seed)
    cfg = model.cfg
    blocks = cfg.num_hidden_layers + cfg.num_nextn_predict_layers
    hc = cfg.hc_mult
    with torch.no_grad():
        for name, mod in model.named_modules():
            if isinstance(mod, QLinear):
                out_proj = name.endswith(("wo_b", "w2"))
                std = STD / math.sqrt(2 * blocks) if out_proj else STD
                mod.weight.normal_(0.0, std, generator=g)
        model.embed.weight.normal_(0.0, STD, generator=g)
        for name, p in model.named_parameters():
            if name.endswith("_fn") and "hc_" in name:
                p.normal_(0.0, 0.01, generator=g)
            elif name.endswith("gate.weight"):
                p.normal_(0.0, STD, generator=g)
            elif name.endswith(("hc_attn_base", "hc_ffn_base")):
                p.zero_()
                p[2 * hc:].view(hc, hc).fill_diagonal_(1.0)


def hash_table(freq, n_experts, k, seed):
    """tid2eid for the hash-routed layers: each token id gets k distinct experts, frequent
    tokens first, always onto the currently least-loaded experts (load = corpus count),
    so expert loads come out balanced. Ties go by a seeded random order."""
    rng = np.random.default_rng(seed)
    V = len(freq)
    order = sorted(range(V), key=lambda t: (-int(freq[t]), t))
    load = np.zeros(n_experts)
    table = np.zeros((V, k), dtype=np.int64)
    for t in order:
        tie = rng.permutation(n_experts)
        pick = sorted(range(n_experts), key=lambda e: (load[e], tie[e]))[:k]
        table[t] = sorted(pick)
        load[pick] += int(freq[t]) + 1
    return torch.from_numpy(table)
