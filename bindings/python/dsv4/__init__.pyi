# Type stubs of the dsv4 package (the runtime code is in __init__.py, tokenizer.py, generation.py).
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Callable, Literal, Mapping, Sequence, TypedDict

import numpy as np

from . import chat as chat
from ._errors import (BackendError as BackendError, CancelledError as CancelledError,
                      ContextFullError as ContextFullError, Error as Error, FormatError as FormatError,
                      InternalError as InternalError, InvalidArgumentError as InvalidArgumentError,
                      IOError as IOError, OutOfMemoryError as OutOfMemoryError,
                      UnsupportedError as UnsupportedError)

__version__: str

FinishReason = Literal["stop_token", "stop_string", "max_tokens", "context_full", "cancelled"]

def version() -> str: ...
def backends() -> list[str]: ...

@dataclass(frozen=True)
class ModelInfo:
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
    bytes_by_dtype: dict[str, int]
    compress_ratios: list[int]
    backend: str

@dataclass(frozen=True)
class SessionInfo:
    n_ctx: int
    position: int
    state_bytes: int
    window_bytes: int
    compressed_bytes: int
    indexer_bytes: int
    carry_bytes: int

class Tokenizer:
    def __init__(self, path: str | os.PathLike[str]) -> None: ...
    def encode(self, text: str, add_bos: bool = False, parse_special: bool = False) -> list[int]: ...
    def decode(self, ids: Sequence[int] | np.ndarray, skip_special: bool = False) -> str: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def bos_id(self) -> int | None: ...
    @property
    def eos_id(self) -> int | None: ...
    def id_to_token(self, token_id: int) -> str | None: ...
    def token_to_id(self, token: str) -> int: ...
    def is_special(self, token_id: int) -> bool: ...
    def __len__(self) -> int: ...

class GenerationStats(TypedDict):
    n_generated: int
    main_passes: int
    spec_passes: int
    n_drafted: int
    n_accepted: int
    acceptance_rate: float
    tokens_per_pass: float
    speculative: bool

class Generation(Iterator[str | int]):
    """Yields str pieces, or int ids when made with ids_only=True."""
    @property
    def tokens(self) -> list[int]: ...
    @property
    def text(self) -> str: ...
    @property
    def stats(self) -> GenerationStats: ...
    finish_reason: FinishReason | None
    def __iter__(self) -> Generation: ...
    def __next__(self) -> str | int: ...
    def close(self) -> None: ...
    def __enter__(self) -> Generation: ...
    def __exit__(self, *exc: object) -> None: ...

class Model:
    path: str
    def __init__(self, path: str | os.PathLike[str], backend: str | None = None, threads: int = 0,
                 use_mmap: bool = True, progress: Callable[[int, int], bool | None] | None = None,
                 memory_budget: int = 0) -> None: ...
    @property
    def info(self) -> ModelInfo: ...
    @property
    def tokenizer(self) -> Tokenizer | None: ...
    def session(self, ctx: int = 4096, prefill_chunk: int = 0) -> Session: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    def __enter__(self) -> Model: ...
    def __exit__(self, *exc: object) -> None: ...

class Session:
    model: Model
    def __init__(self, model: Model, ctx: int = 4096, prefill_chunk: int = 0) -> None: ...
    def prefill(self, tokens: Sequence[int] | np.ndarray) -> None: ...
    def decode(self, token: int) -> None: ...
    @property
    def logits(self) -> np.ndarray: ...
    def mtp_logits(self, next_token: int) -> np.ndarray: ...
    def generate(self, prompt: str | Sequence[int] | np.ndarray = (), *, max_tokens: int | None = 256,
                 temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0, min_p: float = 0.0,
                 repetition_penalty: float = 1.0, presence_penalty: float = 0.0, frequency_penalty: float = 0.0,
                 penalty_last_n: int = 64, seed: int = 0, stop: Sequence[str] | str = (),
                 stop_tokens: Sequence[int] = (), stop_at_eos: bool = True,
                 logit_bias: Mapping[int, float] | None = None, add_bos: bool | None = None,
                 parse_special: bool = False, skip_special: bool = False, ids_only: bool = False,
                 tokenizer: Tokenizer | None = None, speculation: Literal["auto", "always", "off"] = "auto",
                 n_draft: int = 1) -> Generation: ...
    def reset(self) -> None: ...
    @property
    def position(self) -> int: ...
    @property
    def info(self) -> SessionInfo: ...
    def cancel(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Session: ...
    def __exit__(self, *exc: object) -> None: ...
