"""`wapipe reprocess` on the real broker: the raw log's bodies normalised again give the very events ingress
published (same ids, same bytes), in log order and with their original record times; --dry-run publishes
nothing; a window selects by when the bodies arrived."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from schemas.topics import ACCOUNT, INBOUND, RAW_WEBHOOKS, STATUS
from tests.integration.ingress.conftest import MakeIngress, sample
from tests.support import Record, read_topic
from wapipe_tools.cli.main import app

runner = CliRunner()
TOPICS = (INBOUND, STATUS, ACCOUNT)


async def reprocess(bootstrap: str, prefix: str, *args: str) -> str:
    """The command as a user runs it (in a thread: it runs its own event loop)."""
    result = await asyncio.to_thread(runner.invoke, app, ["reprocess", *args, "--bootstrap", bootstrap],
                                     env={"WAPIPE_TOPIC_PREFIX": prefix, "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def table(output: str) -> dict[str, str]:
    """The summary table's rows, {name: value}."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) == 2 and cells[0]:
            rows[cells[0]] = cells[1]
    return rows


def by_id(records: list[Record]) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for r in records:
        out.setdefault(r.headers["event_id"].decode(), []).append(r)
    return out


@pytest.fixture
async def published(make_ingress: MakeIngress) -> Any:
    """Five bodies through the real ingress: messages, a status batch, a template update, one unreadable part."""
    ing = await make_ingress()
    doc = json.loads(sample("message_text"))
    msgs = doc["entry"][0]["changes"][0]["value"]["messages"]
    msgs[0]["id"] = "wamid.second"
    msgs.append({**msgs[0], "id": "wamid.unreadable", "timestamp": "luego"})
    bodies = [sample("message_text"), sample("batch_multi_entry"), sample("template_status_paused"),
              sample("message_image"), json.dumps(doc).encode()]
    for body in bodies:
        assert (await ing.post_webhook(body)).status_code == 200
    expected = {"wa.inbound.v1": 1 + 4 + 1 + 1, "wa.status.v1": 2, "wa.account.v1": 1}
    originals = {t: read_topic(ing.bootstrap, ing.prefix + t, expect=expected[t]) for t in TOPICS}
    return ing, originals


async def test_reprocess_republishes_the_same_events(published: Any) -> None:
    ing, originals = published
    rows = table(await reprocess(ing.bootstrap, ing.prefix, "--since", "10m"))
    assert rows["published"] == rows["events"] == "10"  # 7 messages, 2 statuses, 1 template update
    assert rows["still unreadable"] == "1"
    for topic, before in originals.items():
        after = read_topic(ing.bootstrap, ing.prefix + topic, expect=2 * len(before))
        new = [r for r in after if "replay.reason" in r.headers]
        assert {r.headers["replay.reason"] for r in new} == {b"reprocess"}
        old = by_id(before)
        for r in new:
            [orig] = old[r.headers["event_id"].decode()]  # every re-published id is an original id
            assert r.value == orig.value and r.key == orig.key  # byte for byte: same content, same key
            assert r.headers["replay.source.topic"] == (ing.prefix + RAW_WEBHOOKS).encode()
        assert set(old) == {r.headers["event_id"].decode() for r in new}
        for key in {r.key for r in before}:  # one conversation's events come back in the order they first came
            ids = [[r.headers["event_id"] for r in sorted(rs, key=lambda r: r.offset) if r.key == key]
                   for rs in (before, new)]
            assert ids[0] == ids[1], key
    # each event keeps its body's arrival time as its record time
    raw_times = {r.timestamp_ms for r in read_topic(ing.bootstrap, ing.prefix + RAW_WEBHOOKS, expect=5)}
    new_inbound = [r for r in read_topic(ing.bootstrap, ing.prefix + INBOUND, expect=14)
                   if "replay.reason" in r.headers]
    assert {r.timestamp_ms for r in new_inbound} <= raw_times


async def test_dry_run_publishes_nothing(published: Any) -> None:
    ing, originals = published
    out = await reprocess(ing.bootstrap, ing.prefix, "--since", "10m", "--dry-run")
    rows = table(out)
    assert "dry run" in out and rows["bodies"] == "5" and rows["events"] == "10" and rows["published"] == "0"
    assert rows["still unreadable"] == "1"
    for topic, before in originals.items():
        assert len(read_topic(ing.bootstrap, ing.prefix + topic, idle=1.5)) == len(before)


async def test_a_window_before_the_bodies_selects_none(published: Any) -> None:
    ing, originals = published
    until = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    rows = table(await reprocess(ing.bootstrap, ing.prefix, "--since", "2h", "--until", until))
    assert rows["bodies"] == rows["published"] == "0"
    for topic, before in originals.items():
        assert len(read_topic(ing.bootstrap, ing.prefix + topic, idle=1.0)) == len(before)
