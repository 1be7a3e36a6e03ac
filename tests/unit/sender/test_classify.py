"""Meta's error code decides whether the sender retries, waits, falls back to a template or gives up."""

from __future__ import annotations

import pytest

from services.sender.graph import classify


@pytest.mark.parametrize(("code", "status"), [(130429, 429), (131000, 500), (131016, 503), (1, 500), (2, 503),
                                              (None, 502), (None, None), (None, 429)])
def test_transient_errors_retry(code: int | None, status: int | None) -> None:
    assert classify(code, status) == "retry"


@pytest.mark.parametrize(("code", "status"), [(131026, 400), (131050, 400), (132001, 404), (132000, 500),
                                              (368, 403), (190, 401), (100, 400), (131009, 400), (None, 400)])
def test_permanent_errors_do_not_retry(code: int | None, status: int | None) -> None:
    assert classify(code, status) == "permanent"


def test_pair_limit_and_window() -> None:
    assert classify(131056, 429) == "pair_limit"
    assert classify(131047, 400) == "window"
