"""`wapipe classify` also says which consent change a message asks for (guardrails decides that first)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from wapipe_tools.cli.main import app

TENANTS = str(Path(__file__).parents[3] / "config" / "tenants")


def classify(text: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["classify", "--tenant", "demo", "--tenants-dir", TENANTS, text])
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def test_classify_shows_the_consent_change() -> None:
    assert classify("STOP")["consent"] == {"status": "opted_out", "keyword": "stop"}
    assert classify("no más promociones")["consent"] == {"status": "opted_out", "keyword": "no mas promociones"}
    assert classify("quiero volver a recibir mensajes")["consent"]["status"] == "opted_in"  # type: ignore[index]
    assert classify("¿a qué hora abren?")["consent"] is None
