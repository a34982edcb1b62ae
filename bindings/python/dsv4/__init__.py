"""dsv4: DeepSeek-V4 inference from Python.

    import dsv4
    with dsv4.Model("path/to/checkpoint") as model:
        session = model.session(ctx=4096)
        for piece in session.generate("def fib(n):", max_tokens=64, temperature=0.7):
            print(piece, end="", flush=True)

        # Low level: feed tokens, read logits.
        session.reset()
        session.prefill([0, 1, 2])
        print(session.logits.argmax())

A checkpoint directory with a tokenizer.json has ``model.tokenizer``; without one, generate
from token ids with ``ids_only=True``. Chat prompts come from ``dsv4.chat.encode``.

Everything runs through the library's C ABI; calls that compute release the GIL, so other
Python threads keep running, and sessions of one model may run on several threads at once
(one thread per session at a time).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from . import _dsv4, chat
from ._errors import (BackendError, CancelledError, ContextFullError, Error, FormatError, InternalError,
                      InvalidArgumentError, IOError, OutOfMemoryError, UnsupportedError)
from .generation import Generation
from .tokenizer import Tokenizer

__all__ = [
    "Model", "ModelInfo", "Session", "SessionInfo", "SessionStats", "Tokenizer", "Generation", "chat", "version",
    "backends", "cpu_isa", "measure_read_bandwidth", "measure_gemm_peak", "measure_decode_kernel",
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


def cpu_isa() -> str:
    """The instruction set the cpu backend's kernels use: "avx512fp16", "avx512vnni", "avx512",
    "avx2" or "scalar" (the best the CPU has, lowered by the DSV4_CPU_ISA environment variable)."""
    return _dsv4.cpu_isa()


def measure_read_bandwidth(threads: int = 0, buffer_bytes: int = 0) -> float:
    """The machine's streaming read bandwidth in GB/s (1e9 bytes/s) with ``threads`` threads
    (0: one per core) over ``buffer_bytes`` (0: max(1 GiB, 4x the last-level cache)) in 2 MiB
    pages, the best of 5 passes: decode's memory roofline. Takes about a second."""
    return _dsv4.measure_read_bandwidth(int(threads), int(buffer_bytes))


def measure_gemm_peak(threads: int = 0, m: int = 0, n: int = 0, k: int = 0) -> float:
    """GFLOP/s of the cpu backend's prefill GEMM (double precision) on X[m, k] times a decoded
    weight of n rows (0: 256, 4096, 4096), the best of 3: prefill's compute roofline."""
    return _dsv4.measure_gemm_peak(int(threads), int(m), int(n), int(k))


def measure_decode_kernel(format: str, threads: int = 0) -> float:
    """GB/s of weight bytes the cpu backend's one-token product for ``format`` ("bf16", "fp8"
    or "fp4") reaches on a 4 MiB weight kept in cache: how fast the cores decode that format
    when memory is not what they wait for. Decode reads a format no faster than the lower of
    this and ``measure_read_bandwidth``.

    Raises:
        InvalidArgumentError: an unknown format or a negative thread count.
    """
    return _dsv4.measure_decode_kernel(str(format), int(threads))


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
    """A session's position and the bytes of its state (caches, rings, carry), sized for its
    ``n_ctx`` tokens at creation. ``kv_row_bytes`` is one window row or compressed attention
    entry (FP8 codes with power-of-two scales, rotary dims in float32), ``index_key_bytes`` one
    compressed indexer key (FP4 codes with scales); ``history_bytes`` holds the fed tokens."""
    n_ctx: int
    position: int
    state_bytes: int
    window_bytes: int
    compressed_bytes: int
    indexer_bytes: int
    carry_bytes: int
    history_bytes: int = 0
    kv_row_bytes: int = 0
    index_key_bytes: int = 0


@dataclass(frozen=True)
class SessionStats:
    """What a session's calls have read and how long its matrix products took, since its creation.

    ``weight_bytes`` counts the checkpoint bytes the forward passes read (each linear's rows
    with their scales, only the routed experts chosen, the head, ...); ``last_*`` cover the last
    prefill or decode call alone. ``matmul_seconds`` and ``matmul_bytes`` split the matrix
    products by weight format ("bf16", "fp8", "fp4"): bytes / seconds is the rate each format
    ran at, to set beside ``measure_read_bandwidth`` and ``measure_decode_kernel``."""
    tokens: int
    weight_bytes: int
    last_tokens: int
    last_weight_bytes: int
    matmul_seconds: dict = field(default_factory=dict)
    matmul_bytes: dict = field(default_factory=dict)


