"""Who an export or erasure is about: tenant by name or phone_number_id, one valid customer id."""

from __future__ import annotations

from pathlib import Path

import pytest

from wapipe.privacy import BadSubject, resolve_subject
from wapipe.privacy.redis_keys import _names
from wapipe.tenants import TenantRegistry

TENANTS = TenantRegistry(Path(__file__).parents[2] / "config" / "tenants")


def test_tenant_by_name_or_phone_number_id() -> None:
    by_name = resolve_subject(TENANTS, "demo", "573001234567")
    by_id = resolve_subject(TENANTS, "100000000000001", "573001234567")
    assert by_name == by_id and by_name.tenant_name == "demo"
    assert by_name.conversations == ("100000000000001:573001234567",)
    assert by_name.masked == "…4567"
    gone = resolve_subject(TENANTS, "100000000000999", "573001234567")  # data may outlive its tenant file
    assert gone.tenant == "100000000000999" and gone.tenant_name is None


@pytest.mark.parametrize("user", ["573001234567", "+573001234567", "CO.1297408873021955", "api:web-42"])
def test_customer_ids(user: str) -> None:
    assert resolve_subject(TENANTS, "demo", user).user == user.lstrip("+")


@pytest.mark.parametrize(("tenant", "user", "says"), [
    ("nope", "573001234567", "unknown tenant 'nope' (known: demo"),
    ("demo", "", "(--user) must be"),
    ("demo", "573 001 234", "(--user) must be"),
    ("demo", "57300*", "(--user) must be"),
    ("demo", "a" * 200, "(--user) must be"),
])
def test_bad_input_is_one_clear_line(tenant: str, user: str, says: str) -> None:
    with pytest.raises(BadSubject) as e:
        resolve_subject(TENANTS, tenant, user)
    assert says in str(e.value) and "\n" not in str(e.value)


def test_an_id_counts_only_as_whole_segments() -> None:
    assert _names("wapipe:window:100:5730", "100:5730")
    assert _names("wapipe:flood:100:5730:notice", "100:5730")
    assert not _names("wapipe:window:100:57301", "100:5730")
    assert not _names("wapipe:window:9100:5730", "100:5730")
    assert _names("wapipe:dedupe:100:wamid.X", "wamid.X") and not _names("wapipe:dedupe:100:wamid.XY", "wamid.X")
