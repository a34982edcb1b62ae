#!/usr/bin/env python3
"""Train the tiny DeepSeek-V4 (dsv4's default model) on the Python standard library, on CPU.

Loss = next-token CE + mtp_weight * next-next-token CE of the MTP block + the indexers' KL
towards their layer's attention (only the indexers learn from it). The routing bias of
score-routed MoE layers follows the aux-loss-free rule: after each step, bias_e moves by
bias_rate towards balance (up if expert e got fewer tokens than average, down if more).
The last `--qat-frac` of the steps simulate the checkpoint's weight storage (FP8 / FP4 /
BF16) in the forward, so the exported quantized model loses little.

Deterministic: fixed seed, one thread, data windows drawn by a seeded generator.

    nice -n 19 /usr/bin/python3 tools/train_tiny.py --tokenizer models/dsv4-tiny-code \
        --run /tmp/dsv4-tiny-run --steps 300
"""
import argparse
import dataclasses
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tinyv4 import bpe, corpus  # noqa: E402
from tinyv4.config import V4Config  # noqa: E402
from tinyv4.init import hash_table, init_weights  # noqa: E402
from tinyv4.model import Transformer  # noqa: E402


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--tokenizer", required=True, help="directory with tokenizer.json")
    ap.add_argument("--run", required=True, help="output directory (checkpoints, log)")
    ap.add_argument("--root", default=corpus.DEFAULT_ROOT)
    ap.add_argument("--cache", default=corpus.DEFAULT_CACHE)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--mtp-weight", type=float, default=0.3)
    ap.add_argument("--bias-rate", type=float, default=1e-2)
    ap.add_argument("--qat-frac", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--log-every", type=int, default=5)
    ap.add_argument("--save-every", type=int, default=25)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--max-steps-this-run", type=int, default=0,
                    help="stop early (smoke runs / timing); 0 = run to --steps")
    return ap.parse_args(argv)


def make_config(args, vocab_size):
    return V4Config(vocab_size=vocab_size, hidden_size=args.hidden).check()


def lr_at(step, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    t = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * t)))


def param_groups(model, wd):
    """Weight decay on matrices only (not norms, hc vectors, sinks, ape, embeddings)."""
    decay, rest = [], []
    for name, p in model.named_parameters():
        is_matrix = p.dim() == 2 and "hc_" not in name and not name.endswith("ape") \
            and not name.startswith("embed")
        (decay if is_matrix else rest).append(p)
    return [{"params": decay, "weight_decay": wd}, {"params": rest, "weight_decay": 0.0}]


def batch_at(stream, rng, batch, seq):
    """seq + 1 consecutive tokens per row, from seeded offsets (a fresh session each)."""
    starts = rng.integers(0, len(stream) - seq - 1, size=batch)
    rows = np.stack([stream[s:s + seq + 1] for s in starts]).astype(np.int64)
    return torch.from_numpy(rows)


def losses(model, rows, mtp_weight):
    x, y = rows[:, :-1], rows[:, 1:]
    # MTP row t is fed token t+1 (= y[:, t]) and predicts token t+2 (= y[:, t+1])
    logits, mtp = model(x, y)
    V = logits.shape[-1]
    main = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
    mtp_ce = F.cross_entropy(mtp[:, :-1].reshape(-1, V), y[:, 1:].reshape(-1))
    aux = model.aux_losses()
    idx = sum(aux) / len(aux) if aux else torch.zeros(())
    return main + mtp_weight * mtp_ce + idx, main, mtp_ce, idx


def save(path, model, opt, step, args, rng, cfg):
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                "args": vars(args), "rng": rng.bit_generator.state,
                "config": dataclasses.asdict(cfg)}, tmp)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    os.makedirs(args.run, exist_ok=True)
    log = open(os.path.join(args.run, "train.log"), "a", buffering=1)

    def say(msg):
        print(msg, flush=True)
        log.write(msg + "\n")

    tok = bpe.Tokenizer.from_hf_json(os.path.join(args.tokenizer, "tokenizer.json"))
    files = corpus.list_files(args.root)
    train_files, _ = corpus.split(files)
    t0 = time.time()
    bos, eos = tok.added_ids["<｜begin▁of▁sentence｜>"], tok.added_ids["<｜end▁of▁sentence｜>"]
    stream = corpus.token_stream(tok, args.root, train_files, bos, eos, args.cache, "train")
    say(f"train stream: {len(stream)} tokens from {len(train_files)} files "
        f"({time.time() - t0:.0f}s); corpus sha256 {corpus.fingerprint(args.root, files)}")

    cfg = make_config(args, len(tok.vocab))
    model = Transformer(cfg)
    init_weights(model, args.seed)
    freq = np.bincount(stream, minlength=cfg.vocab_size)
    table = hash_table(freq, cfg.n_routed_experts, cfg.num_experts_per_tok, args.seed)
    for i in range(cfg.num_hash_layers):
        model.layers[i].ffn.gate.tid2eid.copy_(table)
    opt = torch.optim.AdamW(param_groups(model, args.weight_decay), lr=args.lr,
                            betas=(0.9, 0.95), eps=1e-8)
    rng = np.random.default_rng(args.seed)
    step = 0
    ckpt = os.path.join(args.run, "last.pt")
    if os.path.exists(ckpt):                                   # resume where we stopped
        st = torch.load(ckpt)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        rng.bit_generator.state = st["rng"]
        step = st["step"]
        say(f"resumed at step {step}")
    n_params = sum(p.numel() for p in model.parameters())
    say(f"config {json.dumps(dataclasses.asdict(cfg))}")
    say(f"params {n_params} ({n_params / 1e6:.2f}M); args {json.dumps(vars(args))}")

    qat_from = int(args.steps * (1 - args.qat_frac))
    stop = args.steps if not args.max_steps_this_run else min(args.steps,
                                                                step + args.max_steps_this_run)
    model.train()
    acc = np.zeros(4)
    t_last = time.time()
    while step < stop:
        model.set_weight_qat(step >= qat_from)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args)
        rows = batch_at(stream, rng, args.batch, args.seq)
        loss, main_ce, mtp_ce, idx = losses(model, rows, args.mtp_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        with torch.no_grad():                                   # aux-loss-free balancing
            for gate in model.gates():
                load = gate.load.float()
                gate.bias += args.bias_rate * torch.sign(load.mean() - load)
        step += 1
        acc += [loss.item(), main_ce.item(), mtp_ce.item(), idx.item()]
        if step % args.log_every == 0 or step == stop:
            n = args.log_every if step % args.log_every == 0 else step % args.log_every
            dt = time.time() - t_last
            t_last = time.time()
            a = acc / n
            acc[:] = 0
            loads = [g.load.tolist() for g in model.gates()]
            imb = max(max(ld) / (sum(ld) / len(ld)) for ld in loads)
            say(f"step {step} loss {a[0]:.4f} main {a[1]:.4f} mtp {a[2]:.4f} idx {a[3]:.4f} "
                f"lr {lr_at(step - 1, args):.2e} gnorm {gnorm:.2f} maxload/mean {imb:.2f} "
                f"qat {int(step > qat_from)} {dt / n:.2f}s/step "
                f"{args.batch * args.seq * n / dt:.0f} tok/s elapsed {time.time() - t0:.0f}s")
        if step % args.save_every == 0 or step == stop:
            save(ckpt, model, opt, step, args, rng, cfg)
    if step >= args.steps:
        torch.save({"model": model.state_dict(), "config": dataclasses.asdict(cfg),
                    "args": vars(args), "step": step}, os.path.join(args.run, "final.pt"))
        say(f"done: {step} steps, {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
