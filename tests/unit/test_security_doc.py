"""docs/security.md tells how long each topic keeps a customer's events after erasure: held to the registry."""

from __future__ import annotations

import re
from pathlib import Path

from schemas.topics import DAY_MS, DLQ_RETENTION_MS, TOPICS

DOC = (Path(__file__).parents[2] / "docs" / "security.md").read_text(encoding="utf-8")
ROW = re.compile(r"^\s*\| (`[^|]+`|every `<topic>.dlq`) \| (\d+) days? \|", re.M)


def test_the_retention_table_lists_every_topic_with_its_registry_retention() -> None:
    rows = {("dlq" if name.startswith("every") else name.strip("`")): int(days) for name, days in ROW.findall(DOC)}
    expected = {t.name: t.retention_ms // DAY_MS for t in TOPICS} | {"dlq": DLQ_RETENTION_MS // DAY_MS}
    assert rows == expected
    longest = max(expected.values())
    assert f"The longest is {longest} days" in DOC
