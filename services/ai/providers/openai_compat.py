"""OpenAI-compatible chat completions through the `openai` SDK (OpenAI, vLLM, Ollama, LiteLLM, the simulator),
tools through the native `tools` / `tool_calls` fields.

One AsyncOpenAI per process with an explicit timeout and `max_retries=0`: the chain owns retries, so a slow model
never gets silently retried past the tenant's time bound.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, cast

import httpx2
import openai
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

from services.ai.prompt import Message
from services.ai.providers import ErrorKind, LLMRequest, LLMResult, ProviderError
from services.ai.toolspec import ToolCall, ToolSpec

CONNECTIONS_PER_POOL = 32


def chat_message(m: Message) -> dict[str, Any]:
    """A message in the chat-completions shape: tool calls on the assistant turn, `tool` turns by call id."""
    if m.role == "tool":
        return {"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content}
    if m.role == "assistant" and m.tool_calls:
        return {"role": "assistant", "content": m.content or None, "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in m.tool_calls]}
    return {"role": m.role, "content": m.content}


def chat_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": t.name, "description": t.description,
                                              "parameters": t.parameters}} for t in tools]


class OpenAIProvider:
    name = "openai"

    def __init__(self, *, base_url: str, api_key: str, default_model: str, timeout_s: float = 8.0,
                 json_mode: bool = True, max_connections: int = 512) -> None:
        # Keep-alive for every call in flight, spread over several small pools: the SDK's default keeps only 100
        # connections, and one httpcore pool scans all its connections on every request, so a single pool of
        # hundreds costs more CPU per call the busier it gets.
        per_pool = min(max_connections, CONNECTIONS_PER_POOL)
        self._clients = [
            openai.AsyncOpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=0,
                               http_client=openai.DefaultAsyncHttpxClient(limits=httpx2.Limits(
                                   max_connections=per_pool, max_keepalive_connections=per_pool,
                                   keepalive_expiry=30)))
            for _ in range(max(1, -(-max_connections // per_pool)))]
        self._next = itertools.cycle(self._clients)
        self._default_model = default_model
        self._json_mode = json_mode

    async def complete(self, req: LLMRequest) -> LLMResult:
        model = req.model or self._default_model
        messages = cast(list[ChatCompletionMessageParam], [chat_message(m) for m in req.messages])
        try:
            resp = await next(self._next).chat.completions.create(
                model=model,
                messages=messages,
                max_tokens=req.max_output_tokens,
                temperature=req.temperature,
                timeout=req.timeout_s,
                response_format={"type": "json_object"} if self._json_mode else openai.omit,
                tools=cast(list[ChatCompletionToolParam], chat_tools(req.tools)) if req.tools else openai.omit,
            )
        except openai.APITimeoutError as e:
            raise ProviderError("timeout", f"no answer within {req.timeout_s:.1f}s") from e
        except openai.APIStatusError as e:
            kind: ErrorKind = "error_5xx" if e.status_code >= 500 or e.status_code == 429 else "error"
            raise ProviderError(kind, f"HTTP {e.status_code}") from e
        except openai.APIConnectionError as e:
            raise ProviderError("error_5xx", "connection failed") from e
        if not resp.choices:
            raise ProviderError("error", "no choices in the response")
        usage, msg = resp.usage, resp.choices[0].message
        calls = tuple(ToolCall(c.id, c.function.name, c.function.arguments or "{}")
                      for c in msg.tool_calls or () if c.type == "function")
        return LLMResult(
            text=msg.content or "",
            model=resp.model or model,
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
            tool_calls=calls,
        )

    async def close(self) -> None:
        for c in self._clients:
            await c.close()
