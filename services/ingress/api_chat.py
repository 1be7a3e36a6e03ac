"""POST /api/chat: a direct channel into the same pipeline, answering with the reply when it is ready.

The message goes to wa.inbound.v1 as channel "api"; the sender pushes the reply to Redis under the message's
correlation id (wapipe.apichat), and this request waits a bounded time for it, else answers 202.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from schemas import events as ev
from schemas.envelope import Trace, conversation_key, derive_id, utcnow
from schemas.topics import INBOUND
from services.ingress import ratelimit
from services.ingress.deps import Deps, PublishFailed, publish
from services.ingress.signature import token_matches
from wapipe.apichat import ApiChatReply, wait_reply
from wapipe.runtime.types import Emit

log = logging.getLogger(__name__)
router = APIRouter()

# Redis clients time out reads after a few seconds, so a long wait is a series of short blocking pops.
_WAIT_SLICE_S = 2.0


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(min_length=1, max_length=128, pattern=r"^[\w.:@+-]+$")
    text: str = Field(min_length=1, max_length=4096)
    tenant: str | None = Field(default=None, pattern=r"^\d{1,64}$", description="phone_number_id; default: demo")


def _deps(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


def require_key(request: Request, deps: Annotated[Deps, Depends(_deps)]) -> Deps:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token_matches(key.strip(), deps.settings.api_chat_key.get_secret_value()):
        deps.metrics.api_chat_requests.labels(outcome="unauthorized").inc()
        raise HTTPException(401, "missing or wrong bearer key", headers={"WWW-Authenticate": "Bearer"})
    return deps


def chat_event(req: ChatRequest, tenant: str, message_id: str) -> ev.MessageReceived:
    now = utcnow()
    payload = ev.MessageReceivedPayload(channel="api", message_id=message_id,
                                        sender=ev.Recipient(user_id=req.conversation_id), timestamp=now,
                                        message_type="text", text=req.text, raw=req.model_dump(exclude_none=True))
    return ev.MessageReceived(event_id=derive_id("in", message_id), occurred_at=now, tenant=tenant,
                              conversation=conversation_key(tenant, req.conversation_id), correlation_id=message_id,
                              trace=Trace(received_at=now, message_type="text"), payload=payload)


class Problem(BaseModel):
    """Error bodies: `detail` from FastAPI's own refusals (401, 422), `error` from this route's (429, 503)."""

    detail: Any = None
    error: str | None = None


@router.post("/api/chat", responses={202: {"description": "published; the reply is not ready yet"},
                                     **{c: {"model": Problem} for c in (400, 401, 429, 503)}})
async def chat(req: ChatRequest, deps: Annotated[Deps, Depends(require_key)]) -> JSONResponse:
    started = time.perf_counter()
    s, m = deps.settings, deps.metrics
    if deps.redis is None:
        raise HTTPException(503, "not started")
    retry_after = await ratelimit.hit(deps.redis, "apichat", req.conversation_id, s.api_chat_rate_per_min)
    if retry_after is not None:
        m.api_chat_requests.labels(outcome="rate_limited").inc()
        return JSONResponse({"error": "rate limit: 30 requests per minute per conversation"}, status_code=429,
                            headers={"Retry-After": str(int(retry_after))})
    message_id = f"api.{uuid.uuid4().hex}"
    event = chat_event(req, req.tenant or s.api_chat_default_tenant, message_id)
    try:
        await publish(deps, [Emit(INBOUND, event)])
    except PublishFailed as e:
        log.error("api chat message not accepted: %s", e)
        m.api_chat_requests.labels(outcome="broker_unavailable").inc()
        return JSONResponse({"error": "event broker unavailable, retry later"}, status_code=503)
    reply = await _wait(deps, message_id, s.api_chat_wait_s)
    if reply is None:
        m.api_chat_requests.labels(outcome="pending").inc()
        return JSONResponse({"event_id": event.event_id, "status": "pending"}, status_code=202)
    m.api_chat_requests.labels(outcome="answered").inc()
    return JSONResponse({
        "event_id": event.event_id,
        "reply": reply.reply,
        "route": reply.route,
        "decision_path": reply.decision_path,
        "llm_called": reply.llm_called,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
    })


async def _wait(deps: Deps, correlation_id: str, timeout_s: float) -> ApiChatReply | None:
    assert deps.redis is not None
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        reply = await wait_reply(deps.redis, correlation_id, min(left, _WAIT_SLICE_S))
        if reply is not None:
            return reply
