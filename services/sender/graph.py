"""The Graph API behind a small port, and what each Meta error code means for the sender.

`HttpGraph` keeps one `httpx.AsyncClient` (8 s timeout) for the life of the process. Every failure becomes a
`GraphError` whose `action` says what to do: retry with backoff, wait out the pair limit, fall back to a template,
or give up.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import httpx

Action = Literal["retry", "pair_limit", "window", "permanent"]

RETRYABLE_CODES = frozenset({1, 2, 130429, 131000, 131016})
PAIR_LIMIT = 131056
WINDOW_CLOSED = 131047


def classify(code: int | None, http_status: int | None) -> Action:
    """Meta's code decides; an unknown code falls back to the HTTP status (5xx and 429 retry)."""
    if code == PAIR_LIMIT:
        return "pair_limit"
    if code == WINDOW_CLOSED:
        return "window"
    if code in RETRYABLE_CODES:
        return "retry"
    if code is None and (http_status is None or http_status >= 500 or http_status == 429):
        return "retry"
    if code is not None and http_status is not None and http_status >= 500 and not 132000 <= code < 133000:
        return "retry"
    return "permanent"  # 100, 131009, 131026, 131050, 132xxx, 368, 190, ...


@dataclass
class GraphError(Exception):
    code: int | None
    http_status: int | None
    title: str
    details: str = ""

    def __post_init__(self) -> None:
        super().__init__(f"Graph API error {self.code} (HTTP {self.http_status}): {self.title}")

    @property
    def action(self) -> Action:
        return classify(self.code, self.http_status)


class GraphPort(Protocol):
    """Sends one request body to `/{phone_number_id}/messages`; returns the wamid (None for read receipts).
    Uploads (`upload`, `POST /{phone_number_id}/media`) are `services.sender.media.UploadPort`."""

    async def post(self, phone_number_id: str, body: dict[str, Any]) -> str | None: ...


class HttpGraph:
    """GraphPort over httpx. Timeouts and connection errors surface as retryable `GraphError`s.

    At most `max_connections` requests are handed to httpx at once; the rest wait on a semaphore. httpcore's pool
    rescans every connection and queued request whenever one finishes, so hundreds of queued sends (the sender
    runs 256 records in flight) cost more CPU than the sends themselves.
    """

    def __init__(self, base_url: str, version: str, access_token: str, timeout_s: float = 8.0,
                 max_connections: int = 32) -> None:
        self._prefix = f"{base_url.rstrip('/')}/{version}"
        self._slots = asyncio.Semaphore(max_connections)
        self._timeout_s = timeout_s
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s),
            headers={"Authorization": f"Bearer {access_token}"},
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    async def post(self, phone_number_id: str, body: dict[str, Any]) -> str | None:
        try:
            async with self._slots:
                r = await self._client.post(f"{self._prefix}/{phone_number_id}/messages", json=body)
        except httpx.TimeoutException as e:
            raise GraphError(None, None, f"timeout: {type(e).__name__}") from e
        except httpx.TransportError as e:
            raise GraphError(None, None, f"transport: {type(e).__name__}") from e
        doc = self._doc(r)
        if r.status_code >= 400 or "error" in doc:
            raise self._error(r, doc)
        messages = doc.get("messages") or []
        return str(messages[0]["id"]) if messages else None

    async def upload(self, phone_number_id: str, data: bytes, mime_type: str, filename: str | None) -> str:
        """`POST /{phone_number_id}/media` (multipart, messaging_product=whatsapp): Meta's media id."""
        files = {"file": (filename or "media", data, mime_type)}
        form = {"messaging_product": "whatsapp", "type": mime_type}
        try:
            async with self._slots:
                r = await self._client.post(f"{self._prefix}/{phone_number_id}/media", data=form, files=files,
                                            timeout=httpx.Timeout(max(self._timeout_s, 30.0)))
        except httpx.TimeoutException as e:
            raise GraphError(None, None, f"upload timeout: {type(e).__name__}") from e
        except httpx.TransportError as e:
            raise GraphError(None, None, f"upload transport: {type(e).__name__}") from e
        doc = self._doc(r)
        if r.status_code >= 400 or "error" in doc or not doc.get("id"):
            raise self._error(r, doc)
        return str(doc["id"])

    @staticmethod
    def _doc(r: httpx.Response) -> dict[str, Any]:
        try:
            doc = r.json()
        except ValueError:
            return {}
        return doc if isinstance(doc, dict) else {}

    @staticmethod
    def _error(r: httpx.Response, doc: dict[str, Any]) -> GraphError:
        err = doc.get("error") or {}
        return GraphError(err.get("code"), r.status_code, str(err.get("message") or r.reason_phrase),
                          str((err.get("error_data") or {}).get("details") or ""))

    async def aclose(self) -> None:
        await self._client.aclose()
