"""Large deliveries: updates are counted for the cap, and each message finds its contact without a scan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, SupportsIndex

from schemas.events import MessageReceived
from schemas.meta import webhook as wh
from services.ingress.normalize import ContactIndex, count_updates, normalize
from tests.unit.ingress.batches import batch, customer

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


class CountingList(list[Any]):
    """A list that counts every element handed out, by iteration or by index."""

    reads = 0

    def __iter__(self) -> Iterator[Any]:
        for item in super().__iter__():
            self.reads += 1
            yield item

    def __getitem__(self, i: SupportsIndex | slice) -> Any:  # type: ignore[override]
        self.reads += 1
        return super().__getitem__(i)


def test_updates_are_messages_plus_statuses_across_entries() -> None:
    doc = batch(messages=3, statuses=2)
    doc["entry"].append(batch(messages=1, statuses=4)["entry"][0])
    assert count_updates(wh.WebhookPayload.model_validate(doc)) == 10
    assert count_updates(wh.WebhookPayload.model_validate(batch(0))) == 0


def test_thousand_messages_read_each_contact_once_and_find_their_own() -> None:
    n = 1000
    payload = wh.WebhookPayload.model_validate(batch(messages=n))
    value = payload.entry[0].changes[0].value
    counting = CountingList(value.contacts)
    value.contacts = counting
    out = normalize(payload, NOW)
    events = [e.event for e in out.emits]
    assert len(events) == n and all(isinstance(e, MessageReceived) for e in events)
    for i, e in enumerate(events):
        assert isinstance(e, MessageReceived)
        assert e.payload.profile_name == f"Cliente {i}" and e.payload.sender.wa_id == customer(i)[0]
    # One pass to index the change's contacts, then a constant number of reads per message; a scan per
    # message would read about n * n / 2 = 500,000 elements here.
    assert counting.reads <= n + 2 * n


def _msg(from_: str | None = None, user_id: str | None = None) -> wh.Message:
    doc = batch(1)
    msg = doc["entry"][0]["changes"][0]["value"]["messages"][0]
    del msg["from"], msg["from_user_id"]
    msg.update({k: v for k, v in {"from": from_, "from_user_id": user_id}.items() if v})
    return wh.WebhookPayload.model_validate(doc).entry[0].changes[0].value.messages[0]


def test_index_answers_like_the_list_scan() -> None:
    a = wh.Contact(wa_id="111", user_id="CO.A")
    b = wh.Contact(wa_id="222", user_id="CO.B")
    c = wh.Contact(wa_id="333")
    index = ContactIndex([a, b, c])
    assert index.find(_msg("222")) is b
    assert index.find(_msg(user_id="CO.A")) is a
    assert index.find(_msg("222", "CO.A")) is a  # the first contact matching either id, as the scan did
    assert index.find(_msg("999")) is None  # several contacts, none matching: nobody
    assert ContactIndex([c]).find(_msg("999")) is c  # a single contact is the sender's
    assert ContactIndex([]).find(_msg("111")) is None
