"""Verify token and /api/chat key comparisons (Meta's webhook HMAC: tests/unit/test_meta_signature.py)."""

from __future__ import annotations

from services.ingress.signature import token_matches


def test_token_matches() -> None:
    assert token_matches("tok", "tok")
    assert not token_matches(None, "tok") and not token_matches("to", "tok")
