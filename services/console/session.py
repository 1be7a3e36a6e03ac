"""Console sessions in a signed cookie: `<base64url(json)>.<base64url(hmac-sha256)>` under the console's session
secret. The payload names the operator, when they signed in and the session's CSRF token; nothing else (the
account's role and tenants are read from the store on every request, so a disabled account or a reset password
ends every session at once). The cookie is `HttpOnly`, `SameSite=Lax`, and `Secure` outside dev.

CSRF: every form carries the session's token in a hidden `csrf` field and htmx sends it as `X-CSRF-Token`; any
POST whose token is missing or is not the session's is refused (403) before it does anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

COOKIE = "wapipe_console"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Session:
    name: str
    issued_at: float
    csrf: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    def __init__(self, secret: bytes, ttl_s: int, clock: Callable[[], float] = time.time) -> None:
        if len(secret) < 16:
            raise ValueError("the console's session secret is too short")
        self._key = hashlib.sha256(b"wapipe-console-session:" + secret).digest()
        self.ttl_s = ttl_s
        self.clock = clock

    def new(self, name: str) -> Session:
        return Session(name, self.clock(), secrets.token_urlsafe(24))

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def encode(self, s: Session) -> str:
        body = _b64(json.dumps({"n": s.name, "t": s.issued_at, "c": s.csrf}, separators=(",", ":")).encode())
        return f"{body}.{self._mac(body)}"

    def decode(self, cookie: str | None) -> Session | None:
        """The session in a cookie signed by us and not expired; None for anything else."""
        if not cookie or cookie.count(".") != 1 or len(cookie) > 4096:
            return None
        body, mac = cookie.split(".")
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            doc = json.loads(_unb64(body))
            s = Session(str(doc["n"]), float(doc["t"]), str(doc["c"]))
        except (ValueError, KeyError, TypeError):
            return None
        age = self.clock() - s.issued_at
        return s if -60 < age < self.ttl_s else None  # a minute of clock skew between replicas


def csrf_ok(session: Session, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(session.csrf.encode(), (presented or "").encode())
