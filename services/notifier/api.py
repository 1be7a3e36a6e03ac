"""The operator API (port 8081): every route, known or not, needs `Authorization: Bearer <token>`.

The token is an operator token (`wapipe operators token add`: a name and its tenants, looked up by its sha256 in the
store; one named after a console account carries that account's scope and dies when it is disabled or its password
reset) or `WAPIPE_ADMIN_TOKEN` (bootstrap / break-glass: every tenant, checked first, so it works while the store is
down). It is checked in a middleware, before routing and body parsing, so no route (nor a malformed request) answers
anything but 401 without one. The caller's `Scope` then travels with the request; `Operators` refuses (403) what
lies outside it. No /docs or /openapi.json: nothing is served unauthenticated.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.notifier.operator import Forbidden, OperatorError, Operators
from services.notifier.privacy import privacy_router
from wapipe.access import ADMIN_CREDENTIAL, Scope, hash_token, looks_like_token
from wapipe.accounts import token_scope
from wapipe.privacy import Privacy
from wapipe.privacy.subject import TenantLookup
from wapipe.runtime.http import NO_OTEL
from wapipe.runtime.producer import DeliveryFailed
from wapipe.store.accounts import OperatorAccountStore
from wapipe.store.port import OperatorTokenStore, StoreUnavailable

log = logging.getLogger(__name__)
OPERATOR = Field(default=None, pattern=r"^[A-Za-z0-9._@\-]{1,64}$",
                 description="who is acting: with the admin token, the name the audit records (default admin); "
                             "with an operator token, its own name or nothing")


class TakeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operator: str | None = OPERATOR


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4096)
    operator: str | None = OPERATOR


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str | None = Field(default=None, min_length=1, max_length=4096)
    operator: str | None = OPERATOR


class Detail(BaseModel):
    detail: Any


# Documented on every route, so clients (and the contract tests) know each refusal's shape.
_ERRORS: dict[int | str, dict[str, Any]] = {c: {"model": Detail} for c in (400, 401, 403, 404, 409, 503)}


class Refused(Exception):
    def __init__(self, detail: str, status: int = 401) -> None:
        super().__init__(detail)
        self.status = status


async def identify(header: str | None, admin: bytes, tokens: OperatorTokenStore,
                   accounts: OperatorAccountStore | None = None) -> Scope:
    """The caller's scope from `Authorization: Bearer ...`, or `Refused`. With `accounts`, a token named after an
    operator account carries that account's scope and is refused once it is disabled or its password reset."""
    if not header or not header.startswith("Bearer "):
        raise Refused("missing or wrong bearer token")
    presented = header[7:].strip()
    if hmac.compare_digest(presented.encode(), admin):
        return Scope.admin()
    if not looks_like_token(presented):
        raise Refused("missing or wrong bearer token")
    digest = hash_token(presented)
    try:
        found = await tokens.operator_token(digest)
    except StoreUnavailable as exc:
        log.error("operator token not checked: %s", exc)
        raise Refused("operator tokens cannot be checked now; try again", 503) from exc
    if found is None or not hmac.compare_digest(found.token_hash, digest):
        raise Refused("missing or wrong bearer token")
    if found.revoked_at is not None:
        raise Refused(f"token {found.token_id} was revoked")
    if accounts is None:
        return Scope.of_token(found)
    try:
        account = await accounts.operator_account(found.name)
    except StoreUnavailable as exc:
        log.error("operator token's account not checked: %s", exc)
        raise Refused("operator tokens cannot be checked now; try again", 503) from exc
    scope = token_scope(found, account)
    if scope is None:
        raise Refused(f"token {found.token_id} was revoked with its account's password or access")
    return scope


def caller(request: Request) -> Scope:
    scope: Scope = request.state.scope
    return scope


Caller = Annotated[Scope, Depends(caller)]


def acting(who: Scope, claimed: str | None) -> Scope:
    """The admin token acts under the name the caller gives; an operator token only under its own."""
    if claimed is None or claimed == who.name:
        return who
    if who.credential == ADMIN_CREDENTIAL:
        return replace(who, name=claimed)
    raise Forbidden(f"this token acts as {who.name!r}: leave out 'operator' or send that name")


def privacy_actor(request: Request, claimed: str | None) -> str:
    """Export and erasure are for tokens with every tenant (the admin's); the audit records who acted."""
    who = caller(request)
    if not who.all_tenants:
        raise Forbidden("privacy requests need a token for every tenant (an admin's)")
    return acting(who, claimed).name


def create_api(ops: Operators, token: str, tokens: OperatorTokenStore,
               privacy: tuple[Privacy, TenantLookup] | None = None,
               accounts: OperatorAccountStore | None = None) -> FastAPI:
    """`privacy`: export and erasure of one customer (`privacy.py`), served when given; `accounts`: the console's
    operator accounts, which tokens named after them follow (`wapipe.accounts.token_scope`)."""
    if not token:
        raise ValueError("the operator API needs WAPIPE_ADMIN_TOKEN")
    secret = token.encode()
    app = FastAPI(title="wapipe notifier operator API", docs_url=None, redoc_url=None, openapi_url=None,
                  responses=_ERRORS, telemetry=NO_OTEL)

    @app.middleware("http")
    async def require_token(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        try:
            request.state.scope = await identify(request.headers.get("authorization"), secret, tokens, accounts)
        except Refused as refused:
            headers = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else None
            return JSONResponse({"detail": str(refused)}, status_code=refused.status, headers=headers)
        return await call_next(request)

    @app.exception_handler(OperatorError)
    async def operator_error(_: Request, exc: OperatorError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(DeliveryFailed)
    async def broker_down(_: Request, exc: DeliveryFailed) -> JSONResponse:
        log.error("operator message not queued: %s", exc)
        return JSONResponse({"detail": "the message could not be queued; try again"}, status_code=503)

    @app.get("/handoffs")
    async def list_handoffs(who: Caller, tenant: str | None = None) -> dict[str, Any]:
        return {"handoffs": await ops.list(who, tenant)}

    @app.post("/handoffs/{conversation}")
    async def take_over(conversation: str, who: Caller, body: TakeIn | None = None) -> dict[str, Any]:
        return await ops.take(conversation, acting(who, (body or TakeIn()).operator))

    @app.post("/handoffs/{conversation}/reply", status_code=202)
    async def reply(conversation: str, body: ReplyIn, who: Caller,
                    idempotency_key: str | None = Header(default=None, max_length=128)) -> dict[str, Any]:
        return await ops.reply(conversation, acting(who, body.operator), body.text, idempotency_key)

    @app.post("/handoffs/{conversation}/release")
    async def release(conversation: str, who: Caller, body: ReleaseIn | None = None) -> dict[str, Any]:
        b = body or ReleaseIn()
        return await ops.release(conversation, acting(who, b.operator), b.message)

    if privacy is not None:
        app.include_router(privacy_router(*privacy, actor=privacy_actor))
    return app
