"""The operator API (port 8081): every route, known or not, needs `Authorization: Bearer <WAPIPE_ADMIN_TOKEN>`.

The token is checked in a middleware, before routing and body parsing, so no route (nor a malformed request)
answers anything but 401 without it. No /docs or /openapi.json: nothing is served unauthenticated.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.notifier.operator import OperatorError, Operators
from services.notifier.privacy import privacy_router
from wapipe.privacy import Privacy
from wapipe.privacy.subject import TenantLookup
from wapipe.runtime.producer import DeliveryFailed

log = logging.getLogger(__name__)
OPERATOR = Field(default="admin", pattern=r"^[A-Za-z0-9._@\-]{1,64}$", description="who is acting")


class TakeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operator: str = OPERATOR


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4096)
    operator: str = OPERATOR


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str | None = Field(default=None, min_length=1, max_length=4096)
    operator: str = OPERATOR


class Detail(BaseModel):
    detail: Any


# Documented on every route, so clients (and the contract tests) know each refusal's shape.
_ERRORS: dict[int | str, dict[str, Any]] = {c: {"model": Detail} for c in (400, 401, 404, 409, 503)}


def authorized(header: str | None, token: bytes) -> bool:
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode(), token)


def create_api(ops: Operators, token: str, privacy: tuple[Privacy, TenantLookup] | None = None) -> FastAPI:
    """`privacy`: export and erasure of one customer (`privacy.py`), served when given."""
    if not token:
        raise ValueError("the operator API needs WAPIPE_ADMIN_TOKEN")
    secret = token.encode()
    app = FastAPI(title="wapipe notifier operator API", docs_url=None, redoc_url=None, openapi_url=None,
                  responses=_ERRORS)

    @app.middleware("http")
    async def require_token(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if not authorized(request.headers.get("authorization"), secret):
            return JSONResponse({"detail": "missing or wrong bearer token"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        return await call_next(request)

    @app.exception_handler(OperatorError)
    async def operator_error(_: Request, exc: OperatorError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(DeliveryFailed)
    async def broker_down(_: Request, exc: DeliveryFailed) -> JSONResponse:
        log.error("operator message not queued: %s", exc)
        return JSONResponse({"detail": "the message could not be queued; try again"}, status_code=503)

    @app.get("/handoffs")
    async def list_handoffs(tenant: str | None = None) -> dict[str, Any]:
        return {"handoffs": await ops.list(tenant)}

    @app.post("/handoffs/{conversation}")
    async def take_over(conversation: str, body: TakeIn | None = None) -> dict[str, Any]:
        return await ops.take(conversation, (body or TakeIn()).operator)

    @app.post("/handoffs/{conversation}/reply", status_code=202)
    async def reply(conversation: str, body: ReplyIn,
                    idempotency_key: str | None = Header(default=None, max_length=128)) -> dict[str, Any]:
        return await ops.reply(conversation, body.operator, body.text, idempotency_key)

    @app.post("/handoffs/{conversation}/release")
    async def release(conversation: str, body: ReleaseIn | None = None) -> dict[str, Any]:
        b = body or ReleaseIn()
        return await ops.release(conversation, b.operator, b.message)

    if privacy is not None:
        app.include_router(privacy_router(*privacy))
    return app
