"""The operator API's privacy routes: one customer's data, exported or erased (the same as `wapipe privacy`).

    GET    /privacy/{tenant}/{user}[?operator=name]  -> 200 everything kept about the customer (JSON)
    DELETE /privacy/{tenant}/{user}[?operator=name]  -> 200 {"tenant", "subject", "erased_at", "counts"}

`tenant` is the tenant file's name or its phone_number_id, `user` the wa_id or business-scoped user id. 400 for
an id that is not one, 404 for an unknown tenant, 403 for a token without every tenant (only an admin's may).
Both are audited in the store (who, when, counts; the customer masked).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from wapipe.privacy import BadSubject, Privacy, Subject, resolve_subject
from wapipe.privacy.subject import TenantLookup, UnknownTenant

OPERATOR = Query(default=None, pattern=r"^[A-Za-z0-9._@\-]{1,64}$",
                 description="who is acting (with the admin token; an operator token acts under its own name)")

# (request, the name the caller claims) -> the name the audit records; raises (403) for a caller who may not.
Actor = Callable[[Request, str | None], str]


def privacy_router(privacy: Privacy, tenants: TenantLookup, actor: Actor) -> APIRouter:
    router = APIRouter()

    def subject(tenant: str, user: str) -> Subject:
        try:
            return resolve_subject(tenants, tenant, user)
        except UnknownTenant as exc:
            raise HTTPException(404, str(exc)) from exc
        except BadSubject as exc:
            raise HTTPException(400, str(exc)) from exc

    @router.get("/privacy/{tenant}/{user}")
    async def export(request: Request, tenant: str, user: str, operator: str | None = OPERATOR) -> dict[str, Any]:
        who = actor(request, operator)
        return await privacy.export(subject(tenant, user), f"operator:{who}")

    @router.delete("/privacy/{tenant}/{user}")
    async def erase(request: Request, tenant: str, user: str, operator: str | None = OPERATOR) -> dict[str, Any]:
        who = actor(request, operator)
        return await privacy.erase(subject(tenant, user), f"operator:{who}")

    return router
