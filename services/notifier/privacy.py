"""The operator API's privacy routes: one customer's data, exported or erased (the same as `wapipe privacy`).

    GET    /privacy/{tenant}/{user}[?operator=name]  -> 200 everything kept about the customer (JSON)
    DELETE /privacy/{tenant}/{user}[?operator=name]  -> 200 {"tenant", "subject", "erased_at", "counts"}

`tenant` is the tenant file's name or its phone_number_id, `user` the wa_id or business-scoped user id. 400 for
an id that is not one, 404 for an unknown tenant, 403 for a token that is not an admin's. Both are audited in the
store (who, when, counts; the customer masked).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from wapipe.privacy import BadSubject, Privacy, Subject, resolve_subject
from wapipe.privacy.subject import TenantLookup, UnknownTenant

OPERATOR = Query(default="admin", pattern=r"^[A-Za-z0-9._@\-]{1,64}$", description="who is acting")


def privacy_router(privacy: Privacy, tenants: TenantLookup,
                   is_admin: Callable[[Request], bool] = lambda _: True) -> APIRouter:
    """`is_admin`: whether the request's token may act on every tenant (today every valid token is the admin's)."""
    router = APIRouter()

    def subject(request: Request, tenant: str, user: str) -> Subject:
        if not is_admin(request):
            raise HTTPException(403, "privacy requests need an admin token")
        try:
            return resolve_subject(tenants, tenant, user)
        except UnknownTenant as exc:
            raise HTTPException(404, str(exc)) from exc
        except BadSubject as exc:
            raise HTTPException(400, str(exc)) from exc

    @router.get("/privacy/{tenant}/{user}")
    async def export(request: Request, tenant: str, user: str, operator: str = OPERATOR) -> dict[str, Any]:
        return await privacy.export(subject(request, tenant, user), f"operator:{operator}")

    @router.delete("/privacy/{tenant}/{user}")
    async def erase(request: Request, tenant: str, user: str, operator: str = OPERATOR) -> dict[str, Any]:
        return await privacy.erase(subject(request, tenant, user), f"operator:{operator}")

    return router
