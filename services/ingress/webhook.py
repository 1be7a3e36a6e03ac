"""GET/POST /webhook: Meta's verification handshake and signed deliveries -> confirmed Kafka events."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ValidationError

from schemas.envelope import utcnow
from schemas.meta import signature
from schemas.meta.webhook import WebhookPayload
from services.ingress.deps import Deps, PublishFailed, publish
from services.ingress.normalize import normalize
from services.ingress.signature import token_matches

log = logging.getLogger(__name__)
router = APIRouter()


class Refusal(BaseModel):
    error: str


class Accepted(BaseModel):
    events: int


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
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            return None
    return bytes(buf)


def _refuse(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


@router.post("/webhook", response_model=Accepted, openapi_extra=_RAW_BODY,
             responses=_refusals(400, 401, 403, 413, 503))
async def receive(request: Request) -> Response:
    deps: Deps = request.app.state.deps
    started = time.perf_counter()
    outcome, response = await _receive(request, deps)
    deps.metrics.webhook_requests.labels(outcome=outcome).inc()
    deps.metrics.webhook_duration.observe(time.perf_counter() - started)
    return response


async def _receive(request: Request, deps: Deps) -> tuple[str, Response]:
    received_at = utcnow()
    s, m = deps.settings, deps.metrics
    body = await read_limited(request, s.ingress_max_body_bytes)
    if body is None:
        return "too_large", _refuse(413, f"body over {s.ingress_max_body_bytes} bytes")
    header = request.headers.get(signature.SIGNATURE_HEADER)
    if not header:
        m.signature_failures.labels(reason="missing").inc()
        return "unsigned", _refuse(401, f"missing {signature.SIGNATURE_HEADER}")
    if not signature.verify(body, header, s.meta_app_secret.get_secret_value()):
        m.signature_failures.labels(reason="mismatch").inc()
        log.warning("webhook signature mismatch (%d bytes)", len(body))
        return "bad_signature", _refuse(403, "signature mismatch")
    try:
        payload = WebhookPayload.model_validate_json(body)
        result = normalize(payload, received_at)
    except ValidationError as e:
        not_json = any(err["type"] == "json_invalid" for err in e.errors())
        return "malformed", _refuse(400, "body is not JSON" if not_json else "not a WhatsApp webhook payload")
    except (ValueError, OverflowError):  # e.g. a timestamp that is not epoch seconds
        return "malformed", _refuse(400, "malformed update in WhatsApp payload")
    for err in result.errors:
        m.meta_errors.labels(code=str(err.code)).inc()
        details = err.error_data.details if err.error_data else None
        log.warning("meta reported error %s (%s): %s", err.code, err.title, details)
    if result.skipped:
        m.updates_skipped.inc(result.skipped)
    resolver, emits = deps.identities, result.emits
    try:
        resolved = await resolver.resolve(emits) if resolver is not None else None
    except Exception:  # Redis and the store both failing, in whatever driver's words: Meta retries, nothing lost
        log.exception("webhook not accepted, Meta will retry: the identity map is unavailable")
        return "identity_unavailable", _refuse(503, "identity store unavailable, retry later")
    try:
        await publish(deps, resolved.emits if resolved is not None else emits)
    except PublishFailed as e:
        log.error("webhook not accepted, Meta will retry: %s", e)
        return "broker_unavailable", _refuse(503, "event broker unavailable, retry later")
    if resolver is not None and resolved is not None and resolved.replaced:
        try:
            await resolver.commit(resolved)  # after the publish: a retried webhook plans the same move again
        except Exception:
            log.exception("identity change published but not recorded; Meta will retry the webhook")
            return "identity_unavailable", _refuse(503, "identity store unavailable, retry later")
    return "ok", JSONResponse({"events": len(emits)})
