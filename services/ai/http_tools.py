"""The tenant's HTTP tools (`tools.http` in its file): a model's tool call becomes one guarded HTTP request.

Every call goes through the outbound guard of the media stage (`services.media.guard.OutboundGuard`): https only
outside dev, the tenant's `tools.allowed_hosts` only, no private, loopback or link-local address (the name is
resolved once and the connection pinned to the address checked). Redirects are not followed: a tool's answer is
the answer of the URL the tenant declared. The response is read up to `max_response_bytes` and the call is bounded
by the tool's timeout (and the answer's remaining time). Every failure is a `ToolResult` the model reads.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from services.ai.toolspec import ToolCall, ToolResult, ToolSpec
from services.media.guard import GuardRefused, OutboundGuard, Resolver, resolve
from wapipe.tenants.tools import HttpTool, ToolsSettings

log = logging.getLogger(__name__)
_PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")
_BASE = re.compile(r"^\$\{([a-z0-9_]+)\}")


def spec(tool: HttpTool) -> ToolSpec:
    return ToolSpec(tool.name, tool.description, tool.parameters)


def count_of(doc: Any) -> int:
    """Results in a JSON answer: a list's length, an object's first list (`{"orders": [...]}`), else one."""
    if isinstance(doc, list):
        return len(doc)
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list)]
        return len(lists[0]) if lists else 1
    return 0 if doc is None else 1


class HttpTools:
    """Runs a tenant's HTTP tools over one long-lived client, with the base URLs `${name}` stands for and the
    secrets headers name (`WAPIPE_AI_TOOL_BASE_URLS`, `WAPIPE_AI_TOOL_SECRETS`)."""

    def __init__(self, client: httpx.AsyncClient, *, dev: bool, bases: Mapping[str, str] | None = None,
                 secrets: Mapping[str, str] | None = None, resolver: Resolver = resolve) -> None:
        self._client = client
        self._dev = dev
        self._bases = dict(bases or {})
        self._secrets = dict(secrets or {})
        self._resolver = resolver

    def guard(self, settings: ToolsSettings) -> OutboundGuard:
        return OutboundGuard(settings.allowed_hosts, allow_private=self._dev, allow_http=self._dev,
                             resolver=self._resolver)

    def url_for(self, tool: HttpTool, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The URL with its base and path arguments filled in, and the arguments left for the query or body."""
        url = tool.url
        if m := _BASE.match(url):
            base = self._bases.get(m.group(1), "")
            if not base:
                raise ValueError(f"no base URL {m.group(1)!r} is configured")
            url = base.rstrip("/") + url[m.end():]
        rest = dict(args)

        def fill(m: re.Match[str]) -> str:
            if m.group(1) not in rest:
                raise ValueError(f"missing argument {m.group(1)!r}")
            return quote(str(rest.pop(m.group(1))), safe="")

        return _PLACEHOLDER.sub(fill, url), rest

    async def run(self, tool: HttpTool, settings: ToolsSettings, call: ToolCall, timeout_s: float) -> ToolResult:
        try:
            url, rest = self.url_for(tool, call.args())
        except ValueError as e:
            return ToolResult.error("bad_arguments", str(e))
        try:
            admitted = await self.guard(settings).admit(url)
        except GuardRefused as e:
            log.warning("tool call refused tool=%s reason=%s", tool.name, e.reason)
            return ToolResult.error("refused", f"the tool's address is not allowed ({e.reason})")
        headers = dict(admitted.headers)
        if tool.header is not None:
            secret = self._secrets.get(tool.header.secret)
            if not secret:
                return ToolResult.error("error", "the tool is not configured")
            headers[tool.header.name] = tool.header.prefix + secret
        if tool.method == "GET":
            params, body = {k: str(v) for k, v in rest.items()}, None
        else:
            params, body = {}, rest
        request = self._client.build_request(tool.method, admitted.url, params=params, json=body, headers=headers,
                                             extensions=admitted.extensions, timeout=httpx.Timeout(timeout_s))
        try:
            async with asyncio.timeout(timeout_s):  # the whole call, however slowly the bytes trickle in
                status, data = await self._send(request, tool.max_response_bytes)
        except (TimeoutError, httpx.TimeoutException):
            return ToolResult.error("timeout", f"no answer within {timeout_s:.1f}s")
        except httpx.TransportError as e:
            return ToolResult.error("error", f"unreachable ({type(e).__name__})")
        if data is None:
            return ToolResult.error("error", f"answer larger than {tool.max_response_bytes} bytes")
        return _result(status, data)

    async def _send(self, request: httpx.Request, cap: int) -> tuple[int, bytes | None]:
        """The status and body, or None for a body over `cap` bytes (reading stops there)."""
        response = await self._client.send(request, stream=True)
        try:
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > cap:
                    return response.status_code, None
            return response.status_code, bytes(data)
        finally:
            await response.aclose()


def _result(status: int, data: bytes) -> ToolResult:
    """What the model reads of an answer: JSON as it came, text wrapped, 404 as not found."""
    text = data.decode("utf-8", "replace")
    if status == 404:
        return ToolResult(json.dumps({"found": False}), 0)
    if status >= 300:
        return ToolResult.error("error", f"HTTP {status}")
    try:
        doc = json.loads(text)
    except ValueError:
        return ToolResult(json.dumps({"text": text}, ensure_ascii=False), 1 if text.strip() else 0)
    return ToolResult(json.dumps(doc, ensure_ascii=False), count_of(doc))
