"""The local stack's ports, in one table; who holds a port (so `wapipe up` can say "port 8080 is already in use
by <command> (pid N)" instead of crashing); and where a process listens, so the tests can prove the local
stack binds loopback only (Linux /proc).

`wapipe up`, the benchmarks, the e2e tests and the CLI's default URLs all read `LOCAL_PORTS`; a private range
(`StackPorts.from_base`) runs a second stack beside a developer's on the defaults.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

SERVICES = ("ingress", "guardrails", "ai", "sender", "notifier", "media", "console")
_LISTEN = "0A"


@dataclass(frozen=True)
class StackPorts:
    """Name -> port of everything the local stack listens on (defaults: the Local defaults of the architecture)."""

    ingress: int = 8080  # /webhook, /api/chat, /healthz, /readyz
    notifier: int = 8081  # operator API
    console: int = 8082  # the operator console's pages
    simulator: int = 8090  # Graph API + OpenAI-compatible model
    broker: int = 19092
    redis: int = 16379
    ingress_metrics: int = 9101  # /metrics of ingress
    guardrails_health: int = 9102  # /healthz /readyz /metrics of each consumer
    ai_health: int = 9103
    sender_health: int = 9104
    notifier_health: int = 9105
    media_health: int = 9106
    console_health: int = 9107

    @classmethod
    def from_base(cls, base: int) -> StackPorts:
        """A private range of 30 ports from `base`: broker, Redis, simulator, ingress at +0..+3, each service's
        health/metrics port at +10..+15 (ingress, guardrails, ai, sender, notifier, media), notifier API +20,
        console +21 and its health/metrics port +22; +23..+29 stay free."""
        return cls(ingress=base + 3, notifier=base + 20, console=base + 21, simulator=base + 2, broker=base,
                   redis=base + 1, ingress_metrics=base + 10, guardrails_health=base + 11, ai_health=base + 12,
                   sender_health=base + 13, notifier_health=base + 14, media_health=base + 15,
                   console_health=base + 22)

    def table(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    def health(self, service: str) -> int:
        """The port of `service`'s /metrics (and, for the consumers, /healthz and /readyz)."""
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}")
        port: int = getattr(self, "ingress_metrics" if service == "ingress" else f"{service}_health")
        return port

    def served(self) -> tuple[int, ...]:
        """Every port `wapipe up` binds."""
        return tuple(self.table().values())

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.table()[name]}"


LOCAL_PORTS = StackPorts()


def _address(hex_addr: str) -> tuple[str, int]:
    """/proc/net/tcp{,6} notation ("0100007F:1F90": host-order 32-bit words in hex) -> ("127.0.0.1", 8080)."""
    host, port = hex_addr.split(":")
    raw = b"".join(int(host[i:i + 8], 16).to_bytes(4, "little") for i in range(0, len(host), 8))
    ip = ipaddress.ip_address(raw)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip), int(port, 16)


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """Every (address, port) a TCP socket of process `pid` listens on."""
    fds = Path(f"/proc/{pid}/fd")
    inodes = set()
    for fd in fds.iterdir():
        try:
            link = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if link.startswith("socket:["):
            inodes.add(link[len("socket:["):-1])
    found = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == _LISTEN and cols[9] in inodes:
                found.add(_address(cols[1]))
    return found


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == _LISTEN and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    return inodes


def _holds(pid: str, targets: set[str]) -> bool:
    """Whether process `pid` has one of these sockets open. Each fd is read on its own: fds close between listing
    and reading (the one `listdir` itself used always has), and one gone fd must not hide the rest."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:  # the process is gone, or it belongs to another user
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in targets:
                return True
        except OSError:
            continue
    return False


def port_owner(port: int) -> str:
    """A short description of the process listening on `port` (Linux /proc), or a generic phrase."""
    inodes = _listening_inodes(port)
    if inodes:
        targets = {f"socket:[{i}]" for i in inodes}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            if not _holds(pid, targets):
                continue
            try:
                raw = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").strip()
            except OSError:  # it exited just now
                continue
            return f"{raw.decode(errors='replace')[:80]} (pid {pid})"
    return "another process"
