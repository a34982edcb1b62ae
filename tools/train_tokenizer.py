#!/usr/bin/env python3
"""Train the byte-level BPE tokenizer of the tiny model on the corpus' training split.

Writes tokenizer.json (Hugging Face format, DeepSeek pre-tokenizer, V4 special tokens) and
tokenizer_config.json. Id layout: 0 BOS, 1 EOS, 2 pad (as in DeepSeek's tokenizers, and
config.json's bos/eos ids), then the 256 byte symbols, then the merges, then the V4 chat /
tool-call markers, for `--vocab-size` ids in all.

    /usr/bin/python3 tools/train_tokenizer.py --out models/dsv4-tiny-code
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tinyv4 import bpe, corpus  # noqa: E402

HEAD_SPECIALS = [("<｜begin▁of▁sentence｜>", True), ("<｜end▁of▁sentence｜>", True),
                 ("<｜▁pad▁｜>", True)]
# V4 chat format markers (spec section 5). "｜DSML｜" is the one token inside every tool-call
# tag (<｜DSML｜invoke name="...">, </｜DSML｜parameter>, ...), as in DeepSeek's encoder; the
# task markers come from the same encoder. special=False keeps them in decoded text, as
# DeepSeek's tokenizers do for their chat markers.
TAIL_SPECIALS = [("<｜User｜>", False), ("<｜Assistant｜>", False), ("<think>", False),
                 ("</think>", False), ("<｜latest_reminder｜>", False), ("｜DSML｜", False),
                 ("<｜action｜>", False), ("<｜query｜>", False), ("<｜authority｜>", False),
                 ("<｜domain｜>", False), ("<｜title｜>", False), ("<｜read_url｜>", False)]


def build(merges, vocab_size):
    vocab = {c: i for i, (c, _) in enumerate(HEAD_SPECIALS)}
    for b in range(256):
        vocab[bpe.BYTE_TO_CHAR[b]] = len(vocab)
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    added = [(i, c, s) for i, (c, s) in enumerate(HEAD_SPECIALS)]
    for c, s in TAIL_SPECIALS:
        assert c not in vocab, f"merge collides with special {c}"
        vocab[c] = len(vocab)
        added.append((vocab[c], c, s))
    assert len(vocab) == vocab_size, (len(vocab), vocab_size)
    return bpe.Tokenizer(vocab, merges, added)


def tokenizer_config(tok):
    def added(i):
        return {"__type": "AddedToken", "content": tok.id_to_token[i], "lstrip": False,
                "normalized": False, "rstrip": False, "single_word": False}
    return {"add_bos_token": True, "add_eos_token": False, "bos_token": added(0),
            "eos_token": added(1), "pad_token": added(1), "unk_token": None,
            "clean_up_tokenization_spaces": False, "legacy": True,
            "model_max_length": 1048576, "sp_model_kwargs": {},
            "tokenizer_class": "LlamaTokenizerFast"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--root", default=corpus.DEFAULT_ROOT)
    ap.add_argument("--vocab-size", type=int, default=4096)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    train_files, _ = corpus.split(corpus.list_files(args.root))
    t0 = time.time()
    n_new = args.vocab_size - len(HEAD_SPECIALS) - 256 - len(TAIL_SPECIALS)
    merges = bpe.train((corpus.read(args.root, f) for f in train_files), n_new,
                       progress=lambda n, p, c: print(f"  {n} merges, last {p} x{c}",
                                                      flush=True))
    tok = build(merges, args.vocab_size)
    print(f"{len(merges)} merges, vocab {len(tok.vocab)}, {time.time() - t0:.0f}s")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok.to_hf_json(), f, ensure_ascii=False, indent=1)
    with open(os.path.join(args.out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_config(tok), f, ensure_ascii=False, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
