"""Byte-level BPE with DeepSeek's pre-tokenizer, following Hugging Face tokenizer.json semantics.

Encoding (what the engine does with our tokenizer.json, step by step):
  1. added tokens are cut out of the raw text first (leftmost, longest match wins);
  2. the rest goes through the pre_tokenizer Sequence: three regex Splits with behaviour
     "Isolated" (each match becomes its own piece, and so does each gap between matches),
     each applied to every piece the previous one produced, then ByteLevel (no prefix
     space, no regex): UTF-8 bytes -> the printable byte alphabet below;
  3. every piece is BPE-encoded: repeatedly merge the adjacent pair with the lowest merge
     rank (leftmost occurrence on ties) until no listed pair remains.
Training counts pieces of the corpus and greedily merges the most frequent pair.
"""
import collections
import heapq
import json

import regex

# The three Split patterns of DeepSeek-V3's tokenizer.json (V4 uses the same pre-tokenizer):
# digits in runs of at most 3, runs of CJK / kana, then a GPT-style word / punctuation /
# whitespace split. Strings are byte-for-byte DeepSeek's (note the literal CR / LF inside
# the brackets), so an engine can recognise the pre-tokenizer by its patterns.
SPLIT_PATTERNS = [
    "\\p{N}{1,3}",
    "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?"
    "[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
]
_SPLITS = [regex.compile(p) for p in SPLIT_PATTERNS]


def byte_alphabet():
    """GPT-2 style reversible byte -> printable character map (ByteLevel pre-tokenizer):
    printable Latin-1 bytes stand for themselves, the other 68 bytes are shifted to 256+."""
    keep = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_TO_CHAR = byte_alphabet()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def pre_tokenize(text):
    """Raw text (no added tokens inside) -> list of byte-level pieces."""
    pieces = [text]
    for pat in _SPLITS:
        out = []
        for p in pieces:
            pos = 0
            for m in pat.finditer(p):
                if m.start() > pos:
                    out.append(p[pos:m.start()])
                out.append(m.group())
                pos = m.end()
            if pos < len(p):
                out.append(p[pos:])
        pieces = out
    return ["".join(BYTE_TO_CHAR[b] for b in p.encode("utf-8")) for p in pieces]


def bpe_merge(symbols, ranks):
    """Apply merges by rank (lowest first, leftmost on ties) to a list of symbols."""
    symbols = list(symbols)
    while len(symbols) > 1:
        best, at = None, -1
        for i in range(len(symbols) - 1):
            r = ranks.get((symbols[i], symbols[i + 1]))
            if r is not None and (best is None or r < best):
                best, at = r, i
        if best is None:
            break
        symbols[at:at + 2] = [symbols[at] + symbols[at + 1]]
    return symbols


class Tokenizer:
    def __init__(self, vocab, merges, added):
        """vocab {token: id}; merges [(a, b)] in rank order; added [(id, content, special)]."""
        self.vocab = vocab
        self.id_to_token = {i: t for t, i in vocab.items()}
        self.merges = merges
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.added = added
        self.added_ids = {c: i for i, c, _ in added}
        # longest first so that alternation gives leftmost-longest matches
        alts = sorted(self.added_ids, key=len, reverse=True)
        self._added_re = regex.compile("|".join(regex.escape(a) for a in alts)) if alts else None
        self._cache = {}

    def _encode_piece(self, piece):
        ids = self._cache.get(piece)
        if ids is None:
            ids = [self.vocab[s] for s in bpe_merge(piece, self.ranks)]
            if len(self._cache) < 1_000_000:
                self._cache[piece] = ids
        return ids

    def encode(self, text):
        ids = []
        pos = 0
        spans = self._added_re.finditer(text) if self._added_re else []
        for m in spans:
            ids += self._encode_plain(text[pos:m.start()])
            ids.append(self.added_ids[m.group()])
            pos = m.end()
        ids += self._encode_plain(text[pos:])
        return ids

    def _encode_plain(self, text):
        out = []
        for piece in pre_tokenize(text) if text else []:
            out += self._encode_piece(piece)
        return out

    def decode(self, ids):
        """ByteLevel decoder: added tokens as their text, the rest back to UTF-8 bytes."""
        parts, buf = [], bytearray()
        for i in ids:
            tok = self.id_to_token[i]
            if tok in self.added_ids:
                parts.append(buf.decode("utf-8", "replace"))
                buf = bytearray()
                parts.append(tok)
            else:
                buf += bytes(CHAR_TO_BYTE[c] for c in tok)
        parts.append(buf.decode("utf-8", "replace"))
        return "".join(parts)

    # ------------------------------------------------------------- tokenizer.json
    def to_hf_json(self):
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [{"id": i, "content": c, "single_word": False, "lstrip": False,
                              "rstrip": False, "normalized": False, "special": s}
                             for i, c, s in self.added],
            "normalizer": {"type": "Sequence", "normalizers": []},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": p}, "behavior": "Isolated",
                 "invert": False} for p in SPLIT_PATTERNS] + [
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                 "use_regex": False}]},
            "post_processor": {"type": "ByteLevel", "add_prefix_space": True,
                               "trim_offsets": False, "use_regex": True},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                        "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None,
                      "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False,
                      "vocab": dict(sorted(self.vocab.items(), key=lambda kv: kv[1])),
                      "merges": [f"{a} {b}" for a, b in self.merges]},
        }

    @classmethod
    def from_hf_json(cls, path):
        """Read back a tokenizer.json (ours or DeepSeek's: string or pair merges)."""
        with open(path, encoding="utf-8") as f:
            t = json.load(f)
        m = t["model"]
        merges = [tuple(x.split(" ", 1)) if isinstance(x, str) else tuple(x) for x in m["merges"]]
        vocab = dict(m["vocab"])
        added = [(a["id"], a["content"], a["special"]) for a in t["added_tokens"]]
        for i, c, _ in added:
            vocab.setdefault(c, i)
        return cls(vocab, merges, added)


def train(texts, n_new_tokens, progress=None):
    """Learn merges until they have made `n_new_tokens` distinct new tokens (two merges can
    spell the same string; fewer if the pieces run out), from an iterable of texts.
    Deterministic: the most frequent pair wins, ties go to the smallest (a, b) strings.
    -> merges [(a, b)] in rank order."""
    counts = collections.Counter()
    for t in texts:
        counts.update(pre_tokenize(t))
    words = [list(w) for w in counts]
    freq = [counts[w] for w in counts]
    pair_count = collections.Counter()
    where = collections.defaultdict(set)           # pair -> indices of words containing it
    for wi, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += freq[wi]
            where[(a, b)].add(wi)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges, made = [], set()
    while len(made) < n_new_tokens and heap:
        negc, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -negc or negc == 0:
            continue                               # stale heap entry
        merges.append(pair)
        a, b = pair
        new = a + b
        made.add(new)
        changed = set()
        for wi in list(where[pair]):
            w, f = words[wi], freq[wi]
            for x, y in zip(w, w[1:]):             # remove this word's old pairs
                pair_count[(x, y)] -= f
                changed.add((x, y))
            i, out = 0, []
            while i < len(w):                      # merge left to right, non-overlapping
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[wi] = out
            for x, y in zip(out, out[1:]):
                pair_count[(x, y)] += f
                where[(x, y)].add(wi)
                changed.add((x, y))
        del where[pair]
        pair_count.pop(pair, None)
        for p in changed:
            c = pair_count.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, p))
        if progress and len(merges) % 500 == 0:
            progress(len(merges), pair, -negc)
    return merges
