"""Constant-time checks of what callers present to ingress. Meta's webhook signature itself is
`schemas.meta.signature`, shared with everything that signs webhooks."""

from __future__ import annotations

import hmac


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison for the verify token and the /api/chat key."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
