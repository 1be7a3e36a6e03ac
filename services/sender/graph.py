"""The Graph API behind a small port, and what each Meta error code means for the sender.

`HttpGraph` keeps one `aiohttp.ClientSession` (8 s timeout) for the life of the process. Every failure becomes a
`GraphError` whose `action` says what to do: retry with backoff, wait out the pair limit, fall back to a template,
or give up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import aiohttp

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
    """GraphPort over aiohttp. Timeouts and connection errors surface as retryable `GraphError`s.

    One `aiohttp.ClientSession` (opened at the first request, on the running loop) keeps up to `max_connections`
    keep-alive connections; further requests wait in its connector's queue. aiohttp was chosen by measurement:
    one JSON POST costs about an eighth of httpx's CPU (docs/benchmarks.md, "The sender's HTTP client"), and the
    sender makes two per reply.

    Failures are named the way `delivery._ambiguous` reads them: "ConnectTimeout" / "ConnectError" never
    reached Meta (no connection), any other timeout or dropped connection may have.
    """

    def __init__(self, base_url: str, version: str, access_token: str, timeout_s: float = 8.0,
                 max_connections: int = 32) -> None:
        self._prefix = f"{base_url.rstrip('/')}/{version}"
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, connect=timeout_s)
        self._upload_timeout = aiohttp.ClientTimeout(total=max(timeout_s, 30.0), connect=timeout_s)
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers=self._headers, timeout=self._timeout, raise_for_status=False,
                connector=aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=30.0))
        return self._session

    async def post(self, phone_number_id: str, body: dict[str, Any]) -> str | None:
        url = f"{self._prefix}/{phone_number_id}/messages"
        status, reason, doc = await self._request("", url, json=body)
        if status >= 400 or "error" in doc:
            raise _error(status, reason, doc)
        messages = doc.get("messages") or []
        return str(messages[0]["id"]) if messages else None

    async def upload(self, phone_number_id: str, data: bytes, mime_type: str, filename: str | None) -> str:
        """`POST /{phone_number_id}/media` (multipart, messaging_product=whatsapp): Meta's media id."""
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_type)
        form.add_field("file", data, filename=filename or "media", content_type=mime_type)
        url = f"{self._prefix}/{phone_number_id}/media"
        status, reason, doc = await self._request("upload ", url, data=form, timeout=self._upload_timeout)
        if status >= 400 or "error" in doc or not doc.get("id"):
            raise _error(status, reason, doc)
        return str(doc["id"])

    async def _request(self, what: str, url: str, **kwargs: Any) -> tuple[int, str, dict[str, Any]]:
        """One POST -> (HTTP status, reason, the JSON object answered or {})."""
        try:
            async with self._client().post(url, **kwargs) as r:
                raw = await r.read()
                return r.status, r.reason or "", _doc(raw)
        except aiohttp.ConnectionTimeoutError as e:
            raise GraphError(None, None, f"{what}timeout: ConnectTimeout") from e
        except TimeoutError as e:  # aiohttp.ServerTimeoutError (a read) or the total timeout
            raise GraphError(None, None, f"{what}timeout: ReadTimeout") from e
        except aiohttp.ClientConnectorError as e:
            raise GraphError(None, None, f"{what}transport: ConnectError") from e
        except aiohttp.ClientError as e:
            raise GraphError(None, None, f"{what}transport: {type(e).__name__}") from e

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _doc(raw: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(raw)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _error(status: int, reason: str, doc: dict[str, Any]) -> GraphError:
    err = doc.get("error") or {}
    return GraphError(err.get("code"), status, str(err.get("message") or reason),
                      str((err.get("error_data") or {}).get("details") or ""))
