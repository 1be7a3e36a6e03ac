"""How a `/api/chat` request gets its reply back: the sender pushes it, ingress waits for it.

Keyed by the correlation id (the api message's id), so the reply reaches the request that is waiting, on
whichever ingress replica it landed. Key (under `wapipe:`): `apichat:{correlation_id}` -> list of JSON
`{"reply", "route", "decision_path", "llm_called", "latency_ms", "tools"}`, a few minutes; `tools` is one
`{"name", "outcome", "results", "latency_s"}` per tool call the AI stage made (`tool_calls`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import redis.asyncio as aioredis

from schemas.envelope import Trace
from wapipe.redis import KEY_PREFIX

REPLY_TTL_S = 300


@dataclass(frozen=True)
class ApiChatReply:
    reply: str
    route: str | None = None
    decision_path: list[str] = field(default_factory=list)
    llm_called: bool = False
    latency_ms: int = 0  # from the message's arrival to the sender handing the reply back
    tools: list[dict[str, Any]] = field(default_factory=list)  # the AI stage's tool calls, in order

    def encode(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def decode(cls, raw: bytes | str) -> ApiChatReply:
        doc = json.loads(raw)
        return cls(reply=str(doc.get("reply") or ""), route=doc.get("route"),
                   decision_path=[str(d) for d in doc.get("decision_path") or []],
                   llm_called=bool(doc.get("llm_called", False)), latency_ms=int(doc.get("latency_ms") or 0),
                   tools=[dict(t) for t in doc.get("tools") or [] if isinstance(t, dict)])


def tool_calls(trace: Trace) -> list[dict[str, Any]]:
    """The tool calls of a trace: each `tool:<name>` step with its outcome, result count and latency (the AI
    stage's attrs `tool_<i>_outcome`, `tool_<i>_results`, `tool_<i>_latency_s`)."""
    names = [d.removeprefix("tool:") for d in trace.decision_path if d.startswith("tool:")]
    a = trace.attrs
    return [{"name": name, "outcome": a.get(f"tool_{i}_outcome"), "results": a.get(f"tool_{i}_results"),
             "latency_s": a.get(f"tool_{i}_latency_s")} for i, name in enumerate(names, 1)]


def _key(correlation_id: str) -> str:
    return f"{KEY_PREFIX}apichat:{correlation_id}"


async def push_reply(redis: aioredis.Redis, correlation_id: str, reply: ApiChatReply) -> None:
    pipe = redis.pipeline()
    pipe.rpush(_key(correlation_id), reply.encode())
    pipe.expire(_key(correlation_id), REPLY_TTL_S)
    await pipe.execute()


async def wait_reply(redis: aioredis.Redis, correlation_id: str, timeout_s: float) -> ApiChatReply | None:
    """The first reply for this message, or None when none arrived within `timeout_s`."""
    got = await redis.blpop([_key(correlation_id)], timeout=max(timeout_s, 0.01))
    return ApiChatReply.decode(got[1]) if got else None
