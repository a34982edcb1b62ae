"""The byte-level BPE follows tokenizer.json semantics (HF): added tokens first, DeepSeek's
regex splits, byte-level alphabet, merges applied by rank."""
import json
import os

from tinyv4 import bpe

from conftest import REPO

MODEL = os.path.join(REPO, "models", "dsv4-tiny-code")


def test_pre_tokenizer_patterns_are_deepseeks():
    p = bpe.SPLIT_PATTERNS
    assert p[0] == "\\p{N}{1,3}"
    assert p[1] == "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+"
    assert "[^\r\n\\p{L}\\p{P}\\p{S}]?" in p[2]               # literal CR LF, as DeepSeek's
    assert bpe.pre_tokenize("x = 12345\n\n  y") == [
        "x", "Ġ=", "Ġ", "123", "45", "ĊĊ", "Ġ", "Ġy"]


def test_merges_apply_by_rank_leftmost():
    ranks = {("b", "c"): 0, ("a", "b"): 1, ("a", "a"): 2}
    assert bpe.bpe_merge("abc", ranks) == ["a", "bc"]
    assert bpe.bpe_merge("aaa", ranks) == ["aa", "a"]


def test_train_is_deterministic_and_roundtrips():
    texts = ["def foo(bar):\n    return bar + 1\n"] * 3 + ["class Foo:\n    pass\n"]
    m1, m2 = bpe.train(texts, 20), bpe.train(texts, 20)
    assert m1 == m2 and len(m1) >= 20
    vocab = {c: i for i, c in enumerate(bpe.BYTE_TO_CHAR.values())}
    for a, b in m1:
        vocab.setdefault(a + b, len(vocab))
    tok = bpe.Tokenizer(vocab, m1, [(len(vocab), "<think>", False)])
    vocab["<think>"] = len(vocab) - 1 if "<think>" in vocab else len(vocab)
    tok = bpe.Tokenizer(vocab, m1, [(vocab["<think>"], "<think>", False)])
    s = "def foo(x):<think>héllo 你好</think>\r\n"
    ids = tok.encode(s)
    assert vocab["<think>"] in ids and tok.decode(ids) == s


def test_shipped_tokenizer():
    with open(os.path.join(MODEL, "tokenizer.json"), encoding="utf-8") as f:
        t = json.load(f)
    assert [x["type"] for x in t["pre_tokenizer"]["pretokenizers"]] == \
        ["Split", "Split", "Split", "ByteLevel"]
    assert [x["pattern"]["Regex"] for x in t["pre_tokenizer"]["pretokenizers"][:3]] == \
        bpe.SPLIT_PATTERNS
    added = {a["content"]: a["id"] for a in t["added_tokens"]}
    for s in ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>",
              "<think>", "</think>", "<｜latest_reminder｜>", "｜DSML｜"]:
        assert s in added
    assert added["<｜begin▁of▁sentence｜>"] == 0 and added["<｜end▁of▁sentence｜>"] == 1
    tok = bpe.Tokenizer.from_hf_json(os.path.join(MODEL, "tokenizer.json"))
    assert len(tok.vocab) == 4096 and max(tok.vocab.values()) == 4095
    s = "<｜User｜>hi<｜Assistant｜><think>x</think>\n<｜DSML｜invoke name=\"f\">"
    ids = tok.encode(s)
    assert tok.decode(ids) == s
    assert ids[0] == added["<｜User｜>"] and added["｜DSML｜"] in ids
