"""Outbound guard for media downloads: a URL is fetched only when its host is Meta's (or the simulator in dev).

A media URL comes from the Graph API's answer, so a wrong answer (or a hostile redirect) must not make us fetch
from our own network. `admit(url)` refuses other schemes, user info, hosts outside the allow-list and, unless
`allow_private` (dev only), every address that is loopback, private, link-local, multicast, reserved or
unspecified. It resolves the name once and pins the connection to the address it checked (the URL names the IP,
the Host header and TLS SNI keep the name), so a second DNS answer cannot swap the address in between.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class GuardRefused(Exception):
    """The URL may not be fetched; `reason` is a short fixed word (host_not_allowed, private_address, ...)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class Admitted:
    """How to fetch an admitted URL: `url` names the checked IP; send `headers` and `extensions` with it."""

    url: str
    host: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _forbidden(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified)


class OutboundGuard:
    def __init__(self, allowed_hosts: Iterable[str], *, allow_private: bool = False, allow_http: bool = False,
                 resolver: Resolver = resolve) -> None:
        entries = [h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip()]
        self.exact = frozenset(h for h in entries if not h.startswith("."))
        self.suffixes = tuple(h for h in entries if h.startswith("."))
        self.allow_private = allow_private
        self.allow_http = allow_http
        self._resolve = resolver

    def host_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.exact or any(host.endswith(s) for s in self.suffixes)

    async def admit(self, url: str) -> Admitted:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or parts.scheme == "http" and not self.allow_http:
            raise GuardRefused("scheme_not_allowed", f"scheme {parts.scheme!r}")
        if parts.username is not None or parts.password is not None:
            raise GuardRefused("userinfo", "URLs with user info are refused")
        host = (parts.hostname or "").lower()
        if not host or not self.host_allowed(host):
            raise GuardRefused("host_not_allowed", f"host {host!r} is not an allowed media host")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [literal]
        else:
            try:
                addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in await self._resolve(host, port)]
            except (OSError, ValueError) as e:
                raise GuardRefused("unresolvable", f"{host}: {type(e).__name__}") from e
        if not addresses:
            raise GuardRefused("unresolvable", host)
        if not self.allow_private and any(_forbidden(a) for a in addresses):
            raise GuardRefused("private_address", f"{host} resolves to a non-public address")
        if literal is not None:
            return Admitted(url=url, host=host)
        pinned = addresses[0]
        ip_host = f"[{pinned}]" if pinned.version == 6 else str(pinned)
        netloc = ip_host if parts.port is None else f"{ip_host}:{parts.port}"
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        return Admitted(url=urlunsplit(parts._replace(netloc=netloc)), host=host,
                        headers={"Host": parts.netloc}, extensions=extensions)
