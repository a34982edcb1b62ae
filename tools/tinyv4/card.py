"""MODEL_CARD.md of the exported tiny model, written from the run's log and metrics."""
import os
import re

STEP_RE = re.compile(r"step (\d+) loss ([\d.]+) main ([\d.]+) mtp ([\d.]+) idx ([\d.]+) .*?"
                     r"([\d.]+)s/step .*elapsed (\d+)s")


def _steps(log):
    return [(int(m[1]), float(m[3]), float(m[4]), float(m[5]), float(m[6]), int(m[7]))
            for m in STEP_RE.finditer(log)]


def _cmd(args):
    """The training command line that reproduces the run (defaults spelled out)."""
    skip = {"max_steps_this_run"}
    parts = [f"--{k.replace('_', '-')} {v}" for k, v in args.items() if k not in skip]
    return "nice -n 19 /usr/bin/python3 tools/train_tiny.py " + " ".join(parts)


def render(cfg, st, metrics, log, out_dir):
    args = st.get("args", {})
    steps = _steps(log)
    tokens = args.get("batch", 0) * args.get("seq", 0) * st.get("step", 0)
    wall = steps[-1][5] if steps else 0
    files = sorted(n for n in os.listdir(out_dir) if not n.startswith("."))
    def size(n):
        b = os.path.getsize(os.path.join(out_dir, n))
        return f"{b / 1e6:.2f} MB" if b >= 1e6 else f"{b / 1e3:.1f} KB"
    sizes = "\n".join(f"| `{n}` | {size(n)} |" for n in files if n != "MODEL_CARD.md")
    picks = sorted({s for s in (1, 2, 5, 10, 20) if s <= len(steps)} |
                   {len(steps) * k // 8 for k in range(1, 9)})
    curve = "\n".join(f"| {steps[i - 1][0]} | {steps[i - 1][1]:.3f} | {steps[i - 1][2]:.3f} | "
                      f"{steps[i - 1][3]:.3f} |" for i in picks if i >= 1)

    def row(label, split):
        r = metrics.get(f"{label}_{split}")
        if not r:
            return f"| {label} | {split} | (not measured) | | | |"
        return (f"| {label} | {split} | {r['ppl']:.3f} | {r['top1_acc']:.3f} | "
                f"{r['mtp_agreement']:.3f} | {r['mtp_top1_acc']:.3f} |")
    samples = "\n\n".join("```python\n" + g["text"] + "\n```" for g in metrics.get("greedy", []))
    N = len(metrics["greedy"][0]["ids"]) - len(metrics["greedy"][0]["prompt_ids"]) \
        if metrics.get("greedy") else 0
    n_scored = metrics.get("float_heldout", {}).get("tokens_scored", "?")
    n_sample = metrics.get("float_sample", {}).get("tokens_scored", "?")
    ratios = ", ".join(map(str, cfg.compress_ratios))
    return f"""# dsv4-tiny-code

A tiny DeepSeek-V4 trained from scratch on CPU on the Python standard library, so that
dsv4 ships a real model in the official V4 checkpoint layout. It writes Python-flavoured
text and is meant for tests, demos and engine checks (perplexity, MTP speculative
decoding, CSA / HCA paths), not for any real use.

## Architecture

Every V4 mechanism of `docs/ARCHITECTURE-V4.md` at small size: hyper-connections (hc
{cfg.hc_mult}, Sinkhorn {cfg.hc_sinkhorn_iters} iterations), layers with compress ratios
[{ratios}] (the last entry is the MTP block): sliding-window attention (window
{cfg.sliding_window}) with learned sinks in every layer, CSA (ratio 4, overlapping
compressor, indexer {cfg.index_n_heads} heads x {cfg.index_head_dim}, top-{cfg.index_topk})
and HCA (ratio 128); partial interleaved RoPE ({cfg.qk_rope_head_dim} of {cfg.head_dim}
dims, YaRN on compressed layers), grouped low-rank output ({cfg.o_groups} groups x rank
{cfg.o_lora_rank}); MoE with {cfg.n_routed_experts} routed experts (top-{cfg.num_experts_per_tok},
width {cfg.moe_intermediate_size}) + 1 shared, layer 0 hash-routed (`tid2eid`), the rest
sqrt-softplus scored with the aux-loss-free bias; one MTP block.

hidden {cfg.hidden_size}, {cfg.num_hidden_layers} layers, {cfg.num_attention_heads} heads x
{cfg.head_dim}, q rank {cfg.q_lora_rank}, vocab {cfg.vocab_size}. Trained context:
{args.get('seq', '?')} tokens (config.json keeps the architectural
`max_position_embeddings`; quality beyond the trained context is untested).

Storage as in the official checkpoints: FP8 e4m3 linears with ue8m0 128x128 block scales,
FP4 e2m1 routed experts (I8, two per byte, low nibble first, one ue8m0 scale per 32
inputs), BF16 norms / embedding / head / compressors / indexer weights_proj / gate, F32
hc / ape / sinks / gate bias, I64 `tid2eid`. Scales are 2^ceil(log2(amax/qmax)); values
round to nearest even on the grid.

| file | size |
|---|---|
{sizes}

## Tokenizer

Byte-level BPE trained here (`tools/train_tokenizer.py`, training split only):
{cfg.vocab_size} ids = 3 leading specials (0 `<｜begin▁of▁sentence｜>`, 1
`<｜end▁of▁sentence｜>`, 2 `<｜▁pad▁｜>`), 256 byte symbols, merges, then the V4 chat markers
(`<｜User｜>`, `<｜Assistant｜>`, `<think>`, `</think>`, `<｜latest_reminder｜>`, `｜DSML｜`, and the
task markers `<｜action｜>` ... `<｜read_url｜>`) as added tokens. The pre-tokenizer is
DeepSeek's (three regex Splits + ByteLevel, patterns byte-identical to DeepSeek-V3's
tokenizer.json). Resolve special ids by string, never by number.

## Data

The `.py` files of the Debian `libpython3.11-stdlib` install under `/usr/lib/python3.11`
(dist-packages / site-packages excluded): {metrics.get('n_files', '?')} files, sorted by path;
every file whose sorted index % 50 == 0 is held out ({len(metrics.get('heldout_files', []))}
files). corpus sha256 (paths + contents): `{metrics.get('corpus_sha256', '?')}`. Each
file is one document: BOS + tokens + EOS. `heldout_sample.txt` = the held-out files
{', '.join(metrics.get('sample_files', []))} concatenated (every held-out file that fits in
280 KB, in order).

## Training

Seed {args.get('seed')}; {st.get('step')} steps of {args.get('batch')} x {args.get('seq')}
tokens ({tokens / 1e6:.2f} M tokens, {tokens / max(metrics.get('train_tokens', 1), 1):.2f} epochs of the
{metrics.get('train_tokens', 0) / 1e6:.2f} M-token training stream), windows at seeded
random offsets of the training stream, each a fresh sequence from position 0. AdamW (0.9,
0.95), lr {args.get('lr')} with {args.get('warmup')} warm-up steps then cosine to
{args.get('min_lr_frac')} x, weight decay {args.get('weight_decay')} on matrices, clip
{args.get('clip')}. Loss = CE + {args.get('mtp_weight')} x MTP CE (token t+2) + indexer KL
(towards the layer's attention over the compressed entries; only the indexer learns from it).
Routing bias step {args.get('bias_rate')} per step (sign rule). The forward applies the
spec's KV FP8 and indexer FP4 + Hadamard simulations with straight-through gradients; the
last {args.get('qat_frac')} of the steps also simulate the weight storage (FP8 / FP4 / BF16)
straight-through. One thread, `nice -n 19`, on a shared 2-core Xeon (AVX-512; OpenBLAS
serial): {wall / 60:.0f} min wall, {steps[-1][4] if steps else 0:.1f} s/step at the end.

```
/usr/bin/python3 tools/train_tokenizer.py --out models/dsv4-tiny-code
{_cmd(args)}
/usr/bin/python3 tools/export_tiny.py --run {args.get('run')} --out models/dsv4-tiny-code
```

Loss (mean over the {args.get('log_every')} steps before each logged step):

| step | CE | MTP CE | indexer KL |
|---|---|---|---|
{curve}

## Evaluation (PyTorch, `tools/tinyv4/evaluate.py`)

Consecutive non-overlapping windows of {args.get('seq', 512)} tokens, each a fresh session;
perplexity over window[1:]. `heldout` = the held-out split as BOS + tokens + EOS per file
({n_scored} scored tokens); `sample` = BOS + tokens of `heldout_sample.txt` ({n_sample}
scored tokens). `float` = the trained fp32 weights; `quantized` = the weights read back
from `model.safetensors` (what an engine runs). MTP agreement = fraction of positions t
where the MTP argmax for token t+2 (fed the streams at t and the true token t+1) equals
the main model's argmax at t+1; MTP top-1 = same argmax against the true token t+2.

Because the last steps trained through the storage rounding, the float weights are never
what the late forward used; the two rows differ only by that rounding.

| weights | split | perplexity | top-1 | MTP agreement | MTP top-1 |
|---|---|---|---|---|---|
{row('float', 'heldout')}
{row('quantized', 'heldout')}
{row('float', 'sample')}
{row('quantized', 'sample')}

Greedy continuations of the quantized model (BOS + prompt, {N} new tokens; the token ids are
in `metrics.json` under `greedy`, for engine comparison - near-ties may legitimately flip):

{samples}

The forward used here reproduces the conformance golden logits of DeepSeek's reference
code to ~1e-5 (`tests/python/test_golden_forward.py`).
"""
