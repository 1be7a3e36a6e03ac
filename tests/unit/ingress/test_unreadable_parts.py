"""Each entry, change, message and status is read on its own: what can be read unambiguously is read, what cannot
is set aside with its raw JSON and the reason, and the rest of the delivery still becomes events."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from schemas.events import Location, MessageReceived, StatusReceived
from schemas.meta.webhook import WebhookPayload
from schemas.topics import INBOUND, STATUS
from services.ingress.body import NotAWebhook, read_payload
from services.ingress.normalize import count_updates, normalize

DATA = Path(__file__).parents[2] / "data" / "meta" / "v25.0"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TENANT = "100000000000001"


def doc(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return loaded


def value(d: dict[str, Any]) -> dict[str, Any]:
    v: dict[str, Any] = d["entry"][0]["changes"][0]["value"]
    return v


def two_messages(bad: dict[str, Any] | None = None) -> dict[str, Any]:
    """The text sample with a second message; `bad` replaces fields of the first one."""
    d = doc("message_text")
    first = value(d)["messages"][0]
    second = {**copy.deepcopy(first), "id": first["id"] + "2", "text": {"body": "¿y en negro?"}}
    first.update(bad or {})
    value(d)["messages"].append(second)
    return d


def run(d: dict[str, Any]) -> Any:
    return normalize(WebhookPayload.model_validate_json(json.dumps(d)), NOW)


@pytest.mark.parametrize("bad", [{"timestamp": "ayer a las 3"}, {"timestamp": 1763740800.5},
                                 {"timestamp": 1763740800000}, {"id": None}, {"from": ["x"]}, {"errors": "none"}])
def test_an_unreadable_message_is_set_aside_and_its_neighbour_published(bad: dict[str, Any]) -> None:
    d = two_messages(bad)
    out = run(d)
    assert [e.event.payload.text for e in out.emits] == ["¿y en negro?"]  # type: ignore[union-attr]
    [part] = out.unreadable
    assert (part.kind, part.path, part.field, part.key) == (
        "message", "entry[0].changes[0].value.messages[0]", "messages", TENANT)
    assert part.raw == value(d)["messages"][0]  # the message as it came, not a re-typed copy
    assert json.loads(part.raw_bytes()) == value(d)["messages"][0]
    assert part.error and "573001234567" not in part.error  # field and reason, never the customer's values


def test_integer_and_integral_float_timestamps_are_read_as_meta_means_them() -> None:
    as_string = run(doc("message_text")).emits[0].event
    for ts in (1763740800, 1763740800.0):
        d = doc("message_text")
        value(d)["messages"][0]["timestamp"] = ts
        e = run(d).emits[0].event
        assert isinstance(e, MessageReceived) and e.payload.timestamp == datetime(2025, 11, 21, 16, tzinfo=UTC)
        assert e == as_string  # the same event, the same id


def test_an_integer_status_timestamp_keeps_the_status_id() -> None:
    d = doc("status_read")
    before = run(d).emits[0].event
    value(d)["statuses"][0]["timestamp"] = int(value(d)["statuses"][0]["timestamp"])
    after = run(d).emits[0].event
    assert isinstance(after, StatusReceived) and after.event_id == before.event_id


def test_numeric_strings_are_read_as_numbers_and_non_numbers_are_not() -> None:
    d = doc("message_location")
    loc = value(d)["messages"][0]["location"]
    loc["latitude"], loc["longitude"] = str(loc["latitude"]), str(loc["longitude"])
    e = run(d).emits[0].event
    assert isinstance(e, MessageReceived) and isinstance(e.payload.location, Location)
    assert e.payload.location.latitude == float(loc["latitude"])
    for lat in ("cerca del parque", "NaN", 4695100):
        loc["latitude"] = lat
        out = run(d)
        assert out.emits == [] and [p.kind for p in out.unreadable] == ["message"]


def test_digit_ids_sent_as_numbers_are_the_same_ids() -> None:
    d = doc("message_text")
    value(d)["messages"][0]["from"] = 573001234567
    value(d)["contacts"][0]["wa_id"] = 573001234567
    value(d)["metadata"]["phone_number_id"] = int(TENANT)
    assert run(d).emits[0].event == run(doc("message_text")).emits[0].event


def test_an_unreadable_status_does_not_take_the_others_with_it() -> None:
    d = doc("batch_multi_entry")
    statuses = [s for e in d["entry"] for c in e["changes"] for s in c["value"].get("statuses", [])]
    statuses[0]["timestamp"] = "soon"
    out = run(d)
    assert [p.kind for p in out.unreadable] == ["status"]
    assert sum(1 for e in out.emits if e.topic == STATUS) == 1 and sum(1 for e in out.emits if e.topic == INBOUND) == 4


def test_unreadable_changes_and_entries_are_set_aside_whole() -> None:
    d = doc("batch_multi_entry")
    good = len(run(d).emits)
    d["entry"].append("not an entry")
    changes = d["entry"][0]["changes"]
    changes.append({"field": "messages", "value": {"metadata": {"display_phone_number": "1"}, "messages": []}})
    out = run(d)
    assert len(out.emits) == good
    kinds = sorted((p.kind, p.path) for p in out.unreadable)
    assert kinds == [("change", f"entry[0].changes[{len(changes) - 1}]"), ("entry", f"entry[{len(d['entry']) - 1}]")]
    assert next(p for p in out.unreadable if p.kind == "entry").raw == "not an entry"


def test_messages_without_metadata_are_set_aside_not_dropped() -> None:
    d = doc("message_text")
    del value(d)["metadata"]
    out = run(d)
    assert out.emits == [] and [(p.kind, p.field) for p in out.unreadable] == [("change", "messages")]
    assert out.unreadable[0].raw["value"]["messages"][0]["id"].startswith("wamid.")


def test_a_part_the_event_refuses_is_set_aside_as_received() -> None:
    d = two_messages({"id": ""})  # parses, but an event needs a message id
    out = run(d)
    assert len(out.emits) == 1 and out.unreadable[0].error_class == "ValidationError"
    assert out.unreadable[0].raw["id"] == "" and out.unreadable[0].raw["from"] == "573001234567"


def test_counting_updates_skips_what_is_unreadable() -> None:
    d = two_messages()
    d["entry"].append(7)
    assert count_updates(WebhookPayload.model_validate(d)) == 2


@pytest.mark.parametrize(("body", "reason"), [
    (b"{not json", "body is not JSON"), (b"[]", "not a WhatsApp webhook payload"),
    (b'{"object":"page","entry":[]}', "not a WhatsApp webhook payload"),
    (b'{"object":"whatsapp_business_account"}', "not a WhatsApp webhook payload"),
    (b'{"object":"whatsapp_business_account","entry":{}}', "not a WhatsApp webhook payload"),
])
def test_only_bodies_that_are_no_webhook_at_all_are_refused(body: bytes, reason: str) -> None:
    with pytest.raises(NotAWebhook, match=reason):
        read_payload(body)


def test_a_webhook_whose_every_part_is_unreadable_is_still_a_webhook() -> None:
    payload = read_payload(b'{"object":"whatsapp_business_account","entry":[1,{"id":"5","changes":[2]}]}')
    out = normalize(payload, NOW)
    assert out.emits == [] and [p.kind for p in out.unreadable] == ["entry", "change"]


def test_a_bug_in_reading_one_part_sets_only_that_part_aside(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.ingress import normalize as module

    real = module.message_event

    def flaky(value: Any, msg: Any, *args: Any) -> Any:
        if msg.id.endswith("2"):
            raise KeyError("a bug")
        return real(value, msg, *args)

    monkeypatch.setattr(module, "message_event", flaky)
    out = run(two_messages())
    assert len(out.emits) == 1 and [(p.kind, p.error_class) for p in out.unreadable] == [("message", "KeyError")]
