"""Amazon Bedrock through boto3 `bedrock-runtime` Converse, tools through its `toolConfig` / `toolUse` /
`toolResult` blocks.

boto3 is synchronous, so each call runs in a worker thread (`asyncio.to_thread`): the event loop keeps serving
other conversations. The client is created once, with the read timeout and retries (none: the chain owns them)
set on its botocore config.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from services.ai.prompt import Message
from services.ai.providers import LLMRequest, LLMResult, ProviderError
from services.ai.toolspec import ToolCall, ToolSpec


def make_client(region: str, timeout_s: float = 8.0) -> Any:
    import boto3

    cfg = Config(region_name=region, read_timeout=timeout_s, connect_timeout=3,
                 retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=64)
    return boto3.client("bedrock-runtime", config=cfg)


def _blocks(m: Message) -> list[dict[str, Any]]:
    """A message as Converse content blocks: text, the assistant's `toolUse`s, a tool's `toolResult`."""
    if m.role == "tool":
        return [{"toolResult": {"toolUseId": m.tool_call_id, "content": [{"text": m.content}],
                                "status": "error" if m.tool_error else "success"}}]
    blocks: list[dict[str, Any]] = [{"text": m.content}] if m.content or not m.tool_calls else []
    for c in m.tool_calls:
        try:
            args = c.args()
        except ValueError:
            args = {}
        blocks.append({"toolUse": {"toolUseId": c.id, "name": c.name, "input": args}})
    return blocks


def tool_config(tools: Sequence[ToolSpec]) -> dict[str, Any]:
    return {"tools": [{"toolSpec": {"name": t.name, "description": t.description,
                                    "inputSchema": {"json": t.parameters}}} for t in tools]}


def converse_request(req: LLMRequest, default_model: str) -> dict[str, Any]:
    """Converse keeps the system prompt apart from the conversation, which must start with a user turn; tool
    results travel in a user turn, right after the assistant turn that asked for them."""
    system = [{"text": m.content} for m in req.messages if m.role == "system"]
    convo: list[dict[str, Any]] = []
    for m in req.messages:
        if m.role == "system":
            continue
        role = "user" if m.role == "tool" else m.role
        if convo and convo[-1]["role"] == role:  # Converse refuses two turns of the same role in a row
            convo[-1]["content"].extend(_blocks(m))
        else:
            convo.append({"role": role, "content": _blocks(m)})
    while convo and convo[0]["role"] != "user":
        convo.pop(0)
    body: dict[str, Any] = {
        "modelId": req.model or default_model,
        "system": system,
        "messages": convo,
        "inferenceConfig": {"maxTokens": req.max_output_tokens, "temperature": req.temperature},
    }
    if req.tools:
        body["toolConfig"] = tool_config(req.tools)
    return body


def parse_converse(resp: dict[str, Any], model: str) -> LLMResult:
    content = resp.get("output", {}).get("message", {}).get("content", [])
    text = "".join(c.get("text", "") for c in content if isinstance(c, dict))
    calls = tuple(ToolCall(str(u.get("toolUseId", "")), str(u.get("name", "")),
                           json.dumps(u.get("input") or {}, ensure_ascii=False))
                  for c in content if isinstance(c, dict) and isinstance(u := c.get("toolUse"), dict))
    usage = resp.get("usage", {})
    return LLMResult(text=text, model=model, input_tokens=int(usage.get("inputTokens", 0)),
                     output_tokens=int(usage.get("outputTokens", 0)), tool_calls=calls)


class BedrockProvider:
    name = "bedrock"

    def __init__(self, client: Any, default_model: str) -> None:
        self._client = client
        self._default_model = default_model

    async def complete(self, req: LLMRequest) -> LLMResult:
        body = converse_request(req, self._default_model)
        try:
            resp = await asyncio.wait_for(asyncio.to_thread(self._client.converse, **body), req.timeout_s)
        except (TimeoutError, ReadTimeoutError, ConnectTimeoutError) as e:
            raise ProviderError("timeout", f"no answer within {req.timeout_s:.1f}s") from e
        except EndpointConnectionError as e:
            raise ProviderError("error_5xx", "connection failed") from e
        except ClientError as e:
            status = int(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            code = e.response.get("Error", {}).get("Code", "")
            retryable = status >= 500 or code in ("ThrottlingException", "ServiceUnavailableException")
            raise ProviderError("error_5xx" if retryable else "error", f"{code or status}") from e
        return parse_converse(resp, body["modelId"])

    async def close(self) -> None:
        self._client.close()
