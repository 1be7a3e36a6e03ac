"""Every event type survives the real broker and still validates against its exported JSON Schema."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import jsonschema

from schemas.examples import examples
from tests.support import read_topic
from wapipe.runtime import Emit, Producer

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas" / "json"


def test_every_event_type_round_trips_through_the_broker(kafka_bootstrap: str, topic_prefix: str) -> None:
    sent = examples()
    producer = Producer(kafka_bootstrap, topic_prefix=topic_prefix)
    try:
        asyncio.run(producer.publish_all(Emit("wa.inbound.v1", e) for e in sent))
    finally:
        producer.close()

    records = read_topic(kafka_bootstrap, topic_prefix + "wa.inbound.v1", expect=len(sent))

    assert len(records) == len(sent)
    by_id = {r.event().event_id: r for r in records}
    for original in sent:
        record = by_id[original.event_id]
        assert record.event() == original
        assert record.key == original.conversation
        assert record.headers["type"] == original.type.encode()
        schema = json.loads((SCHEMA_DIR / f"{original.type}.v{original.version}.json").read_text())
        jsonschema.validate(json.loads(record.value), schema)
