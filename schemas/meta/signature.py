"""Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed by the app secret>`.

Ingress verifies it; the simulator, the local checks, the benchmarks and the tests sign with it. Always over the
exact bytes sent or received: re-serialising the JSON would change `\\/` escapes and non-ASCII characters and break
the match.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hub-Signature-256"
PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta sends with `body`."""
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str, app_secret: str) -> bool:
    """Constant-time comparison of the header against the HMAC of `body` (the scheme and hex digits in any case)."""
    given = header.strip()
    if given[: len(PREFIX)].lower() == PREFIX:
        given = PREFIX + given[len(PREFIX):].lower()
    return hmac.compare_digest(given.encode(), sign(body, app_secret).encode())


def webhook_headers(body: bytes, app_secret: str) -> dict[str, str]:
    """The headers of a webhook POST as Meta sends it."""
    return {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, app_secret)}
