"""`GET /_sim/orders/{order_id}`: a shop's order-status API, for the demo tenant's `order_status` HTTP tool.

It asks for a bearer token (any non-empty one: it stands for the shop's API key, which the AI stage reads from
an environment variable). Orders 1000 to 1999 exist, with a status that follows from the number, so a test and
a person trying the demo see the same answer; any other number is 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(prefix="/_sim")

STATUSES = (("en preparación", "en 2 a 3 días hábiles"), ("enviado con Servientrega", "mañana"),
            ("entregado", None), ("enviado con Coordinadora", "en 1 a 2 días hábiles"))


def order(order_id: int) -> dict[str, object]:
    status, eta = STATUSES[order_id % len(STATUSES)]
    doc: dict[str, object] = {"order_id": str(order_id), "status": status, "items": 1 + order_id % 3}
    if eta:
        doc["eta"] = eta
    return doc


@router.get("/orders/{order_id}")
async def order_status(order_id: str, request: Request) -> JSONResponse:
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        return JSONResponse({"error": "missing bearer token"}, status_code=401)
    if not order_id.isdigit() or not 1000 <= int(order_id) <= 1999:
        return JSONResponse({"error": "order not found"}, status_code=404)
    return JSONResponse(order(int(order_id)))
