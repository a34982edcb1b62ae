"""DeepSeek-V4 chat format: messages to prompt text, completions to messages."""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from . import _dsv4

_MODES = {"chat": 0, "thinking": 1}


def _mode(mode: str) -> int:
    try:
        return _MODES[mode]
    except KeyError:
        from ._errors import InvalidArgumentError
        raise InvalidArgumentError(f"mode must be 'chat' or 'thinking', not {mode!r}") from None


def encode(messages: Iterable[Mapping[str, Any]], mode: str = "chat", *, drop_thinking: bool = True,
           reasoning_effort: str | None = None, add_bos: bool = True) -> str:
    """Render OpenAI-style messages into a DeepSeek-V4 prompt.

    Roles: system, user, assistant, tool, developer, latest_reminder. Tools go on a
    system (or developer) message as ``tools``; assistant ``tool_calls`` are rendered as
    DSML. ``mode`` is "chat" or "thinking"; ``drop_thinking`` removes the reasoning of
    earlier assistant turns (ignored when tools are present); ``reasoning_effort`` may be
    "max".
    """
    return _dsv4.chat_encode(json.dumps(list(messages), ensure_ascii=False), _mode(mode), drop_thinking,
                             reasoning_effort, add_bos)


def parse(text: str, mode: str = "chat") -> dict:
    """Parse a completion into an assistant message dict.

    The result has ``role``, ``content``, ``reasoning_content`` and ``tool_calls`` (OpenAI
    format, arguments as a JSON string). Malformed tool-call markup raises FormatError.
    """
    return json.loads(_dsv4.chat_parse(text, _mode(mode)))
