"""The notifier skips, by record header and without decoding, exactly what its handler does nothing with."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

import pytest
from prometheus_client import CollectorRegistry

from schemas.envelope import derive_id
from schemas.events import Recipient, ReplySent, ReplySentPayload, StatusReceived, StatusReceivedPayload
from schemas.topics import DELIVERY, STATUS
from services.notifier.app import SKIP
from services.notifier.handlers import Notifier
from services.notifier.metrics import NotifierMetrics
from tests.fakes.store import MemoryStore
from tests.unit.notifier.events import CUSTOMER, INTERNAL, TENANT, conv, handoff, message, reply_failed, status_failed
from tests.unit.notifier.fakes import FakeState, FakeTenants, demo_tenant
from wapipe.runtime.producer import event_headers
from wapipe.runtime.types import Emit, RecordMeta

META = RecordMeta(topic="t", partition=0, offset=0, key=None, timestamp_ms=None)
STATUSES = get_args(StatusReceivedPayload.model_fields["status"].annotation)


def _notifier() -> Notifier:
    return Notifier(state=FakeState(), store=MemoryStore(()), tenants=FakeTenants(demo_tenant(
        internal_numbers=[INTERNAL])), metrics=NotifierMetrics(CollectorRegistry()))


def _status(status: str) -> StatusReceived:
    return StatusReceived(
        event_id=derive_id("wamid.S", status), tenant=TENANT, conversation=conv(), correlation_id="wamid.S",
        payload=StatusReceivedPayload(message_id="wamid.S", status=status, recipient=Recipient(wa_id=CUSTOMER),
                                      timestamp=datetime.now(UTC), biz_opaque_callback_data="r1:0"))


def _sent() -> ReplySent:
    return ReplySent(event_id=derive_id("r1", "sent"), tenant=TENANT, conversation=conv(), correlation_id="wamid.A",
                     payload=ReplySentPayload(reply_id="r1", to=Recipient(wa_id=CUSTOMER), kind="text",
                                              wamids=["wamid.OUT"]))


def _headers(topic: str, event: object) -> dict[str, bytes]:
    return dict(event_headers(Emit(topic, event)))  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "failed"])
async def test_a_status_that_is_not_a_failure_is_skipped_and_the_handler_would_do_nothing(status: str) -> None:
    event = _status(status)
    assert SKIP(_headers(STATUS, event))
    assert await _notifier().handle(event, META) == []


async def test_a_sent_reply_is_skipped_and_the_handler_would_do_nothing() -> None:
    assert SKIP(_headers(DELIVERY, _sent()))
    assert await _notifier().handle(_sent(), META) == []


async def test_failures_handoffs_and_messages_are_decoded_and_handled() -> None:
    failed = status_failed()
    assert not SKIP(_headers(STATUS, failed))
    assert await _notifier().handle(failed, META)  # the internal numbers are alerted
    for event in (reply_failed(), handoff(), message("wamid.M1")):
        assert not SKIP(_headers("any", event))


def test_a_record_without_headers_is_never_skipped() -> None:
    assert not SKIP({})
    assert not SKIP({"type": b"StatusReceived"})  # an older producer: no status header, decoded as before
