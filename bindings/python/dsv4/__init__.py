"""dsv4: DeepSeek-V4 inference from Python.

    import dsv4
    with dsv4.Model("path/to/checkpoint") as model:
        session = model.session(ctx=4096)
        session.prefill([0, 1, 2])
        print(session.logits.argmax())

Everything runs through the library's C ABI; calls that compute release the GIL, so other
Python threads keep running, and sessions of one model may run on several threads at once
(one thread per session at a time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

from . import _dsv4, chat
from ._errors import (BackendError, CancelledError, ContextFullError, Error, FormatError, InternalError,
                      InvalidArgumentError, IOError, OutOfMemoryError, UnsupportedError)

__all__ = [
    "Model", "ModelInfo", "Session", "SessionInfo", "chat", "version", "backends",
    "Error", "InvalidArgumentError", "IOError", "FormatError", "UnsupportedError", "OutOfMemoryError",
    "ContextFullError", "CancelledError", "BackendError", "InternalError",
]

__version__ = _dsv4.version()


def version() -> str:
    """The version of the loaded dsv4 library."""
    return _dsv4.version()


def backends() -> list[str]:
    """Names of the compiled-in compute backends."""
    return _dsv4.backends()


@dataclass(frozen=True)
class ModelInfo:
    """The shape of a loaded model (see dsv4_model_info in dsv4.h)."""
    n_layers: int
    n_mtp_layers: int
    hidden_size: int
    n_heads: int
    head_dim: int
    rope_head_dim: int
    q_lora_rank: int
    o_groups: int
    o_lora_rank: int
    sliding_window: int
    n_routed_experts: int
    n_experts_per_tok: int
    n_shared_experts: int
    moe_intermediate_size: int
    n_hash_layers: int
    index_n_heads: int
    index_head_dim: int
    index_topk: int
    hc_mult: int
    vocab_size: int
    bos_token_id: int
    eos_token_id: int
    max_context: int
    total_params: int
    active_params: int
    total_bytes: int
    experts_fp4: bool
    bytes_by_dtype: dict = field(default_factory=dict)
    compress_ratios: list = field(default_factory=list)
    backend: str = ""


@dataclass(frozen=True)
class SessionInfo:
    """A session's position and the bytes of its state (caches, rings, carry)."""
    n_ctx: int
    position: int
    state_bytes: int
    window_bytes: int
    compressed_bytes: int
    indexer_bytes: int
    carry_bytes: int


class Model:
    """A DeepSeek-V4 checkpoint, loaded (memory-mapped) from a directory.

    Args:
        path: directory with config.json and model.safetensors (or an index and shards).
        backend: compute backend name ("cpu", "reference"); None for the default.
        threads: worker threads; 0 for one per core.
        use_mmap: map the checkpoint instead of reading it into memory.
        progress: optional ``callable(done_bytes, total_bytes)`` during loading; return
            False to cancel (raises CancelledError).

    Use as a context manager, or call close(). Sessions keep the model's memory alive
    until they are closed too.
    """

    def __init__(self, path: str, backend: str | None = None, threads: int = 0, use_mmap: bool = True,
                 progress: Callable[[int, int], bool | None] | None = None):
        self._m = _dsv4._Model(str(path), backend or "", threads, use_mmap, progress)
        self.path = str(path)
        self._info: ModelInfo | None = None

    @property
    def info(self) -> ModelInfo:
        """The model's dimensions, parameter counts and bytes by dtype."""
        if self._info is None:
            self._info = ModelInfo(**self._m.info())
        return self._info

    def session(self, ctx: int = 4096, prefill_chunk: int = 0) -> "Session":
        """A new session (conversation state) with a context limit of ``ctx`` tokens."""
        return Session(self, ctx, prefill_chunk)

    def close(self) -> None:
        """Releases the model (its memory goes once its sessions are closed too)."""
        self._m.close()

    @property
    def closed(self) -> bool:
        return self._m.closed

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"dsv4.Model({self.path!r}{', closed' if self.closed else ''})"


class Session:
    """The state of one token stream on a model: feed tokens, read logits.

    A session is used by one thread at a time; several sessions of one model may run
    concurrently on different threads.
    """

    def __init__(self, model: Model, ctx: int = 4096, prefill_chunk: int = 0):
        self.model = model
        self._s = _dsv4._Session(model._m, ctx, prefill_chunk)

    def prefill(self, tokens: Sequence[int] | np.ndarray) -> None:
        """Feeds a prompt of any length after the current position (in chunks)."""
        self._s.prefill([int(t) for t in tokens])

    def decode(self, token: int) -> None:
        """Feeds one token."""
        self._s.decode(int(token))

    @property
    def logits(self) -> np.ndarray:
        """A float32 copy of the logits after the last token fed, shape [vocab_size]."""
        return self._s.logits()

    def mtp_logits(self, next_token: int) -> np.ndarray:
        """The MTP head's logits (a draft of the token after ``next_token``) at the last position."""
        return self._s.mtp_logits(int(next_token))

    def reset(self) -> None:
        """Forgets every token (position 0)."""
        self._s.reset()

    @property
    def position(self) -> int:
        """How many tokens have been fed."""
        return self._s.position()

    @property
    def info(self) -> SessionInfo:
        return SessionInfo(**self._s.info())

    def cancel(self) -> None:
        """Asks a call running on another thread to stop (it raises CancelledError)."""
        self._s.cancel()

    def close(self) -> None:
        self._s.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
