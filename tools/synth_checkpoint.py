#!/usr/bin/env python3
"""Write a random DeepSeek-V4 checkpoint in the official layout, fast.

    /usr/bin/python3 tools/synth_checkpoint.py --preset flash-shape -o /tmp/flash-shape

Weights are random but valid codes written directly (FP8 e4m3 codes with ue8m0 128x128
block scales, packed FP4 e2m1 experts with one ue8m0 scale per 32 inputs, BF16, F32, I64),
never quantized from floats, so multi-gigabyte checkpoints take seconds to minutes. Scales
are picked so that every linear keeps activations near unit size. Used for speed and
memory measurements at the real layer shapes (the numbers it computes are meaningless).

Presets (ARCHITECTURE-V4.md section 1 dimensions, fewer layers and experts):
  flash-shape  V4-Flash layers: D 4096, 64 heads of 512, q rank 1024, 8 x 1024 output
               groups, expert width 2048, indexer 64 x 128 top-512, window 128, vocab
               129280, 6 of 32 routed experts + 1 shared; ratios 4, 128, 4, 128 + MTP.
  pro-shape    V4-Pro layers: D 7168, 128 heads of 512, q rank 1536, 16 x 1024 groups,
               expert width 3072, indexer top-1024, 6 of 32 routed + 1 shared; ratios
               128, 128, 4 + MTP.
  tiny         a small model for quick tests.
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np

PRESETS = {
    "flash-shape": dict(hidden_size=4096, num_attention_heads=64, head_dim=512, qk_rope_head_dim=64,
                        q_lora_rank=1024, o_groups=8, o_lora_rank=1024, sliding_window=128,
                        compress_ratios=[4, 128, 4, 128, 0], index_n_heads=64, index_head_dim=128,
                        index_topk=512, n_routed_experts=32, num_experts_per_tok=6, moe_intermediate_size=2048,
                        num_hash_layers=3, routed_scaling_factor=1.5, vocab_size=129280),
    "pro-shape": dict(hidden_size=7168, num_attention_heads=128, head_dim=512, qk_rope_head_dim=64,
                      q_lora_rank=1536, o_groups=16, o_lora_rank=1024, sliding_window=128,
                      compress_ratios=[128, 128, 4, 0], index_n_heads=64, index_head_dim=128, index_topk=1024,
                      n_routed_experts=32, num_experts_per_tok=6, moe_intermediate_size=3072, num_hash_layers=3,
                      routed_scaling_factor=2.5, vocab_size=129280),
    "tiny": dict(hidden_size=256, num_attention_heads=4, head_dim=128, qk_rope_head_dim=64, q_lora_rank=128,
                 o_groups=2, o_lora_rank=128, sliding_window=16, compress_ratios=[0, 4, 128, 4, 0],
                 index_n_heads=4, index_head_dim=64, index_topk=8, n_routed_experts=8, num_experts_per_tok=2,
                 moe_intermediate_size=128, num_hash_layers=1, routed_scaling_factor=1.5, vocab_size=1024),
}

COMMON = {
    "architectures": ["DeepseekV4ForCausalLM"], "model_type": "deepseek_v4", "bos_token_id": 0,
    "eos_token_id": 1, "hc_eps": 1e-6, "hc_mult": 4, "hc_sinkhorn_iters": 20, "max_position_embeddings": 1048576,
    "n_shared_experts": 1, "num_key_value_heads": 1, "rms_norm_eps": 1e-6, "rope_theta": 10000,
    "compress_rope_theta": 160000, "scoring_func": "sqrtsoftplus", "swiglu_limit": 10.0, "expert_dtype": "fp4",
    "rope_scaling": {"type": "yarn", "factor": 16, "original_max_position_embeddings": 65536, "beta_fast": 32,
                     "beta_slow": 1},
    "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                            "scale_fmt": "ue8m0", "weight_block_size": [128, 128]},
}


def ceil_div(a, b):
    return -(-a // b)


def e8m0(exponent):
    return np.uint8(127 + exponent)


class Gen:
    """Random tensor contents, generated chunk by chunk."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        # FP8 codes with exponent field 5..8 (|v| in [0.25, 3.75]) and a random sign.
        b = np.arange(256, dtype=np.uint16)
        exp = 5 + (b & 3)
        self.fp8_lut = ((b >> 7) << 7 | exp << 3 | ((b >> 2) & 7)).astype(np.uint8)

    def bytes(self, n):
        return self.rng.integers(0, 256, size=n, dtype=np.uint8)

    def fp8(self, n):
        return self.fp8_lut[self.bytes(n)]

    def bf16(self, n, exponent):
        """BF16 values of magnitude ~2^exponent with random sign and mantissa."""
        r = self.rng.integers(0, 1 << 16, size=n, dtype=np.uint16)
        e = np.uint16(127 + exponent) - (r >> 14 & 1)
        return ((r & 0x8000) | (e << 7) | (r & 0x7F)).astype(np.uint16)


