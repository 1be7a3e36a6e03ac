"""OpenAI-compatible chat completions through the `openai` SDK (OpenAI, vLLM, Ollama, LiteLLM, the simulator).

One AsyncOpenAI per process with an explicit timeout and `max_retries=0`: the chain owns retries, so a slow model
never gets silently retried past the tenant's time bound.
"""

from __future__ import annotations

import itertools
from typing import cast

import httpx2
import openai
from openai.types.chat import ChatCompletionMessageParam

from services.ai.providers import ErrorKind, LLMRequest, LLMResult, ProviderError

CONNECTIONS_PER_POOL = 32


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
        messages = cast(list[ChatCompletionMessageParam], [{"role": m.role, "content": m.content}
                                                             for m in req.messages])
        try:
            resp = await next(self._next).chat.completions.create(
                model=model,
                messages=messages,
                max_tokens=req.max_output_tokens,
                temperature=req.temperature,
                timeout=req.timeout_s,
                response_format={"type": "json_object"} if self._json_mode else openai.omit,
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
        usage = resp.usage
        return LLMResult(
            text=resp.choices[0].message.content or "",
            model=resp.model or model,
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
        )

    async def close(self) -> None:
        for c in self._clients:
            await c.close()
