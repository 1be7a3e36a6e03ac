"""The model provider port: one request in, the raw answer text and token counts out.

Providers raise `ProviderError` with a kind the chain decides on: `timeout` and `error_5xx` (worth another try or
the next provider), `error` (a 4xx or a malformed answer: next provider, no retry).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, Protocol

from services.ai.prompt import Message
from services.ai.toolspec import ToolCall, ToolSpec

ErrorKind = Literal["timeout", "error_5xx", "error"]


@dataclass(frozen=True)
class LLMRequest:
    messages: list[Message]
    model: str | None
    max_output_tokens: int
    temperature: float
    timeout_s: float
    tools: tuple[ToolSpec, ...] = ()  # offered through the provider's native tool calling; empty: none

    def with_timeout(self, timeout_s: float) -> LLMRequest:
        return replace(self, timeout_s=timeout_s)


@dataclass(frozen=True)
class LLMResult:
    text: str
    model: str
    input_tokens: int
    output_tokens: int
    tool_calls: tuple[ToolCall, ...] = ()  # what the model asked to run before it answers


class ProviderError(Exception):
    def __init__(self, kind: ErrorKind, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class Provider(Protocol):
    """One model backend. `name` labels metrics and the circuit breaker."""

    name: str

    async def complete(self, req: LLMRequest) -> LLMResult: ...

    async def close(self) -> None: ...