class Model:
    """A DeepSeek-V4 checkpoint, loaded (memory-mapped) from a directory.

    Args:
        path: directory with config.json and model.safetensors (or an index and shards), and
            optionally tokenizer.json (+ tokenizer_config.json): then ``tokenizer`` is set.
        backend: compute backend name ("cpu", "reference"); None for the default.
        threads: worker threads; 0 for one per core.
        use_mmap: map the checkpoint instead of reading it into memory.
        memory_budget: bytes the model may use; 0 for no limit (checked when not mapping).
        progress: optional ``callable(done_bytes, total_bytes)`` during loading; return
            False to cancel (raises CancelledError).

    Raises:
        IOError: a file is missing or unreadable.
        FormatError: config.json, the safetensors or tokenizer.json is malformed (or the
            tokenizer has ids beyond the model's vocabulary).
        UnsupportedError: an unknown backend or unsupported checkpoint feature.
        OutOfMemoryError: the checkpoint does not fit memory_budget.

    Use as a context manager, or call close(). Sessions (and the tokenizer) keep the model's
    memory alive until they are closed too.
    """

    def __init__(self, path: str | os.PathLike, backend: str | None = None, threads: int = 0, use_mmap: bool = True,
                 progress: Callable[[int, int], bool | None] | None = None, memory_budget: int = 0):
        self._m = _dsv4._Model(os.fspath(path), backend or "", threads, use_mmap, memory_budget, progress)
        self.path = os.fspath(path)
        self._info: ModelInfo | None = None
        low = self._m.tokenizer()
        self._tokenizer = Tokenizer._wrap(low) if low is not None else None

    @property
    def info(self) -> ModelInfo:
        """The model's dimensions, parameter counts and bytes by dtype."""
        if self._info is None:
            self._info = ModelInfo(**self._m.info())
        return self._info

    @property
    def tokenizer(self) -> Tokenizer | None:
        """The tokenizer from the checkpoint directory (tokenizer.json), or None."""
        return self._tokenizer

    def session(self, ctx: int = 4096, prefill_chunk: int = 0) -> "Session":
        """A new session (conversation state) with a context limit of ``ctx`` tokens."""
        return Session(self, ctx, prefill_chunk)

    def estimate_session(self, ctx: int) -> SessionInfo:
        """The state a session of ``ctx`` tokens would hold (``Session.info`` at position 0;
        ``ctx`` 0 takes the library's default, 4096), computed without allocating it: plan
        memory before creating sessions, up to the model's ``max_context``.

        Raises:
            InvalidArgumentError: ``ctx`` is negative or above the model's ``max_context``.
        """
        return SessionInfo(**self._m.estimate_session(int(ctx)))

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
    """The state of one token stream on a model: generate text, or feed tokens and read logits.

    A session is used by one thread at a time (a call from a second thread while one runs
    raises InvalidArgumentError); several sessions of one model may run concurrently on
    different threads. Computing calls release the GIL; Ctrl-C in the main thread stops them
    with KeyboardInterrupt and leaves the session usable.
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

    @property
    def stats(self) -> SessionStats:
        """Tokens fed, weight bytes read and matrix-product time by weight format, since the
        session was created (``last_*``: the last prefill or decode call)."""
        return SessionStats(**self._s.stats())

    def snapshot(self) -> bytes:
        """The session's whole state as bytes (a versioned, checksummed format; its size grows
        with the position, not with ``ctx``). ``restore`` reads it into any session of the same
        model, in this process or another, that then continues bit for bit as this one would."""
        return self._s.snapshot()

    def restore(self, data: bytes | bytearray | memoryview) -> None:
        """Replaces the state with a snapshot's.

        Raises:
            FormatError: not an intact snapshot of this model (the message says why); the
                session is unchanged.
            InvalidArgumentError: the snapshot holds more tokens than this session's ``ctx``.
        """
        self._s.restore(data)

    def save(self, path: str | os.PathLike) -> None:
        """Writes ``snapshot()`` to a file (through ``path.tmp``, renamed when complete)."""
        self._s.save(os.fspath(path))

    def load(self, path: str | os.PathLike) -> None:
        """Restores a snapshot file written by ``save`` (as ``restore``; IOError if unreadable)."""
        self._s.load(os.fspath(path))

    def fork(self) -> "Session":
        """A new session of the same model, ``ctx`` and prefill chunk, holding a copy of this
        one's state: for branching a conversation."""
        child = Session.__new__(Session)
        child.model = self.model
        child._s = self._s.fork()
        return child

    def truncate(self, position: int) -> None:
        """Goes back to ``position`` (at most ``self.position``), exactly as if only the first
        ``position`` tokens had been fed. Going back up to 32 tokens is cheap; further back
        re-runs the kept tokens (the cost of prefilling them)."""
        if position < 0:
            raise InvalidArgumentError(f"position must be non-negative, not {position}")
        self._s.truncate(int(position))

    def verify(self, tokens: Sequence[int] | np.ndarray) -> np.ndarray:
        """Feeds ``tokens`` as one batch (each weight read once for all of them) and returns the
        logits after every one, float32 of shape [len(tokens), vocab_size]; row i is what
        ``decode`` of the same tokens would give after token i, bit for bit. For speculative
        decoding: verify drafts, then ``truncate`` back past the first rejected one."""
        ids = [int(t) for t in tokens]
        if not ids:
            raise InvalidArgumentError("verify needs at least one token")
        return self._s.verify(ids)

    def generate(self, prompt: str | Sequence[int] | np.ndarray = (), *, max_tokens: int | None = 256,
                 temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0, min_p: float = 0.0,
                 repetition_penalty: float = 1.0, presence_penalty: float = 0.0, frequency_penalty: float = 0.0,
                 penalty_last_n: int = 64, seed: int = 0, stop: Sequence[str] | str = (),
                 stop_tokens: Sequence[int] = (), stop_at_eos: bool = True,
                 logit_bias: Mapping[int, float] | None = None, add_bos: bool | None = None,
                 parse_special: bool = False, skip_special: bool = False, ids_only: bool = False,
                 tokenizer: Tokenizer | None = None, speculation: str = "auto",
                 n_draft: int = 1) -> Generation:
        """Feeds ``prompt`` and returns an iterator over what the model generates next.

        The iterator yields ``str`` pieces of text, or with ``ids_only=True`` ``int`` token ids
        (needed for models without a tokenizer). See Generation for its ``tokens``, ``text``
        and ``finish_reason``. The prompt is fed when generate() is called; the first token is
        sampled from the logits after it (an empty prompt continues from the session's current
        position).

        Args:
            prompt: text (encoded with the tokenizer) or token ids, fed after the current
                position.
            max_tokens: tokens to sample at most; None: until a stop or a full context.
            temperature: <= 0 for greedy decoding.
            top_k, top_p, min_p: restrict sampling to the most likely tokens (0, 1, 0: off).
            repetition_penalty, presence_penalty, frequency_penalty: penalize tokens among the
                last ``penalty_last_n`` of the prompt and the output (-1: all of them).
            seed: the random seed; the same seed gives the same output on every platform.
            stop: strings that end the text (the text stops just before the first one).
            stop_tokens: token ids that end generation.
            stop_at_eos: the model's EOS token ends generation.
            logit_bias: ``{token_id: bias}`` added to the logits.
            add_bos: start a text prompt with the BOS token; None: only when the session is
                empty.
            parse_special: special tokens written in a text prompt become their ids (turn on
                for prompts from ``dsv4.chat.encode``).
            skip_special: special tokens add no text to the output.
            ids_only: yield token ids instead of text.
            tokenizer: the tokenizer for text; None: the model's.
            speculation: speculative decoding with the model's MTP block (no effect without
                one): "auto" drafts while that is faster than plain decoding (timed as it
                runs), "always" on every pass, "off" never. The output is the same either way,
                sampled output with a seed included. Generation.stats shows what ran.
            n_draft: tokens drafted per pass, 1 to 8.

        Raises:
            InvalidArgumentError: a bad parameter or token id, text without a tokenizer, or an
                empty prompt on an empty session.
            ContextFullError: the prompt does not fit the context.
            KeyboardInterrupt: Ctrl-C while the prompt was fed.
        """
        tok = tokenizer if tokenizer is not None else self.model.tokenizer
        if isinstance(prompt, str):
            if tok is None:
                raise InvalidArgumentError("the model has no tokenizer: pass token ids (with ids_only=True) "
                                           "or tokenizer=dsv4.Tokenizer(path)")
            if add_bos is None:
                add_bos = self.position == 0 and tok.bos_id is not None
            ids = tok.encode(prompt, add_bos=add_bos, parse_special=parse_special)
        else:
            ids = [int(t) for t in prompt]
        if tok is None and not ids_only:
            raise InvalidArgumentError("the model has no tokenizer, so there is no text: use ids_only=True "
                                       "(or tokenizer=dsv4.Tokenizer(path))")
        if max_tokens is not None and max_tokens < 1:
            raise InvalidArgumentError(f"max_tokens must be at least 1 (or None), not {max_tokens}")
        if seed < 0:
            raise InvalidArgumentError(f"seed must be non-negative, not {seed}")
        if isinstance(stop, str):
            stop = [stop]
        low = _dsv4._Generation(
            self._s, ids, tok._t if tok is not None else None, float(temperature), int(top_k), float(top_p),
            float(min_p), float(repetition_penalty), float(presence_penalty), float(frequency_penalty),
            int(penalty_last_n), int(seed), [int(t) for t in stop_tokens],
            {int(k): float(v) for k, v in (logit_bias or {}).items()}, int(max_tokens or 0), list(stop),
            bool(stop_at_eos), bool(skip_special), str(speculation), int(n_draft))
        return Generation(low, ids_only)

    def cancel(self) -> None:
        """Asks a call running on another thread to stop: a feed raises CancelledError, a
        generation ends with finish_reason "cancelled"."""
        self._s.cancel()

    def close(self) -> None:
        self._s.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
