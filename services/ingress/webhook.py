"""GET/POST /webhook: Meta's verification handshake and signed deliveries -> confirmed Kafka events."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from schemas.envelope import utcnow
from schemas.events import AccountEventReceived, TemplateStatusChanged, TemplateStatusChangedPayload
from schemas.meta import signature
from services.ingress.body import NotAWebhook, read_payload
from services.ingress.deps import Deps, PublishFailed, publish_webhook
from services.ingress.echoes import IGNORED
from services.ingress.normalize import Normalized, count_updates, normalize, route_name
from services.ingress.rawlog import raw_record
from services.ingress.signature import token_matches

log = logging.getLogger(__name__)
router = APIRouter()


class Refusal(BaseModel):
    error: str


class Accepted(BaseModel):
    events: int
    unreadable: int | None = None  # parts set aside to the raw log's DLQ, when any


def _refusals(*codes: int) -> dict[int | str, dict[str, object]]:
    return {c: {"model": Refusal} for c in codes}


_TEXT = {"content": {"text/plain": {"schema": {"type": "string"}}}}
# The body is read raw (the signature covers the exact bytes), so it is documented here rather than as a model.
_RAW_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}


@router.get("/webhook", response_class=PlainTextResponse,
            responses={200: {"description": "the hub.challenge, echoed"}, 403: {"description": "wrong token", **_TEXT}})
async def verify(request: Request) -> Response:
    deps: Deps = request.app.state.deps
    q = request.query_params
    challenge = q.get("hub.challenge")
    if q.get("hub.mode") == "subscribe" and challenge is not None and token_matches(
            q.get("hub.verify_token"), deps.settings.meta_verify_token.get_secret_value()):
        log.info("webhook verification accepted")
        return PlainTextResponse(challenge)
    log.warning("webhook verification refused (mode=%s)", q.get("hub.mode"))
    return PlainTextResponse("forbidden", status_code=403)


async def read_limited(request: Request, limit: int) -> bytes | None:
    """The raw body, or None as soon as it exceeds `limit` (never buffers more than limit + one chunk)."""
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            return None
    return bytes(buf)


def declared_length(request: Request) -> int | None:
    """Content-Length as sent; None for a chunked body (counted while it is read)."""
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else None


# Refusals made before the body is read in full close the connection: its remaining bytes are never read.
_CLOSE = {"Connection": "close"}


def _refuse(status: int, reason: str, *, close: bool = False) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status, headers=_CLOSE if close else None)


@router.post("/webhook", response_model=Accepted, openapi_extra=_RAW_BODY,
             responses=_refusals(400, 401, 403, 408, 413, 503))
async def receive(request: Request) -> Response:
    deps: Deps = request.app.state.deps
    started = time.perf_counter()
    outcome, response = await _receive(request, deps)
    deps.metrics.webhook_requests.labels(outcome=outcome).inc()
    deps.metrics.webhook_duration.observe(time.perf_counter() - started)
    return response


class WebhookFastPath:
    """POST /webhook, the one route under load (every message and status Meta delivers), served straight from
    the ASGI scope, past FastAPI's router, its dependency solving and its exception, exit-stack and body-limit
    middleware: they cost about a fifth of ingress's CPU per webhook (py-spy, docs/benchmarks.md). Installed as
    the app's innermost user middleware, so Starlette's ServerErrorMiddleware still answers 500 for an unhandled
    error; the route stays registered (OpenAPI documents it), and any other method or path goes the usual way."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive_: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/webhook":
            response = await receive(Request(scope, receive_))
            await response(scope, receive_, send)
            return
        await self.app(scope, receive_, send)


async def _receive(request: Request, deps: Deps) -> tuple[str, Response]:
    """Decided on the headers alone, before a byte of the body is read: unsigned, too large, no room."""
    received_at = utcnow()
    s, m = deps.settings, deps.metrics
    header = request.headers.get(signature.SIGNATURE_HEADER)
    if not header:
        m.signature_failures.labels(reason="missing").inc()
        return "unsigned", _refuse(401, f"missing {signature.SIGNATURE_HEADER}", close=True)
    declared = declared_length(request)
    if declared is not None and declared > s.ingress_max_body_bytes:
        return "too_large", _refuse(413, f"body over {s.ingress_max_body_bytes} bytes", close=True)
    size = s.ingress_max_body_bytes if declared is None else declared
    if not deps.body_budget.try_reserve(size):
        return "overloaded", _refuse(503, "too many webhooks in flight, retry later", close=True)
    try:
        return await _read_and_handle(request, deps, header, received_at)
    finally:
        deps.body_budget.release(size)


