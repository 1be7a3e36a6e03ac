"""Download a customer's media at once: Graph API media object -> its URL -> the bytes, verified.

`GET /{version}/{media_id}` (bearer) gives `url`, `mime_type`, `sha256`, `file_size`; the URL lives about five
minutes and needs the same bearer. The mime type must be allowed and the declared size under the kind's cap
before a byte is fetched; the body is streamed and cut off as soon as it passes the cap or the declared size;
then its size and sha256 must match. Transient failures (Meta's retryable codes, 5xx, 429, timeouts, an expired
URL, which a fresh media object replaces) are retried `attempts` times with backoff; what still fails is a
`MediaUnavailable` with a fixed `reason`, so the message can go on without its media.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin

import httpx
from pydantic import ValidationError

from schemas.meta.media import MediaInfo, base_mime
from wapipe.media.limits import MediaLimits
from wapipe.net.guard import GuardRefused, OutboundGuard

log = logging.getLogger(__name__)

Reason = Literal["not_found", "expired", "too_large", "mime_not_allowed", "sha256_mismatch", "size_mismatch",
                 "host_not_allowed", "unauthorized", "graph_error", "timeout", "unreachable"]
RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016})
MAX_REDIRECTS = 3
CHUNK = 64 * 1024
MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


@dataclass(frozen=True)
class Downloaded:
    media_id: str
    data: bytes
    mime_type: str
    sha256: str  # hex
    attempts: int
    duration_s: float

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class MediaUnavailable:
    media_id: str
    reason: Reason
    detail: str
    attempts: int = 1


DownloadResult = Downloaded | MediaUnavailable


class _Failed(Exception):
    def __init__(self, reason: Reason, detail: str, retry: bool = False) -> None:
        super().__init__(detail)
        self.reason, self.detail, self.retry = reason, detail, retry


def sha256_matches(expected: str, digest: bytes) -> bool:
    """Meta gives the digest hex (media endpoint) or base64 (webhooks); either form is compared."""
    value = expected.strip()
    if len(value) == 64:
        try:
            return bytes.fromhex(value) == digest
        except ValueError:
            pass
    try:
        return base64.b64decode(value, validate=True) == digest
    except (binascii.Error, ValueError):
        return False


def _graph_failure(r: httpx.Response) -> _Failed:
    try:
        err = (r.json() or {}).get("error") or {}
    except ValueError:
        err = {}
    code, subcode = err.get("code"), err.get("error_subcode")
    detail = f"HTTP {r.status_code} code {code}"
    if code == 100 and subcode == 33 or r.status_code == 404:
        return _Failed("not_found", detail)
    if code == 190 or r.status_code in (401, 403):
        return _Failed("unauthorized", detail)
    if code in RETRYABLE_CODES or r.status_code >= 500 or r.status_code == 429:
        return _Failed("graph_error", detail, retry=True)
    return _Failed("graph_error", detail)


def new_client(timeout_s: float) -> httpx.AsyncClient:
    """The long-lived client downloads share: explicit timeouts, redirects followed by hand through the guard."""
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)), follow_redirects=False)


class MediaDownloader:
    def __init__(self, client: httpx.AsyncClient, *, graph_url: str, version: str, access_token: str,
                 guard: OutboundGuard, limits: MediaLimits, attempts: int = 3, backoff_s: float = 0.5,
                 attempt_timeout_s: float = 120.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._prefix = f"{graph_url.rstrip('/')}/{version}"
        self._auth = {"Authorization": f"Bearer {access_token}"}
        self._guard = guard
        self._limits = limits
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._attempt_timeout_s = attempt_timeout_s
        self._sleep = sleep
        self._clock = clock

    async def download(self, media_id: str, *, phone_number_id: str | None = None,
                       expected_sha256: str | None = None) -> DownloadResult:
        """The verified bytes, or why they cannot be had. `expected_sha256` is the webhook's digest, if any."""
        started = self._clock()
        if not MEDIA_ID.fullmatch(media_id):  # it goes into a Graph API path with our token: no "/", "?", ".."
            return MediaUnavailable(media_id[:64], "not_found", "not a media id", 0)
        for attempt in range(1, self._attempts + 1):
            try:
                try:
                    async with asyncio.timeout(self._attempt_timeout_s):  # a body that trickles in for ever
                        info = await self._media_object(media_id, phone_number_id)
                        data = await self._fetch(info)
                except TimeoutError as e:
                    raise _Failed("timeout", f"attempt took over {self._attempt_timeout_s} s", retry=True) from e
                return self._verified(info, data, expected_sha256, attempt, self._clock() - started)
            except _Failed as f:
                if not f.retry or attempt == self._attempts:
                    log.info("media %s unavailable: %s (%s) after %d attempt(s)", media_id, f.reason, f.detail,
                             attempt)
                    return MediaUnavailable(media_id, f.reason, f.detail, attempt)
                await self._sleep(random.uniform(0, self._backoff_s * 2 ** (attempt - 1)))
        raise AssertionError("unreachable")  # the loop always returns

    async def _media_object(self, media_id: str, phone_number_id: str | None) -> MediaInfo:
        params = {"phone_number_id": phone_number_id} if phone_number_id else None
        try:
            r = await self._client.get(f"{self._prefix}/{media_id}", params=params, headers=self._auth)
        except httpx.TimeoutException as e:
            raise _Failed("timeout", f"media object: {type(e).__name__}", retry=True) from e
        except httpx.TransportError as e:
            raise _Failed("unreachable", f"media object: {type(e).__name__}", retry=True) from e
        if r.status_code != 200:
            raise _graph_failure(r)
        try:
            info = MediaInfo.model_validate_json(r.content)
        except ValidationError as e:
            raise _Failed("graph_error", f"unreadable media object: {e.error_count()} error(s)") from e
        mime = base_mime(info.mime_type)
        if not self._limits.allowed(mime):
            raise _Failed("mime_not_allowed", f"{mime} is not an allowed media type")
        if info.file_size > self._limits.cap_for(mime):
            raise _Failed("too_large", f"{info.file_size} bytes > cap {self._limits.cap_for(mime)} for {mime}")
        return info

    async def _fetch(self, info: MediaInfo) -> bytes:
        url = info.url
        for _ in range(MAX_REDIRECTS + 1):
            try:
                admitted = await self._guard.admit(url)
            except GuardRefused as e:
                raise _Failed("host_not_allowed", str(e)) from e
            request = self._client.build_request("GET", admitted.url, headers={**self._auth, **admitted.headers},
                                                 extensions=admitted.extensions)
            try:
                response = await self._client.send(request, stream=True)
            except httpx.TimeoutException as e:
                raise _Failed("timeout", f"download: {type(e).__name__}", retry=True) from e
            except httpx.TransportError as e:
                raise _Failed("unreachable", f"download: {type(e).__name__}", retry=True) from e
            try:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                return await self._body(response, info)
            finally:
                await response.aclose()
        raise _Failed("host_not_allowed", f"more than {MAX_REDIRECTS} redirects")

    async def _body(self, response: httpx.Response, info: MediaInfo) -> bytes:
        if response.status_code in (404, 410):
            raise _Failed("expired", f"download URL answered {response.status_code}", retry=True)
        if response.status_code in (401, 403):
            raise _Failed("unauthorized", f"download URL answered {response.status_code}")
        if response.status_code != 200:
            raise _Failed("graph_error", f"download URL answered {response.status_code}",
                          retry=response.status_code >= 500 or response.status_code == 429)
        cap = self._limits.cap_for(base_mime(info.mime_type))
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            raise _Failed("too_large", f"Content-Length {declared} > cap {cap}")
        chunks: list[bytes] = []
        total = 0
        try:
            async for chunk in response.aiter_bytes(CHUNK):
                total += len(chunk)
                if total > cap:
                    raise _Failed("too_large", f"body passed the cap of {cap} bytes")
                if total > info.file_size:
                    raise _Failed("size_mismatch", f"body passed the declared {info.file_size} bytes")
                chunks.append(chunk)
        except httpx.TimeoutException as e:
            raise _Failed("timeout", f"download body: {type(e).__name__}", retry=True) from e
        except httpx.TransportError as e:
            raise _Failed("unreachable", f"download body: {type(e).__name__}", retry=True) from e
        return b"".join(chunks)

    def _verified(self, info: MediaInfo, data: bytes, expected_sha256: str | None, attempt: int,
                  duration_s: float) -> Downloaded:
        if len(data) != info.file_size:
            raise _Failed("size_mismatch", f"{len(data)} bytes, media object says {info.file_size}")
        digest = hashlib.sha256(data).digest()
        for name, expected in (("media object", info.sha256), ("webhook", expected_sha256)):
            if expected and not sha256_matches(expected, digest):
                raise _Failed("sha256_mismatch", f"sha256 differs from the {name}'s")
        return Downloaded(media_id=info.id, data=data, mime_type=info.mime_type, sha256=digest.hex(),
                          attempts=attempt, duration_s=duration_s)
