"""Meta's error body and the HTTP status each error code comes back with."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.responses import JSONResponse

# code -> (HTTP status, title). Statuses follow what the Cloud API returns for each family.
ERRORS: dict[int, tuple[int, str]] = {
    1: (500, "API Unknown"),
    2: (503, "API Service"),
    100: (400, "Invalid parameter"),
    190: (401, "Invalid OAuth access token - Cannot parse access token"),
    368: (403, "Temporarily blocked for policies violations"),
    130429: (429, "Rate limit hit"),
    131000: (500, "Something went wrong"),
    131009: (400, "Parameter value is not valid"),
    131016: (503, "Service unavailable"),
    131026: (400, "Message undeliverable"),
    131047: (400, "Re-engagement message"),
    131050: (400, "User has stopped marketing messages"),
    131052: (400, "Media download error"),
    131053: (400, "Media upload error"),
    131056: (429, "(Business Account, Consumer Account) pair rate limit hit"),
    132001: (404, "Template does not exist"),
}


def meta_error(code: int, details: str, *, status: int | None = None, subcode: int | None = None) -> JSONResponse:
    http_status, title = ERRORS.get(code, (400, "Error"))
    err: dict[str, Any] = {
        "message": f"(#{code}) {title}",
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": "A" + uuid.uuid4().hex[:22],
    }
    if subcode is not None:
        err["error_subcode"] = subcode
    return JSONResponse({"error": err}, status_code=status or http_status)
