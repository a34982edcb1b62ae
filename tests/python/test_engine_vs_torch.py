"""The engine and the PyTorch implementation in tools/ agree on the embedded default model:
perplexity through `dsv4 perplexity` equals tools/tinyv4/evaluate.py's on the same ids."""
import os
import re
import subprocess
from pathlib import Path

import pytest

import torch  # python3-torch, installed by scripts/setup.sh

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "dsv4-tiny-code"


def _cli():
    cli = os.environ.get("DSV4_CLI")
    if not cli:
        pytest.fail("DSV4_CLI is not set (ctest sets it to the built dsv4 program)")
    return cli


def test_perplexity_matches_pytorch():
    from tinyv4 import bpe, checkpoint
    from tinyv4.evaluate import evaluate

    n_tokens = 600  # two windows of 512: the second one is shorter
    out = subprocess.run([_cli(), "perplexity", "-m", str(MODEL), "--file", str(MODEL / "heldout_sample.txt"),
                          "--max-tokens", str(n_tokens)], capture_output=True, text=True, check=True).stdout
    engine_nll = float(re.search(r"mean nll: ([0-9.]+)", out).group(1))
    assert re.search(r"^perplexity: [0-9.]+$", out, re.M)

    torch.set_num_threads(1)
    tok = bpe.Tokenizer.from_hf_json(str(MODEL / "tokenizer.json"))
    bos = tok.added_ids["<｜begin▁of▁sentence｜>"]
    ids = [bos] + tok.encode((MODEL / "heldout_sample.txt").read_text(encoding="utf-8"))
    quant, _ = checkpoint.load_model(str(MODEL))
    ref = evaluate(quant, ids[:n_tokens])
    assert ref["tokens_scored"] == n_tokens - 2
    assert engine_nll == pytest.approx(ref["nll"], abs=1e-4)
