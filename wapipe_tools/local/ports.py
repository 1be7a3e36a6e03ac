"""Who holds a TCP port: so `wapipe up` can say "port 8080 is taken by <command> (pid N)" instead of crashing;
and where a process listens, so the tests can prove the local stack binds loopback only (Linux /proc)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

_LISTEN = "0A"


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


def port_owner(port: int) -> str:
    """A short description of the process listening on `port` (Linux /proc), or a generic phrase."""
    inodes = _listening_inodes(port)
    if inodes:
        targets = {f"socket:[{i}]" for i in inodes}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
                if any(os.readlink(f"/proc/{pid}/fd/{fd}") in targets for fd in fds):
                    raw = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").strip()
                    cmd = raw.decode(errors="replace")
                    return f"{cmd[:80]} (pid {pid})"
            except OSError:  # processes come and go, and other users' fds are not readable
                continue
    return "another process"
