"""Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed by the app secret>`.

Always computed over the exact bytes received; re-serialising the JSON would change `\\/` escapes and
non-ASCII characters and break the match.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def expected_signature(body: bytes, app_secret: str) -> str:
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, header: str, app_secret: str) -> bool:
    """Constant-time comparison of the header against the HMAC of `body`."""
    given = header.strip()
    if given[: len(PREFIX)].lower() == PREFIX:
        given = PREFIX + given[len(PREFIX):].lower()
    return hmac.compare_digest(given.encode(), expected_signature(body, app_secret).encode())


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison for the verify token and the /api/chat key."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