def spec_tensors(cfg):
    """(name, dtype, shape, kind) for every tensor the config implies."""
    D, H, d = cfg["hidden_size"], cfg["num_attention_heads"], cfg["head_dim"]
    Lq, G, Lo = cfg["q_lora_rank"], cfg["o_groups"], cfg["o_lora_rank"]
    E, k, I, V = cfg["n_routed_experts"], cfg["num_experts_per_tok"], cfg["moe_intermediate_size"], cfg["vocab_size"]
    hc, Hi, di = cfg["hc_mult"], cfg["index_n_heads"], cfg["index_head_dim"]
    L = cfg["num_hidden_layers"]
    out = []

    def fp8(name, o, i):
        out.append((name + ".weight", "F8_E4M3", [o, i], ("fp8", i)))
        out.append((name + ".scale", "F8_E8M0", [ceil_div(o, 128), ceil_div(i, 128)], ("scale", i)))

    def fp4(name, o, i):
        out.append((name + ".weight", "I8", [o, i // 2], ("fp4", i)))
        out.append((name + ".scale", "F8_E8M0", [o, i // 32], ("scale4", i)))

    def bf16(name, shape, kind):
        out.append((name, "BF16", shape, kind))

    def f32(name, shape, kind):
        out.append((name, "F32", shape, kind))

    def hc_params(p, n_out, n_scale):
        f32(p + "_fn", [n_out, hc * D], ("normal", 0.01))
        f32(p + "_base", [n_out], ("zeros",))
        f32(p + "_scale", [n_scale], ("ones",))

    def compressor(p, R, width):
        cw = (2 if R == 4 else 1) * width
        f32(p + "ape", [R, cw], ("normal", 0.02))
        bf16(p + "wkv.weight", [cw, D], ("bf16", D))
        bf16(p + "wgate.weight", [cw, D], ("bf16", D))
        bf16(p + "norm.weight", [width], ("ones",))

    def block(p, idx, mtp):
        R = cfg["compress_ratios"][idx]
        bf16(p + "attn_norm.weight", [D], ("ones",))
        bf16(p + "ffn_norm.weight", [D], ("ones",))
        hc_params(p + "hc_attn", (2 + hc) * hc, 3)
        hc_params(p + "hc_ffn", (2 + hc) * hc, 3)
        a = p + "attn."
        f32(a + "attn_sink", [H], ("zeros",))
        fp8(a + "wq_a", Lq, D)
        bf16(a + "q_norm.weight", [Lq], ("ones",))
        fp8(a + "wq_b", H * d, Lq)
        fp8(a + "wkv", d, D)
        bf16(a + "kv_norm.weight", [d], ("ones",))
        fp8(a + "wo_a", G * Lo, H * d // G)
        fp8(a + "wo_b", D, G * Lo)
        if R > 0:
            compressor(a + "compressor.", R, d)
        if R == 4:
            fp8(a + "indexer.wq_b", Hi * di, Lq)
            bf16(a + "indexer.weights_proj.weight", [Hi, D], ("bf16", D))
            compressor(a + "indexer.compressor.", 4, di)
        f = p + "ffn."
        bf16(f + "gate.weight", [E, D], ("bf16", D))
        if not mtp and idx < cfg["num_hash_layers"]:
            out.append((f + "gate.tid2eid", "I64", [V, k], ("tid2eid", E)))
        else:
            f32(f + "gate.bias", [E], ("zeros",))
        for e in range(E):
            fp4(f + f"experts.{e}.w1", I, D)
            fp4(f + f"experts.{e}.w2", D, I)
            fp4(f + f"experts.{e}.w3", I, D)
        fp8(f + "shared_experts.w1", I, D)
        fp8(f + "shared_experts.w2", D, I)
        fp8(f + "shared_experts.w3", I, D)
        if mtp:
            fp8(p + "e_proj", D, D)
            fp8(p + "h_proj", D, D)
            for n in ("enorm", "hnorm", "norm"):
                bf16(p + n + ".weight", [D], ("ones",))
            hc_params(p + "hc_head", hc, 1)

    bf16("embed.weight", [V, D], ("bf16", 1))
    bf16("head.weight", [V, D], ("bf16", D))
    bf16("norm.weight", [D], ("ones",))
    hc_params("hc_head", hc, 1)
    for l in range(L):
        block(f"layers.{l}.", l, False)
    for m in range(cfg["num_nextn_predict_layers"]):
        block(f"mtp.{m}.", L + m, True)
    return out


NBYTES = {"F8_E4M3": 1, "F8_E8M0": 1, "I8": 1, "BF16": 2, "F32": 4, "I64": 8}


def contents(gen, dtype, shape, kind):
    n = int(np.prod(shape))
    what = kind[0]
    if what == "fp8":
        return gen.fp8(n)
    if what == "fp4":
        return gen.bytes(n)
    if what == "scale":  # FP8 codes are ~1: scale by 1/sqrt(in) (rounded to a power of two)
        return np.full(n, e8m0(-int(np.ceil(np.log2(np.sqrt(kind[1]))))), np.uint8)
    if what == "scale4":  # FP4 codes average ~2.5
        return np.full(n, e8m0(-int(np.ceil(np.log2(np.sqrt(kind[1])))) - 1), np.uint8)
    if what == "bf16":
        return gen.bf16(n, -int(np.ceil(np.log2(np.sqrt(kind[1])))))
    if what == "ones":
        return np.full(n, 0x3F80, np.uint16) if dtype == "BF16" else np.ones(n, np.float32)
    if what == "zeros":
        return np.zeros(n, np.float32)
    if what == "normal":
        return (gen.rng.standard_normal(n) * kind[1]).astype(np.float32)
    if what == "tid2eid":
        V, k = shape
        return np.argsort(gen.rng.random((V, kind[1])), axis=1)[:, :k].astype(np.int64)
    raise ValueError(kind)


def write(out_dir, cfg, seed, log):
    os.makedirs(out_dir, exist_ok=True)
    specs = spec_tensors(cfg)
    header, off = {}, 0
    for name, dtype, shape, _ in specs:
        size = int(np.prod(shape)) * NBYTES[dtype]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + size]}
        off += size
    header["__metadata__"] = {"format": "pt", "generator": "dsv4 tools/synth_checkpoint.py"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    gen = Gen(seed)
    t0 = time.time()
    path = os.path.join(out_dir, "model.safetensors")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        done, shown = 0, 0
        for name, dtype, shape, kind in specs:
            arr = contents(gen, dtype, shape, kind)
            f.write(np.ascontiguousarray(arr).tobytes())
            done += arr.nbytes
            if done - shown >= 1 << 28 or done == off:
                shown = done
                log(f"\r{done / 2**30:7.2f} / {off / 2**30:.2f} GiB", end="")
    log(f"\nwrote {path}: {off / 2**30:.2f} GiB in {time.time() - t0:.1f} s")
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", required=True, choices=sorted(PRESETS))
    ap.add_argument("-o", "--output", required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--layers", type=int, help="override the number of main layers (ratios repeat)")
    ap.add_argument("--experts", type=int, help="override the number of routed experts")
    ap.add_argument("--no-mtp", action="store_true", help="omit the MTP block")
    args = ap.parse_args(argv)
    p = dict(PRESETS[args.preset])
    ratios = p.pop("compress_ratios")
    main_ratios = ratios[:-1]
    if args.layers:
        main_ratios = [main_ratios[i % len(main_ratios)] for i in range(args.layers)]
    if args.experts:
        p["n_routed_experts"] = args.experts
    n_mtp = 0 if args.no_mtp else 1
    cfg = dict(COMMON, **p, num_hidden_layers=len(main_ratios), num_nextn_predict_layers=n_mtp,
               compress_ratios=main_ratios + [0] * n_mtp)
    cfg["num_hash_layers"] = min(cfg["num_hash_layers"], len(main_ratios))
    write(args.output, cfg, args.seed, lambda *a, **k: print(*a, **k, file=sys.stderr, flush=True))


if __name__ == "__main__":
    main()
