"""The training corpus: the Python standard library sources Debian installs.

Deterministic by construction: files are listed sorted by path relative to the root, the
held-out split is every file whose sorted index % 50 == 0, and token streams are cached
under a key that includes the tokenizer's hash. Each file is one document:
[BOS] + tokens(text) + [EOS], documents concatenated in sorted order.
"""
import hashlib
import os

import numpy as np

DEFAULT_ROOT = "/usr/lib/python3.11"
DEFAULT_CACHE = "/tmp/dsv4-tiny-cache"
HELDOUT_EVERY = 50
# third-party packages live here and change with what is installed: not stdlib
SKIP_DIRS = {"dist-packages", "site-packages", "__pycache__"}


def list_files(root=DEFAULT_ROOT):
    files = []
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS]
        files += [os.path.relpath(os.path.join(d, n), root) for n in names if n.endswith(".py")]
    return sorted(files)


def split(files):
    """-> (train, heldout) lists of relative paths."""
    train = [f for i, f in enumerate(files) if i % HELDOUT_EVERY]
    held = [f for i, f in enumerate(files) if i % HELDOUT_EVERY == 0]
    return train, held


def read(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        return f.read()


def fingerprint(root, files):
    """sha256 over (path, content) of the files: identifies the corpus in the model card."""
    h = hashlib.sha256()
    for rel in files:
        h.update(rel.encode() + b"\0")
        with open(os.path.join(root, rel), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def heldout_sample(root, held, budget=280_000):
    """The committed sample: held-out files in sorted order, whole, skipping any file that
    would push the total over `budget` bytes (keeps the repo file < 300 KB)."""
    parts, size, used = [], 0, []
    for rel in held:
        text = read(root, rel)
        n = len(text.encode("utf-8"))
        if size + n <= budget:
            parts.append(text)
            used.append(rel)
            size += n
    return "".join(parts), used


def token_stream(tok, root, files, bos, eos, cache_dir, tag):
    """Concatenated [BOS] + ids + [EOS] per file, as uint16, cached on disk."""
    key = hashlib.sha256((tok_hash(tok) + fingerprint(root, files)).encode()).hexdigest()[:16]
    path = os.path.join(cache_dir, f"{tag}-{key}.npy")
    if os.path.exists(path):
        return np.load(path)
    ids = []
    for rel in files:
        ids.append(bos)
        ids += tok.encode(read(root, rel))
        ids.append(eos)
    arr = np.array(ids, dtype=np.uint16)
    os.makedirs(cache_dir, exist_ok=True)
    np.save(path + ".tmp.npy", arr)
    os.replace(path + ".tmp.npy", path)
    return arr


def tok_hash(tok):
    h = hashlib.sha256()
    h.update(repr(sorted(tok.vocab.items())).encode())
    h.update(repr(tok.merges).encode())
    return h.hexdigest()