async def _read_and_handle(request: Request, deps: Deps, header: str, received_at: datetime) -> tuple[str, Response]:
    s, m = deps.settings, deps.metrics
    try:
        async with asyncio.timeout(s.ingress_body_read_timeout_s):  # the whole body, not each chunk: no slow drip
            body = await read_limited(request, s.ingress_max_body_bytes)
    except TimeoutError:
        log.warning("webhook body not received within %gs", s.ingress_body_read_timeout_s)
        return "body_timeout", _refuse(408, f"body not received within {s.ingress_body_read_timeout_s:g}s",
                                       close=True)
    except ClientDisconnect:
        return "client_gone", Response(status_code=400)  # nobody is left to read it
    if body is None:
        return "too_large", _refuse(413, f"body over {s.ingress_max_body_bytes} bytes", close=True)
    if not signature.verify(body, header, s.meta_app_secret.get_secret_value()):
        m.signature_failures.labels(reason="mismatch").inc()
        log.warning("webhook signature mismatch (%d bytes)", len(body))
        return "bad_signature", _refuse(403, "signature mismatch")
    return await _handle(body, deps, received_at)


async def _handle(body: bytes, deps: Deps, received_at: datetime) -> tuple[str, Response]:
    """A signed body: read it part by part, route each change on its field, give each customer event its
    conversation key (the identity map), publish the raw body, the events and the unreadable parts; 200 once the
    broker confirmed all of them."""
    s = deps.settings
    try:
        payload = read_payload(body)
    except NotAWebhook as e:
        return "malformed", _refuse(400, str(e))
    updates = count_updates(payload)
    if updates > s.ingress_max_updates:  # Meta never batches that many; refused before normalising any
        return "too_many_updates", _refuse(413, f"{updates} updates in one webhook, at most {s.ingress_max_updates}")
    result = normalize(payload, received_at)
    resolver, emits = deps.identities, result.emits
    try:
        resolved = await resolver.resolve(emits) if resolver is not None else None
    except Exception:  # Redis and the store both failing, in whatever driver's words: Meta retries, nothing lost
        log.exception("webhook not accepted, Meta will retry: the identity map is unavailable")
        return "identity_unavailable", _refuse(503, "identity store unavailable, retry later")
    try:
        await publish_webhook(deps, raw_record(body, payload, received_at),
                              resolved.emits if resolved is not None else emits, result.unreadable, received_at)
    except PublishFailed as e:
        log.error("webhook not accepted, Meta will retry: %s", e)
        return "broker_unavailable", _refuse(503, "event broker unavailable, retry later")
    if resolver is not None and resolved is not None and resolved.replaced:
        try:
            await resolver.commit(resolved)  # after the publish: a retried webhook plans the same move again
        except Exception:
            log.exception("identity change published but not recorded; Meta will retry the webhook")
            return "identity_unavailable", _refuse(503, "identity store unavailable, retry later")
    _account_for(result, deps)
    answer: dict[str, int] = {"events": len(result.emits)}
    if result.unreadable:
        answer["unreadable"] = len(result.unreadable)
    return "ok", JSONResponse(answer)


MAX_UNKNOWN_FIELD_LABELS = 50  # Meta's field names, not arbitrary text: beyond this many, counted as "other"


def _account_for(result: Normalized, deps: Deps) -> None:
    """Metrics and logs of what one accepted webhook held (after the broker confirmed it)."""
    m = deps.metrics
    for err in result.errors:
        m.meta_errors.labels(code=str(err.code)).inc()
        details = err.error_data.details if err.error_data else None
        log.warning("meta reported error %s (%s): %s", err.code, err.title, details)
    if result.skipped:
        m.updates_skipped.inc(result.skipped)
    for part in result.unreadable:
        m.unreadable_parts.labels(part.kind).inc()
        log.warning("unreadable %s at %s (field %s) set aside to the raw log's DLQ: %s", part.kind, part.path,
                    part.field, part.error)
    for field in sorted(result.unknown_fields - deps.fields_logged):
        deps.fields_logged.add(field)
        log.warning("webhook field %r is not handled: accepted and ignored (logged once per process)", field[:64])
    for field, n in result.fields.items():
        m.webhook_changes.labels(_field_label(field, deps), route_name(field)).inc(n)
    for (tenant, event), n in result.calls.items():
        m.calls_ignored.labels(tenant, event).inc(n)
        log.info("%d call event(s) %s for number %s ignored: calling is not supported", n, event, tenant)
    for (tenant, field, item), n in result.coexistence.items():
        m.coexistence_ignored.labels(tenant, field, item).inc(n)
        log.info("%s: %d %s item(s) for number %s accepted and not published: %s", field, n, item, tenant,
                 IGNORED.get(field, "not handled"))
    for emit in result.emits:
        e = emit.event
        if isinstance(e, TemplateStatusChanged | AccountEventReceived):
            p = e.payload
            what = p.event or (p.quality if isinstance(p, TemplateStatusChangedPayload) else None)
            m.account_events.labels(e.tenant, p.field, _label(what)).inc()


def _field_label(field: str, deps: Deps) -> str:
    if route_name(field) != "unknown":
        return field
    few = len(deps.fields_logged) <= MAX_UNKNOWN_FIELD_LABELS
    return field if few and len(field) <= 64 and field.replace("_", "").isalpha() and field.islower() else "other"


def _label(value: str | None) -> str:
    text = (value or "none").lower()
    return text if len(text) <= 40 and text.replace("_", "").isalpha() else "other"
