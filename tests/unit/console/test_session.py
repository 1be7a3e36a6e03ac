"""Signed session cookies: what the console signed reads back; anything altered, foreign or expired does not."""

from __future__ import annotations

import pytest

from services.console.session import Session, Sessions, csrf_ok


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_session_reads_back_until_it_expires() -> None:
    clock = Clock()
    sessions = Sessions(b"a-session-secret-for-tests", ttl_s=3600, clock=clock)
    s = sessions.new("laura")
    cookie = sessions.encode(s)
    assert sessions.decode(cookie) == s and len(s.csrf) >= 32
    clock.now += 3599
    assert sessions.decode(cookie) == s
    clock.now += 2
    assert sessions.decode(cookie) is None


@pytest.mark.parametrize("alter", [
    lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),  # another signature
    lambda c: "e30" + c[c.index("."):],  # another body, the same signature
    lambda c: c.replace(".", ""),
    lambda c: c + ".x",
    lambda c: "",
])
def test_an_altered_cookie_is_no_session(alter: object) -> None:
    sessions = Sessions(b"a-session-secret-for-tests", ttl_s=3600)
    cookie = sessions.encode(sessions.new("laura"))
    assert callable(alter)
    assert sessions.decode(alter(cookie)) is None


def test_a_cookie_signed_with_another_secret_is_no_session() -> None:
    mine, theirs = (Sessions(secret, ttl_s=3600) for secret in (b"a-session-secret-for-tests", b"another-secret-xyz"))
    assert mine.decode(theirs.encode(theirs.new("laura"))) is None
    with pytest.raises(ValueError):
        Sessions(b"short", ttl_s=60)


def test_csrf_is_the_sessions_own_token_only() -> None:
    s = Session("laura", 0.0, "the-token")
    assert csrf_ok(s, "the-token")
    assert not csrf_ok(s, None) and not csrf_ok(s, "") and not csrf_ok(s, "the-token ")
