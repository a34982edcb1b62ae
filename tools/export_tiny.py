#!/usr/bin/env python3
"""Export a trained tiny V4 to the official checkpoint layout and measure it.

Writes into --out: config.json, model.safetensors (FP8 / FP4 / BF16 / F32 / I64 as in
ARCHITECTURE-V4.md section 2, by our own writer), the tokenizer files (copied when they
live elsewhere), heldout_sample.txt, metrics.json and MODEL_CARD.md. The quantized model is
evaluated by loading the written safetensors back, i.e. exactly the weights an engine reads.

    /usr/bin/python3 tools/export_tiny.py --run /tmp/dsv4-tiny-run --out models/dsv4-tiny-code
"""
import argparse
import json
import os
import shutil
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tinyv4 import bpe, card, checkpoint, corpus, safetensors  # noqa: E402
from tinyv4.config import V4Config  # noqa: E402
from tinyv4.evaluate import evaluate, greedy  # noqa: E402

PROMPTS = ["import os\n\n\ndef ", "class ", "    for i in range("]
N_NEW = 32
from tinyv4.model import Transformer  # noqa: E402


def load_trained(path):
    st = torch.load(path)
    cfg = V4Config(**st["config"])
    model = Transformer(cfg)
    model.load_state_dict(st["model"])
    return model.eval(), cfg, st


def write_card(args, cfg, st, metrics):
    log = os.path.join(args.run, "train.log")
    text = open(log).read() if os.path.exists(log) else ""
    with open(os.path.join(args.out, "MODEL_CARD.md"), "w", encoding="utf-8") as f:
        f.write(card.render(cfg, st, metrics, text, args.out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--run", required=True, help="training run directory (final.pt, train.log)")
    ap.add_argument("--ckpt", default="final.pt", help="checkpoint file inside --run")
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokenizer", default=None, help="tokenizer dir (default: --out)")
    ap.add_argument("--root", default=corpus.DEFAULT_ROOT)
    ap.add_argument("--cache", default=corpus.DEFAULT_CACHE)
    ap.add_argument("--skip-eval", action="store_true")
    ap.add_argument("--card-only", action="store_true",
                    help="only re-render MODEL_CARD.md from the existing metrics.json")
    ap.add_argument("--eval-tokens", type=int, default=0,
                    help="evaluate only this many tokens per split (quick checks; 0 = all)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    tok_dir = args.tokenizer or args.out
    os.makedirs(args.out, exist_ok=True)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        src, dst = os.path.join(tok_dir, name), os.path.join(args.out, name)
        if os.path.abspath(src) != os.path.abspath(dst):
            shutil.copyfile(src, dst)

    model, cfg, st = load_trained(os.path.join(args.run, args.ckpt))
    if args.card_only:
        with open(os.path.join(args.out, "metrics.json")) as f:
            write_card(args, cfg, st, json.load(f))
        return
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg.hf_dict(), f, indent=2)
        f.write("\n")
    st_path = os.path.join(args.out, "model.safetensors")
    safetensors.write(st_path, checkpoint.to_tensors(model))
    print(f"wrote {st_path}: {os.path.getsize(st_path) / 1e6:.2f} MB")

    files = corpus.list_files(args.root)
    _, held = corpus.split(files)
    sample, sample_files = corpus.heldout_sample(args.root, held)
    with open(os.path.join(args.out, "heldout_sample.txt"), "w", encoding="utf-8") as f:
        f.write(sample)

    metrics = {"corpus_sha256": corpus.fingerprint(args.root, files), "n_files": len(files),
               "heldout_files": held, "sample_files": sample_files}
    if not args.skip_eval:
        tok = bpe.Tokenizer.from_hf_json(os.path.join(args.out, "tokenizer.json"))
        bos = tok.added_ids["<｜begin▁of▁sentence｜>"]
        eos = tok.added_ids["<｜end▁of▁sentence｜>"]
        held_ids = corpus.token_stream(tok, args.root, held, bos, eos, args.cache, "heldout")
        train_files, _ = corpus.split(files)
        metrics["train_tokens"] = len(corpus.token_stream(tok, args.root, train_files, bos, eos,
                                                          args.cache, "train"))
        sample_ids = [bos] + tok.encode(sample)
        quant, _ = checkpoint.load_model(args.out)
        if args.eval_tokens:
            held_ids, sample_ids = held_ids[:args.eval_tokens], sample_ids[:args.eval_tokens]
        for label, m in (("float", model), ("quantized", quant)):
            for split, ids in (("heldout", held_ids), ("sample", sample_ids)):
                t = time.time()
                r = evaluate(m, ids)
                metrics[f"{label}_{split}"] = r
                print(f"{label} {split}: ppl {r['ppl']:.3f} top1 {r['top1_acc']:.3f} "
                      f"mtp agreement {r['mtp_agreement']:.3f} ({time.time() - t:.0f}s)",
                      flush=True)
        # greedy continuations of the quantized model: token ids an engine should reproduce
        metrics["greedy"] = []
        for p in PROMPTS:
            ids = [bos] + tok.encode(p)
            out = greedy(quant, ids, N_NEW)
            metrics["greedy"].append({"prompt": p, "prompt_ids": ids, "ids": out,
                                      "text": tok.decode(out[1:])})
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
        f.write("\n")
    write_card(args, cfg, st, metrics)
    total = sum(os.path.getsize(os.path.join(args.out, n)) for n in os.listdir(args.out))
    print(f"total {total / 1e6:.2f} MB in {args.out}")


if __name__ == "__main__":
    main()
