# Type stubs of dsv4.chat.
from typing import Any, Iterable, Literal, Mapping

Mode = Literal["chat", "thinking"]

def encode(messages: Iterable[Mapping[str, Any]], mode: Mode = "chat", *, drop_thinking: bool = True,
           reasoning_effort: str | None = None, add_bos: bool = True) -> str: ...
def parse(text: str, mode: Mode = "chat") -> dict[str, Any]: ...
