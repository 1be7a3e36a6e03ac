"""The webhook body budget: reservations fit or are refused whole, and settings cannot make a full body unreadable."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.ingress.admission import BodyBudget
from services.ingress.config import IngressSettings


def test_reservations_fit_exactly_and_come_back() -> None:
    budget = BodyBudget(100)
    assert budget.try_reserve(60) and budget.try_reserve(40)
    assert not budget.try_reserve(1)  # full: refused, nothing half-reserved
    assert budget.held == 100
    budget.release(40)
    assert not budget.try_reserve(41) and budget.try_reserve(40)


def test_a_budget_below_one_full_body_is_refused() -> None:
    with pytest.raises(ValidationError, match="MAX_BODY_BYTES_IN_FLIGHT"):
        IngressSettings(_env_file=None, ingress_max_body_bytes=1000, ingress_max_body_bytes_in_flight=999)  # type: ignore[call-arg]
    IngressSettings(_env_file=None, ingress_max_body_bytes=1000, ingress_max_body_bytes_in_flight=1000)  # type: ignore[call-arg]
