"""DeepSeek-V4 forward in torch, in training form: whole causal sequences from position 0.

Every formula follows ARCHITECTURE-V4.md section 3; comments name the spec step. Parameter
names equal the checkpoint tensor names (spec section 2), so export is a 1:1 mapping.
A sequence forward here equals a fresh engine session prefilled with the same tokens, and by
causality its logits at position p equal the decode logits after feeding token p.

Training-only extras (no effect on the forward values):
  - quantization simulations use straight-through gradients (quant.py);
  - optional weight QAT (`set_weight_qat`) simulates FP8 / FP4 / BF16 weight storage;
  - the indexer gets an auxiliary KL loss towards the main attention (top-k has no gradient);
  - MoE gates report per-expert loads for the aux-loss-free bias update.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import quant, sums


class QLinear(nn.Linear):
    """Bias-free linear whose weight is stored as `fmt` in the checkpoint (fp8 / fp4 / bf16).
    With QAT on, the forward uses the storage-rounded weight (straight-through)."""

    def __init__(self, inn, out, fmt):
        super().__init__(inn, out, bias=False)
        self.fmt = fmt
        self.qat = False

    def effective_weight(self):
        if not self.qat:
            return self.weight
        return {"fp8": quant.weight_fp8_sim, "fp4": quant.weight_fp4_sim,
                "bf16": quant.weight_bf16_sim}[self.fmt](self.weight)

    def forward(self, x):
        return sums.linear(x, self.effective_weight())


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
        self.qat = False

    def forward(self, x):
        w = quant.weight_bf16_sim(self.weight) if self.qat else self.weight
        return w * (x * torch.rsqrt(x.square().mean(-1, keepdim=True) + self.eps))


# ----------------------------------------------------------------------------- RoPE
def rope_freqs(cfg, compressed):
    """Per-pair angular speeds w_i (float32). R = 0 layers: rope_theta, no YaRN.
    R > 0 layers and their indexer: compress_rope_theta with the YaRN ramp (spec "RoPE")."""
    r = cfg.qk_rope_head_dim
    base = cfg.compress_rope_theta if compressed else cfg.rope_theta
    w = 1.0 / (base ** (torch.arange(0, r, 2, dtype=torch.float32) / r))
    if compressed and cfg.rope_original_max_position > 0:
        orig = cfg.rope_original_max_position

        def corr(rot):
            return r * math.log(orig / (rot * 2 * math.pi)) / (2 * math.log(base))
        low = max(math.floor(corr(cfg.rope_beta_fast)), 0)
        high = min(math.ceil(corr(cfg.rope_beta_slow)), r - 1)
        if low == high:
            high += 0.001
        ramp = ((torch.arange(r // 2, dtype=torch.float32) - low) / (high - low)).clamp(0, 1)
        w = w / cfg.rope_factor * ramp + w * (1 - ramp)
    return w


def rope_cos_sin(w, positions):
    ang = torch.outer(positions.to(torch.float32), w)
    return torch.cos(ang), torch.sin(ang)


def apply_rope(x, cos, sin, inverse=False):
    """Rotate interleaved pairs (2i, 2i+1) of the LAST r dims of x by angle p*w_i (or -p*w_i).
    x: [B, T, ..., dim]; cos/sin: [T, r/2]."""
    r = cos.shape[-1] * 2
    shape = (1, cos.shape[0]) + (1,) * (x.dim() - 3) + (cos.shape[1],)
    c, s = cos.view(shape), sin.view(shape)
    if inverse:
        s = -s
    xr = x[..., -r:]
    a, b = xr[..., 0::2], xr[..., 1::2]
    rot = torch.stack([a * c - b * s, a * s + b * c], dim=-1).flatten(-2)
    return torch.cat([x[..., :-r], rot], dim=-1)


# ----------------------------------------------------------------------------- Compressor
class Compressor(nn.Module):
    """Gated pooling of R consecutive tokens into one entry (spec "Compressor").
    width = d (attention) or di (indexer); overlapping windows iff R = 4."""

    def __init__(self, cfg, ratio, width, for_indexer):
        super().__init__()
        self.ratio, self.width, self.for_indexer = ratio, width, for_indexer
        self.overlap = ratio == 4
        k = 2 if self.overlap else 1
        self.ape = nn.Parameter(torch.zeros(ratio, k * width))
        self.wkv = QLinear(cfg.hidden_size, k * width, "bf16")
        self.wgate = QLinear(cfg.hidden_size, k * width, "bf16")
        self.norm = RMSNorm(width, cfg.rms_norm_eps)
        self.nope = cfg.head_dim - cfg.qk_rope_head_dim

    def forward(self, x, cos, sin):
        """x [B,T,D] -> entries [B, T//R, width] (only complete blocks exist)."""
        B, T, _ = x.shape
        R, c = self.ratio, self.width
        nb = T // R
        if nb == 0:                                                         # no complete block yet
            return x.new_zeros(B, 0, c)
        kc = self.ape.shape[1]
        a = self.wkv(x[:, :nb * R]).view(B, nb, R, kc)
        g = self.wgate(x[:, :nb * R]).view(B, nb, R, kc) + self.ape       # g_t + ape[t mod R]
        if self.overlap:
            # block b: the R rows of block b-1 with their FIRST c dims, then the R rows of
            # block b with their LAST c dims; block 0 has no predecessor (score -inf).
            prev_a = F.pad(a[:, :-1, :, :c], (0, 0, 0, 0, 1, 0))
            prev_g = F.pad(g[:, :-1, :, :c], (0, 0, 0, 0, 1, 0), value=float("-inf"))
            a = torch.cat([prev_a, a[..., c:]], dim=2)
            g = torch.cat([prev_g, g[..., c:]], dim=2)
        e = (a * torch.softmax(g, dim=2)).sum(dim=2)                     # per-dimension softmax
        e = self.norm(e)
        pos = torch.arange(nb) * R                                         # entry b at position bR
        e = apply_rope(e, cos[pos], sin[pos])
        if self.for_indexer:
            return quant.act_sim(quant.hadamard(e), 32, quant.FP4)
        return quant.kv_fp8_sim(e, self.nope)


# ----------------------------------------------------------------------------- Indexer
class Indexer(nn.Module):
    """Chooses, per query, the top-Ki compressed entries of a CSA (R = 4) layer."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.heads, self.dim = cfg.index_n_heads, cfg.index_head_dim
        self.wq_b = QLinear(cfg.q_lora_rank, self.heads * self.dim, "fp8")
        self.weights_proj = QLinear(cfg.hidden_size, self.heads, "bf16")
        self.compressor = Compressor(cfg, 4, self.dim, for_indexer=True)

    def scores(self, x, qr, cos, sin):
        """-> index scores [B, T, nb] (before masking) = sum_h w_h * relu(q_h . k_b)."""
        B, T, _ = x.shape
        q = self.wq_b(qr).view(B, T, self.heads, self.dim)
        q = apply_rope(q, cos[:T], sin[:T])
        q = quant.act_sim(quant.hadamard(q), 32, quant.FP4)
        k = self.compressor(x, cos, sin)                                   # [B, nb, di]
        w = self.weights_proj(x) * (self.dim ** -0.5 * self.heads ** -0.5)
        s = torch.relu(sums.einsum("bthd,bnd->bthn", q, k))
        return (s * w.unsqueeze(-1)).sum(dim=2)


# ----------------------------------------------------------------------------- Attention
class Attention(nn.Module):
    def __init__(self, cfg, ratio):
        super().__init__()
        self.cfg, self.ratio = cfg, ratio
        H, d = cfg.num_attention_heads, cfg.head_dim
        self.H, self.d, self.r = H, d, cfg.qk_rope_head_dim
        self.nope = d - self.r
        self.attn_sink = nn.Parameter(torch.zeros(H))
        self.wq_a = QLinear(cfg.hidden_size, cfg.q_lora_rank, "fp8")
        self.q_norm = RMSNorm(cfg.q_lora_rank, cfg.rms_norm_eps)
        self.wq_b = QLinear(cfg.q_lora_rank, H * d, "fp8")
        self.wkv = QLinear(cfg.hidden_size, d, "fp8")
        self.kv_norm = RMSNorm(d, cfg.rms_norm_eps)
        self.wo_a = QLinear(H * d // cfg.o_groups, cfg.o_groups * cfg.o_lora_rank, "fp8")
        self.wo_b = QLinear(cfg.o_groups * cfg.o_lora_rank, cfg.hidden_size, "fp8")
        if ratio:
            self.compressor = Compressor(cfg, ratio, d, for_indexer=False)
            if ratio == 4:
                self.indexer = Indexer(cfg)
        self.register_buffer("rope_w", rope_freqs(cfg, compressed=ratio > 0), persistent=False)
        self.aux_loss = None

    def _window_scores(self, q, kv):
        """Scores of each query against the raw kv of positions p-W+1..p, computed per chunk
        of W queries against the 2W keys of its chunk and the previous one.
        -> scores [B, T, H, 2W] (masked to -inf), keys [B, nC, d, 2W]."""
        B, T, H, d = q.shape
        W = self.cfg.sliding_window
        nC = -(-T // W)
        Tp = nC * W
        qc = F.pad(q, (0, 0, 0, 0, 0, Tp - T)).view(B, nC, W, H, d)
        keys = F.pad(kv, (0, 0, W, Tp - T)).unfold(1, 2 * W, W)           # [B, nC, d, 2W]
        s = sums.einsum("bcwhd,bcdk->bcwhk", qc, keys) / math.sqrt(d)
        w = torch.arange(W).view(W, 1)
        k = torch.arange(2 * W).view(1, 2 * W)
        ok = (k >= w + 1) & (k <= w + W)                                   # p-W+1 <= key <= p
        first = ok & (k >= W)                                              # chunk 0: no keys < 0
        mask = torch.stack([first] + [ok] * (nC - 1))                      # [nC, W, 2W]
        s = s.masked_fill(~mask.view(1, nC, W, 1, 2 * W), float("-inf"))
        return s.reshape(B, Tp, H, 2 * W)[:, :T], keys

    def forward(self, x):
        B, T, _ = x.shape
        H, d, W, R = self.H, self.d, self.cfg.sliding_window, self.ratio
        cos, sin = rope_cos_sin(self.rope_w, torch.arange(max(T, 1)))
        qr = self.q_norm(self.wq_a(x))
        q = self.wq_b(qr).view(B, T, H, d)
        q = q * torch.rsqrt(q.square().mean(-1, keepdim=True) + self.cfg.rms_norm_eps)
        q = apply_rope(q, cos, sin)
        kv = self.kv_norm(self.wkv(x))
        kv = quant.kv_fp8_sim(apply_rope(kv, cos, sin), self.nope)

        s_win, keys = self._window_scores(q, kv)
        parts = [s_win]
        if R:
            kc = self.compressor(x, cos, sin)                              # [B, nb, d]
            nb = kc.shape[1]
            s_cmp = sums.einsum("bthd,bnd->bthn", q, kc) / math.sqrt(d)
            p = torch.arange(T).view(T, 1)
            visible = torch.arange(nb).view(1, nb) < (p + 1) // R           # [T, nb]
            if R == 4:
                chosen = self._index(x, qr, cos, sin, visible, s_cmp)
            else:
                chosen = visible.view(1, T, nb)
            s_cmp = s_cmp.masked_fill(~chosen.unsqueeze(2), float("-inf"))
            parts.append(s_cmp)
        # learned sink: an extra logit per head whose value vector is zero (denominator only)
        parts.append(self.attn_sink.view(1, 1, H, 1).expand(B, T, H, 1))
        probs = torch.softmax(torch.cat(parts, dim=-1), dim=-1)
        p_win = probs[..., :2 * W]
        nC = keys.shape[1]
        p_win = F.pad(p_win, (0, 0, 0, 0, 0, nC * W - T)).reshape(B, nC, W, H, 2 * W)
        o = sums.einsum("bcwhk,bcdk->bcwhd", p_win, keys).reshape(B, nC * W, H, d)[:, :T]
        if R:
            o = o + sums.einsum("bthn,bnd->bthd", probs[..., 2 * W:2 * W + nb], kc)
        o = apply_rope(o, cos, sin, inverse=True)
        # grouped low-rank output: z_g = wo_a[g] . concat(o_h in g), out = wo_b . concat_g z_g
        G = self.cfg.o_groups
        wo_a = self.wo_a.effective_weight().view(G, self.cfg.o_lora_rank, -1)
        z = sums.einsum("btgi,gri->btgr", o.reshape(B, T, G, -1), wo_a)
        return self.wo_b(z.flatten(2))

    def _index(self, x, qr, cos, sin, visible, s_cmp):
        """Top-min(Ki, count) visible entries by index score; also sets the indexer's
        training loss: KL(main attention over visible entries || softmax(index scores))."""
        T, nb = visible.shape
        sc = self.indexer.scores(x.detach(), qr.detach(), cos, sin)         # [B, T, nb]
        sc = sc.masked_fill(~visible, float("-inf"))
        chosen = torch.zeros_like(sc, dtype=torch.bool)
        if nb:
            top = sc.detach().topk(min(self.cfg.index_topk, nb), dim=-1).indices
            chosen.scatter_(-1, top, True)
        chosen &= visible
        self.aux_loss = None
        if self.training and nb:
            rows = visible.any(-1)                                          # p with >= 1 entry
            with torch.no_grad():
                masked = s_cmp.masked_fill(~visible.unsqueeze(1), float("-inf"))[:, rows]
                target = torch.softmax(masked, dim=-1).mean(dim=2)          # mean over heads
            logp = torch.log_softmax(sc[:, rows], dim=-1).masked_fill(~visible[rows], 0.0)
            self.aux_loss = (target * (torch.log(target.clamp_min(1e-30)) - logp)).sum(-1).mean()
        return chosen


# ----------------------------------------------------------------------------- MoE
class Expert(nn.Module):
    def __init__(self, cfg, fmt):
        super().__init__()
        D, I = cfg.hidden_size, cfg.moe_intermediate_size
        self.w1, self.w2, self.w3 = QLinear(D, I, fmt), QLinear(I, D, fmt), QLinear(D, I, fmt)
        self.limit = cfg.swiglu_limit

    def forward(self, x, weight=None):
        gate = torch.clamp(self.w1(x), max=self.limit)                     # min(w1.x, limit)
        up = torch.clamp(self.w3(x), -self.limit, self.limit)
        h = F.silu(gate) * up
        if weight is not None:
            h = weight * h
        return self.w2(h)


class Gate(nn.Module):
    def __init__(self, cfg, hashed):
        super().__init__()
        self.cfg, self.hashed = cfg, hashed
        self.weight = nn.Parameter(torch.empty(cfg.n_routed_experts, cfg.hidden_size))
        self.qat = False
        if hashed:
            self.register_buffer("tid2eid", torch.zeros(cfg.vocab_size, cfg.num_experts_per_tok,
                                                        dtype=torch.long))
        else:
            # not learned by gradient: moved by the aux-loss-free balancing rule
            self.register_buffer("bias", torch.zeros(cfg.n_routed_experts))
        self.load = None

    def forward(self, x, tokens):
        w = quant.weight_bf16_sim(self.weight) if self.qat else self.weight
        s = torch.sqrt(F.softplus(sums.linear(x, w)))                       # sqrt(softplus(z))
        if self.hashed:
            idx = self.tid2eid[tokens]
        else:
            idx = (s.detach() + self.bias).topk(self.cfg.num_experts_per_tok, dim=-1).indices
        ws = s.gather(-1, idx)
        ws = ws / ws.sum(-1, keepdim=True) * self.cfg.routed_scaling_factor
        if self.training:
            self.load = torch.bincount(idx.flatten(), minlength=self.cfg.n_routed_experts)
        return ws, idx


class MoE(nn.Module):
    def __init__(self, cfg, hashed):
        super().__init__()
        self.gate = Gate(cfg, hashed)
        self.experts = nn.ModuleList(Expert(cfg, cfg.expert_dtype)
                                     for _ in range(cfg.n_routed_experts))
        self.shared_experts = Expert(cfg, "fp8")

    def forward(self, x, tokens):
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        ws, idx = self.gate(x, tokens.reshape(-1))
        y = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            tok, slot = (idx == e).nonzero(as_tuple=True)
            if tok.numel():
                y = y.index_add(0, tok, expert(x[tok], ws[tok, slot].unsqueeze(-1)))
        return (y + self.shared_experts(x)).view(shape)


# ----------------------------------------------------------------------------- HC + Block
def hc_mix(h, fn, scale, base, cfg, sinkhorn=True):
    """Hyper-connection weights from the streams h [B,T,hc,D] (spec "Block" steps 1-3)."""
    hc = cfg.hc_mult
    f = h.flatten(2)
    rho = torch.rsqrt(f.square().mean(-1, keepdim=True) + cfg.rms_norm_eps)
    m = sums.linear(f, fn) * rho
    pre = torch.sigmoid(m[..., :hc] * scale[0] + base[:hc]) + cfg.hc_eps
    if not sinkhorn:
        return pre
    post = 2 * torch.sigmoid(m[..., hc:2 * hc] * scale[1] + base[hc:2 * hc])
    C = (m[..., 2 * hc:] * scale[2] + base[2 * hc:]).unflatten(-1, (hc, hc))
    C = torch.softmax(C, dim=-1) + cfg.hc_eps
    C = C / (C.sum(-2, keepdim=True) + cfg.hc_eps)
    for _ in range(cfg.hc_sinkhorn_iters - 1):
        C = C / (C.sum(-1, keepdim=True) + cfg.hc_eps)
        C = C / (C.sum(-2, keepdim=True) + cfg.hc_eps)
    return pre, post, C


class Block(nn.Module):
    def __init__(self, cfg, layer_id):
        super().__init__()
        self.cfg = cfg
        ratio = cfg.compress_ratios[layer_id]
        self.attn = Attention(cfg, ratio)
        self.ffn = MoE(cfg, hashed=layer_id < cfg.num_hash_layers)
        self.attn_norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.ffn_norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        hc, D = cfg.hc_mult, cfg.hidden_size
        mix = (2 + hc) * hc
        for s in ("attn", "ffn"):
            setattr(self, f"hc_{s}_fn", nn.Parameter(torch.zeros(mix, hc * D)))
            setattr(self, f"hc_{s}_base", nn.Parameter(torch.zeros(mix)))
            setattr(self, f"hc_{s}_scale", nn.Parameter(torch.ones(3)))

    def _sub(self, h, name, fn):
        pre, post, C = hc_mix(h, getattr(self, f"hc_{name}_fn"), getattr(self, f"hc_{name}_scale"),
                              getattr(self, f"hc_{name}_base"), self.cfg)
        x = (pre.unsqueeze(-1) * h).sum(2)                                  # sum_i pre_i h_i
        y = fn(x)
        # new h_j = post_j * y + sum_i C[i][j] h_i
        return post.unsqueeze(-1) * y.unsqueeze(2) + sums.einsum("btij,btid->btjd", C, h)

    def forward(self, h, tokens):
        h = self._sub(h, "attn", lambda x: self.attn(self.attn_norm(x)))
        return self._sub(h, "ffn", lambda x: self.ffn(self.ffn_norm(x), tokens))


class MTPBlock(Block):
    def __init__(self, cfg, layer_id):
        super().__init__(cfg, layer_id)
        D, hc = cfg.hidden_size, cfg.hc_mult
        self.e_proj = QLinear(D, D, "fp8")
        self.h_proj = QLinear(D, D, "fp8")
        self.enorm = RMSNorm(D, cfg.rms_norm_eps)
        self.hnorm = RMSNorm(D, cfg.rms_norm_eps)
        self.norm = RMSNorm(D, cfg.rms_norm_eps)
        self.hc_head_fn = nn.Parameter(torch.zeros(hc, hc * D))
        self.hc_head_base = nn.Parameter(torch.zeros(hc))
        self.hc_head_scale = nn.Parameter(torch.ones(1))


class Transformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        D, hc, V = cfg.hidden_size, cfg.hc_mult, cfg.vocab_size
        self.embed = nn.Embedding(V, D)
        self.layers = nn.ModuleList(Block(cfg, i) for i in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(D, cfg.rms_norm_eps)
        self.head = QLinear(D, V, "bf16")
        self.hc_head_fn = nn.Parameter(torch.zeros(hc, hc * D))
        self.hc_head_base = nn.Parameter(torch.zeros(hc))
        self.hc_head_scale = nn.Parameter(torch.ones(1))
        L = cfg.num_hidden_layers
        self.mtp = nn.ModuleList(MTPBlock(cfg, L + i) for i in range(cfg.num_nextn_predict_layers))
        self.qat = False

    def _embed(self, tokens):
        w = quant.weight_bf16_sim(self.embed.weight) if self.qat else self.embed.weight
        return F.embedding(tokens, w)

    def _head(self, h, owner):
        """logits = head . norm(sum_i pre_i h_i) with pre from hc_head (no Sinkhorn)."""
        pre = hc_mix(h, owner.hc_head_fn, owner.hc_head_scale, owner.hc_head_base, self.cfg,
                     sinkhorn=False)
        return self.head(owner.norm((pre.unsqueeze(-1) * h).sum(2)))

    def forward(self, tokens, mtp_tokens=None):
        """tokens [B,T] from position 0 -> (logits [B,T,V], mtp logits [B,T,V] or None).
        mtp_tokens [B,T]: token t+1 for each position t (the MTP input); MTP row t then
        predicts token t+2."""
        e = self._embed(tokens)
        h = e.unsqueeze(2).expand(-1, -1, self.cfg.hc_mult, -1)              # all streams = embed
        for layer in self.layers:
            h = layer(h, tokens)
        logits = self._head(h, self)
        mtp_logits = None
        if mtp_tokens is not None and len(self.mtp):
            m = self.mtp[0]
            x = m.e_proj(m.enorm(self._embed(mtp_tokens))).unsqueeze(2) + m.h_proj(m.hnorm(h))
            mtp_logits = self._head(m(x, mtp_tokens), m)
        return logits, mtp_logits

    # ---------------------------------------------------------------- training helpers
    def set_weight_qat(self, on):
        self.qat = on
        for mod in self.modules():
            if isinstance(mod, (QLinear, RMSNorm, Gate)):
                mod.qat = on

    def gates(self):
        return [m for m in self.modules() if isinstance(m, Gate) and not m.hashed]

    def aux_losses(self):
        return [m.aux_loss for m in self.modules()
                if isinstance(m, Attention) and m.aux_loss is not None]
