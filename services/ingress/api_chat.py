"""POST /api/chat: a direct channel into the same pipeline, answering with the reply when it is ready.

The message goes to wa.inbound.v1 as channel "api"; the sender pushes the reply to Redis under the message's
correlation id (wapipe.apichat), and this request waits a bounded time for it, else answers 202.

The direct channel has its own namespace: `conversation_id` becomes the user `api:<conversation_id>` (key
`{tenant}:api:<conversation_id>`), which no WhatsApp customer can have, so whoever holds the key reaches only
direct-channel conversations. The tenant must be a registered one; requests are limited per key, per tenant and
per conversation.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from schemas import events as ev
from schemas.envelope import Trace, api_user, conversation_key, derive_id, utcnow
from schemas.topics import INBOUND
from services.ingress.config import IngressSettings
from services.ingress.deps import Deps, PublishFailed, publish
from services.ingress.ratelimit import Limit, hit_all
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


@dataclass(frozen=True)
class Caller:
    """An authenticated /api/chat caller: the deps and a fingerprint of the key it presented (for its limit)."""

    deps: Deps
    key_id: str


def require_key(request: Request, deps: Annotated[Deps, Depends(_deps)]) -> Caller:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token_matches(key.strip(), deps.settings.api_chat_key.get_secret_value()):
        deps.metrics.api_chat_requests.labels(outcome="unauthorized").inc()
        raise HTTPException(401, "missing or wrong bearer key", headers={"WWW-Authenticate": "Bearer"})
    # The key itself never reaches Redis or a log: its window is named by a short hash.
    return Caller(deps, hashlib.sha256(key.strip().encode()).hexdigest()[:16])


def chat_event(req: ChatRequest, tenant: str, message_id: str) -> ev.MessageReceived:
    """The direct-channel message as an event of its own namespace: user `api:<conversation_id>`."""
    now = utcnow()
    user = api_user(req.conversation_id)
    payload = ev.MessageReceivedPayload(channel="api", message_id=message_id, sender=ev.Recipient(user_id=user),
                                        timestamp=now, message_type="text", text=req.text,
                                        raw=req.model_dump(exclude_none=True))
    return ev.MessageReceived(event_id=derive_id("in", message_id), occurred_at=now, tenant=tenant,
                              conversation=conversation_key(tenant, user), correlation_id=message_id,
                              trace=Trace(received_at=now, message_type="text"), payload=payload)


def limits(s: IngressSettings, key_id: str, tenant: str, conversation: str) -> list[Limit]:
    return [Limit("apichat:key", key_id, s.ingress_api_chat_rate_per_key_per_min),
            Limit("apichat:tenant", tenant, s.ingress_api_chat_rate_per_tenant_per_min),
            Limit("apichat:conversation", conversation, s.api_chat_rate_per_min)]


class Problem(BaseModel):
    """Error bodies: `detail` from FastAPI's own refusals (401, 422), `error` from this route's (404, 429, 503)."""

    detail: Any = None
    error: str | None = None


@router.post("/api/chat", responses={202: {"description": "published; the reply is not ready yet"},
                                     **{c: {"model": Problem} for c in (400, 401, 404, 429, 503)}})
async def chat(req: ChatRequest, caller: Annotated[Caller, Depends(require_key)]) -> JSONResponse:
    started = time.perf_counter()
    deps = caller.deps
    s, m = deps.settings, deps.metrics
    if deps.redis is None:
        raise HTTPException(503, "not started")
    tenant = req.tenant or s.api_chat_default_tenant
    if deps.tenants.get(tenant) is None:
        m.api_chat_requests.labels(outcome="unknown_tenant").inc()
        return JSONResponse({"error": f"unknown tenant {tenant}: no tenant is registered with that "
                                      "phone_number_id"}, status_code=404)
    message_id = f"api.{uuid.uuid4().hex}"
    event = chat_event(req, tenant, message_id)
    refused = await hit_all(deps.redis, limits(s, caller.key_id, tenant, event.conversation), deps.clock())
    if refused is not None:
        m.api_chat_requests.labels(outcome="rate_limited").inc()
        for scope in refused.scopes:
            m.api_chat_rate_limited.labels(scope=scope.removeprefix("apichat:")).inc()
        per = ", ".join(scope.removeprefix("apichat:") for scope in refused.scopes)
        return JSONResponse({"error": f"rate limit: too many requests per {per} in the last minute"},
                            status_code=429, headers={"Retry-After": str(int(refused.retry_after_s))})
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
        "tools": reply.tools,
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
