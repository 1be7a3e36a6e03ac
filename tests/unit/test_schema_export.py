"""The committed JSON Schemas and AsyncAPI document match the code (run `wapipe schemas export` after a change)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from schemas.events import EVENT_TYPES, decode_event
from schemas.examples import examples
from schemas.export import asyncapi, render

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("rel", sorted(render()))
def test_committed_export_matches_the_code(rel: str) -> None:
    committed = ROOT / rel
    assert committed.exists(), f"{rel} missing: run `wapipe schemas export`"
    assert committed.read_text(encoding="utf-8") == render()[rel], f"{rel} drifted: run `wapipe schemas export`"


def test_every_event_type_has_an_example_that_validates_and_round_trips() -> None:
    assert {e.type for e in examples()} == set(EVENT_TYPES)
    for event in examples():
        doc = json.loads(event.model_dump_json(by_alias=True))
        schema = json.loads(render()[f"schemas/json/{event.type}.v{event.version}.json"])
        jsonschema.validate(doc, schema)
        assert decode_event(json.dumps(doc)) == event


def test_asyncapi_lists_every_topic_and_message() -> None:
    doc = yaml.safe_load(render()["docs/asyncapi.yaml"])
    assert doc["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in doc["channels"].values()}
    assert "wa.inbound.v1" in addresses and "wa.delivery.v1" in addresses
    assert set(doc["components"]["messages"]) == set(EVENT_TYPES)
    assert doc == asyncapi()


def test_a_wrong_event_is_refused_with_the_field_named() -> None:
    bad = json.loads(examples()[0].model_dump_json())
    del bad["payload"]["message_id"]
    with pytest.raises(Exception, match="message_id"):
        decode_event(json.dumps(bad))
