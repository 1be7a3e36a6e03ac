"""`wapipe reprocess` on the real broker: the raw log's bodies normalised again give the very events ingress
published (same ids, same bytes), in log order and with their original record times; --dry-run publishes
nothing; a window selects by when the bodies arrived."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from schemas.topics import ACCOUNT, INBOUND, RAW_WEBHOOKS, STATUS
from tests.integration.ingress.conftest import MakeIngress, sample
from tests.support import Record, read_topic
from wapipe_tools.cli.main import app

runner = CliRunner()
TOPICS = (INBOUND, STATUS, ACCOUNT)


async def reprocess(ing: Any, *args: str) -> str:
    """The command as a user runs it (in a thread: it runs its own event loop), on the ingress's broker, topics,
    Redis and identity store."""
    env = {"WAPIPE_TOPIC_PREFIX": ing.prefix, "WAPIPE_REDIS_URL": ing.settings.redis_url,
           "WAPIPE_STORE_URL": ing.store_url, "COLUMNS": "200"}
    result = await asyncio.to_thread(runner.invoke, app, ["reprocess", *args, "--bootstrap", ing.bootstrap], env=env)
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
async def published(make_ingress: MakeIngress, tmp_path: Path) -> Any:
    """Five bodies through the real ingress: messages, a status batch, a template update, one unreadable part."""
    ing = await make_ingress()
    ing.store_url = f"sqlite:///{tmp_path}/ingress.db"  # the identity map's store the fixture made
    doc = json.loads(sample("message_text"))
    msgs = doc["entry"][0]["changes"][0]["value"]["messages"]
    msgs[0]["id"] = "wamid.second"
    msgs.append({**msgs[0], "id": "wamid.unreadable", "timestamp": "luego"})
    # The wa_id-only message comes from the text's sender: the identity map keys it under the sender's BSUID.
    bodies = [sample("message_text"), sample("batch_multi_entry"), sample("template_status_paused"),
              sample("message_image"), json.dumps(doc).encode(), sample("message_text_wa_id_only")]
    for body in bodies:
        assert (await ing.post_webhook(body)).status_code == 200
    expected = {"wa.inbound.v1": 1 + 4 + 1 + 1 + 1, "wa.status.v1": 2, "wa.account.v1": 1}
    originals = {t: read_topic(ing.bootstrap, ing.prefix + t, expect=expected[t]) for t in TOPICS}
    [wa_only] = [r for r in originals[INBOUND] if r.event().correlation_id.endswith("QjU2QTAc")]
    assert wa_only.key == "100000000000001:CO.1297408873021955"  # not the wa_id's own key
    return ing, originals


async def test_reprocess_republishes_the_same_events(published: Any) -> None:
    ing, originals = published
    rows = table(await reprocess(ing, "--since", "10m"))
    assert rows["published"] == rows["events"] == "11"  # 8 messages, 2 statuses, 1 template update
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
    raw_times = {r.timestamp_ms for r in read_topic(ing.bootstrap, ing.prefix + RAW_WEBHOOKS, expect=6)}
    new_inbound = [r for r in read_topic(ing.bootstrap, ing.prefix + INBOUND, expect=16)
                   if "replay.reason" in r.headers]
    assert {r.timestamp_ms for r in new_inbound} <= raw_times


async def test_dry_run_publishes_nothing(published: Any) -> None:
    ing, originals = published
    out = await reprocess(ing, "--since", "10m", "--dry-run")
    rows = table(out)
    assert "dry run" in out and rows["bodies"] == "6" and rows["events"] == "11" and rows["published"] == "0"
    assert rows["still unreadable"] == "1"
    for topic, before in originals.items():
        assert len(read_topic(ing.bootstrap, ing.prefix + topic, idle=1.5)) == len(before)


async def test_a_window_before_the_bodies_selects_none(published: Any) -> None:
    ing, originals = published
    until = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    rows = table(await reprocess(ing, "--since", "2h", "--until", until))
    assert rows["bodies"] == rows["published"] == "0"
    for topic, before in originals.items():
        assert len(read_topic(ing.bootstrap, ing.prefix + topic, idle=1.0)) == len(before)
