"""Tenant files: validation errors name the file and field, reload without restart, opening hours."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wapipe.tenants import TenantConfigError, TenantRegistry, is_open, load_tenant, next_opening

DEMO = Path(__file__).parents[3] / "config" / "tenants" / "demo.yaml"


def test_demo_tenant_loads_with_its_facts() -> None:
    t = load_tenant(DEMO)
    assert t.name == "demo" and t.phone_number_id == "100000000000001"
    assert {"Nequi", "Daviplata", "PSE", "Contraentrega"} <= {p.name for p in t.payments}
    assert t.shipping.carriers == ["Servientrega", "Inter Rapidísimo"]
    assert t.ai.max_output_tokens == 180 and t.ai.temperature == 0.4 and t.ai.timeout_s == 8
    assert t.internal_numbers == ["573000000099"]
    assert t.window_template is not None and t.window_template.name


def test_a_bad_field_is_reported_with_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "shop.yaml"
    bad.write_text(DEMO.read_text(encoding="utf-8").replace('monday: "09:00-19:00"', 'monday: "9 a 7"'))
    with pytest.raises(TenantConfigError) as err:
        load_tenant(bad)
    assert "shop.yaml" in str(err.value) and "hours.monday" in str(err.value)


def test_invalid_yaml_is_reported_with_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("phone_number_id: [unclosed\n")
    with pytest.raises(TenantConfigError, match="broken.yaml"):
        load_tenant(bad)


def test_registry_reloads_a_changed_file_without_restart(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(DEMO.read_text(encoding="utf-8"))
    now = [0.0]
    reg = TenantRegistry(tmp_path, check_interval_s=3.0, clock=lambda: now[0])
    assert reg.get("100000000000001") is not None and reg.get("999") is None
    path.write_text(path.read_text(encoding="utf-8").replace("Calzado y Moda La 80", "Moda Nueva"))
    os.utime(path, (1e9, 1e9))  # a distinct mtime even within the filesystem's timestamp resolution
    assert reg.get("100000000000001").business_name == "Calzado y Moda La 80"  # not re-checked yet
    now[0] = 5.0
    assert reg.get("100000000000001").business_name.startswith("Moda Nueva")


def test_a_broken_edit_keeps_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(DEMO.read_text(encoding="utf-8"))
    reg = TenantRegistry(tmp_path, check_interval_s=0)
    path.write_text("phone_number_id: nope\n")
    os.utime(path, (1e9, 1e9))
    assert reg.get("100000000000001") is not None


def test_open_now_uses_the_tenant_time_zone_and_holidays() -> None:
    t = load_tenant(DEMO)
    # Wednesday 18 Nov 2026 at 20:00 UTC is 15:00 in Bogotá: open.
    assert is_open(t, datetime(2026, 11, 18, 20, 0, tzinfo=UTC))
    # 23:30 UTC is 18:30 in Bogotá (still open), 00:30 UTC the next day is 19:30 (closed on a Wednesday).
    assert is_open(t, datetime(2026, 11, 18, 23, 30, tzinfo=UTC))
    assert not is_open(t, datetime(2026, 11, 19, 0, 30, tzinfo=UTC))
    # Monday 16 Nov 2026 is a public holiday: 10:00-15:00 only, so 16:00 local is closed.
    assert not is_open(t, datetime(2026, 11, 16, 21, 0, tzinfo=UTC))
    # Christmas is closed all day; the next opening is 26 Dec at 09:00.
    xmas = datetime(2026, 12, 25, 17, 0, tzinfo=UTC)
    assert not is_open(t, xmas)
    nxt = next_opening(t, xmas)
    assert nxt is not None and (nxt.month, nxt.day, nxt.hour) == (12, 26, 9)
