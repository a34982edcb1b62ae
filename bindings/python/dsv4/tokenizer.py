"""The tokenizer: text to token ids and back (Hugging Face tokenizer.json, byte-level BPE)."""

from __future__ import annotations

import os
from typing import Iterable

from . import _dsv4


class Tokenizer:
    """A Hugging Face ``tokenizer.json`` (byte-level BPE, as DeepSeek ships).

    Args:
        path: a ``tokenizer.json`` file, or a directory holding one. A
            ``tokenizer_config.json`` beside it names the BOS and EOS tokens.

    A model directory's tokenizer is also available as ``Model.tokenizer``. Tokenizers are
    immutable and may be shared between threads; encode and decode release the GIL.

    Raises:
        IOError: the file cannot be read.
        FormatError: the file is not a valid tokenizer.json.
        UnsupportedError: a tokenizer kind other than byte-level BPE.
    """

    def __init__(self, path: str | os.PathLike):
        self._t = _dsv4._Tokenizer(os.fspath(path))

    @classmethod
    def _wrap(cls, low: "_dsv4._Tokenizer") -> "Tokenizer":
        t = cls.__new__(cls)
        t._t = low
        return t

    def encode(self, text: str, add_bos: bool = False, parse_special: bool = False) -> list[int]:
        """Token ids of ``text``.

        Args:
            add_bos: start with the BOS token.
            parse_special: added tokens written in the text (``"<think>"``, chat markers...)
                become their ids, as Hugging Face does. Leave it off for untrusted text, which
                then is all ordinary text; turn it on for prompts from ``dsv4.chat.encode``.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        return self._t.encode(text, add_bos, parse_special)

    def decode(self, ids: Iterable[int], skip_special: bool = False) -> str:
        """The text of token ids (bytes that do not form UTF-8 become U+FFFD).

        Raises InvalidArgumentError for an id the tokenizer has no token for.
        """
        return self._t.decode([int(i) for i in ids], skip_special)

    @property
    def vocab_size(self) -> int:
        """One past the largest token id."""
        return self._t.vocab_size

    @property
    def bos_id(self) -> int | None:
        """The BOS token's id (from tokenizer_config.json), or None."""
        i = self._t.bos_id
        return None if i < 0 else i

    @property
    def eos_id(self) -> int | None:
        """The EOS token's id (from tokenizer_config.json), or None."""
        i = self._t.eos_id
        return None if i < 0 else i

    def id_to_token(self, token_id: int) -> str | None:
        """The token's string as tokenizer.json writes it (byte-level characters), or None."""
        return self._t.token_string(int(token_id))

    def token_to_id(self, token: str) -> int:
        """The id of a token string as tokenizer.json writes it (InvalidArgumentError if none)."""
        return self._t.token_id(token)

    def is_special(self, token_id: int) -> bool:
        """Whether the id is a special token (BOS, EOS, ...)."""
        return self._t.is_special(int(token_id))

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return f"dsv4.Tokenizer(vocab_size={self.vocab_size}, bos_id={self.bos_id}, eos_id={self.eos_id})"
