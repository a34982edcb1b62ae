"""dsv4.Tokenizer and Model.tokenizer: round trips on the shipped tokenizer, specials, lookups,
and the errors bad files raise."""
import json
import os

import dsv4
import pytest

from conftest import REPO

TINY_CODE = REPO / "models" / "dsv4-tiny-code"
FIXTURE = REPO / "tests" / "data" / "tokenizer_fixture"

TEXTS = [
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "héllo wörld, naïve café",
    "你好，世界。こんにちは",
    "emoji 🎉🚀 and \t tabs\r\n and   spaces",
    "",
    "x = [1, 22, 333, 4444, 55555]",
]


@pytest.fixture(scope="module")
def tok():
    return dsv4.Tokenizer(TINY_CODE / "tokenizer.json")


def test_round_trip(tok):
    for text in TEXTS:
        ids = tok.encode(text)
        assert all(isinstance(i, int) and 0 <= i < tok.vocab_size for i in ids)
        assert tok.decode(ids) == text


def test_bos_eos_and_specials(tok):
    config = json.loads((TINY_CODE / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert tok.id_to_token(tok.bos_id) == config["bos_token"]["content"]
    assert tok.id_to_token(tok.eos_id) == config["eos_token"]["content"]
    assert tok.is_special(tok.bos_id) and not tok.is_special(tok.encode("a")[0])
    ids = tok.encode("hi", add_bos=True)
    assert ids[0] == tok.bos_id and ids[1:] == tok.encode("hi")
    marker = "<think>"
    assert tok.encode(marker, parse_special=True) == [tok.token_to_id(marker)]
    assert len(tok.encode(marker)) > 1
    with_eos = tok.encode("x" + config["eos_token"]["content"], parse_special=True)
    assert with_eos[-1] == tok.eos_id
    assert tok.decode(with_eos, skip_special=True) == "x"
    assert len(tok) == tok.vocab_size


def test_directory_and_lookups(tok):
    from_dir = dsv4.Tokenizer(str(TINY_CODE))
    assert from_dir.vocab_size == tok.vocab_size
    for i in (3, 100, tok.vocab_size - 1):
        s = tok.id_to_token(i)
        if s is not None:
            assert tok.token_to_id(s) == i
    assert tok.id_to_token(10**6) is None
    assert "vocab_size" in repr(tok)


def test_model_tokenizer(tiny_dir, tmp_path):
    with dsv4.Model(tiny_dir) as m:
        assert m.tokenizer is None
    text_model = make_text_model(tiny_dir, tmp_path)
    m = dsv4.Model(text_model)
    t = m.tokenizer
    assert isinstance(t, dsv4.Tokenizer) and t.vocab_size == 356 and t.bos_id == 351 and t.eos_id == 352
    m.close()
    # The tokenizer keeps what it needs open.
    assert t.decode(t.encode("still works")) == "still works"


def make_text_model(golden_model, dest):
    """A golden checkpoint with the tokenizer fixture beside it."""
    d = dest / "text-model"
    d.mkdir()
    for name in ("config.json", "model.safetensors"):
        os.symlink(golden_model / name, d / name)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (d / name).write_bytes((FIXTURE / name).read_bytes())
    return d


def test_errors(tmp_path, tok):
    with pytest.raises(dsv4.IOError, match="nowhere"):
        dsv4.Tokenizer(tmp_path / "nowhere.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(dsv4.FormatError, match="bad.json"):
        dsv4.Tokenizer(bad)
    wordpiece = tmp_path / "wp.json"
    wordpiece.write_text(json.dumps({"model": {"type": "WordPiece", "vocab": {"a": 0}}}))
    with pytest.raises(dsv4.UnsupportedError, match="BPE"):
        dsv4.Tokenizer(wordpiece)
    with pytest.raises(dsv4.InvalidArgumentError, match="999999"):
        tok.decode([5, 999999])
    with pytest.raises(dsv4.InvalidArgumentError):
        tok.token_to_id("no such token string")
    with pytest.raises(TypeError):
        tok.encode(b"bytes")
