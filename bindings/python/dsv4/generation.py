"""Generation: the iterator that Session.generate returns."""

from __future__ import annotations

from collections.abc import Iterator

from . import _dsv4

# dsv4_finish_reason values -> the names Generation.finish_reason uses.
FINISH_REASONS = {1: "stop_token", 2: "stop_string", 3: "max_tokens", 4: "context_full", 5: "cancelled"}


class Generation(Iterator):
    """A running generation; iterate it to get the output as it is produced.

    It yields ``str`` pieces of text (never empty; whole characters only, text that may begin a
    stop string held back until decided), or, made with ``ids_only=True``, ``int`` token ids (one
    per sampled token, stop tokens included).

    While and after iterating:
        tokens: every token id sampled so far.
        text: all text produced so far (empty without a tokenizer).
        finish_reason: None while running, then one of "stop_token", "stop_string",
            "max_tokens", "context_full" or "cancelled" (Session.cancel(), Ctrl-C, close(),
            or another call on the session).

    Each step computes with the GIL released. Ctrl-C raises KeyboardInterrupt and ends the
    generation; stopping the iteration early (``break``) or close() ends it as well. The
    session stays usable either way and holds the prompt and every token handed out but the
    last one (feed that one with Session.decode to continue right after it), or all of them
    when the last was a speculative draft, checked in the same pass as the one before it
    (Session.position tells which).

    Where the model has an MTP block, the generator drafts tokens with it and checks them in
    one pass of the main model, while that is faster than plain decoding (timed as it runs).
    The output is the same either way, sampled output with a seed included.
    """

    def __init__(self, low: "_dsv4._Generation", ids_only: bool):
        self._g = low
        self._ids_only = ids_only
        self.finish_reason: str | None = None

    @property
    def tokens(self) -> list[int]:
        # Recorded by the step itself, so that a token whose step a Ctrl-C interrupted right
        # after it returned is still counted.
        return self._g.tokens

    @property
    def text(self) -> str:
        return self._g.text

    @property
    def stats(self) -> dict:
        """The generator's figures so far: n_generated, main_passes (main-model passes),
        spec_passes (those that checked drafts), n_drafted, n_accepted, acceptance_rate,
        tokens_per_pass, speculative (drafting possible: requested, and the model has an MTP
        block)."""
        return self._g.stats

    def __iter__(self) -> "Generation":
        return self

    def __next__(self):
        try:
            while self.finish_reason is None:
                token, text, finish = self._g.next()
                if finish:
                    self.finish_reason = FINISH_REASONS.get(finish, "cancelled")
                if self._ids_only:
                    if token >= 0:
                        return token
                elif text:
                    return text
        except KeyboardInterrupt:
            # Raised by the step (Ctrl-C seen while computing) or just after it returned.
            self._g.close()
            if self.finish_reason is None:
                self.finish_reason = FINISH_REASONS.get(self._g.finish, "cancelled")
            raise
        raise StopIteration

    def close(self) -> None:
        """Ends the generation (finish_reason "cancelled" unless it had already finished)."""
        self._g.close()
        if self.finish_reason is None:
            self.finish_reason = FINISH_REASONS[self._g.finish]

    def __enter__(self) -> "Generation":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = self.finish_reason or "running"
        return f"<dsv4.Generation {len(self.tokens)} tokens, {state}>"
