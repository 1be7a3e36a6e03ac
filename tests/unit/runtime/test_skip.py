"""Skip: records told apart by their headers alone."""

from __future__ import annotations

from schemas.envelope import derive_id
from schemas.events import Recipient, ReplySent, ReplySentPayload
from wapipe.runtime.producer import event_headers
from wapipe.runtime.skip import Skip
from wapipe.runtime.types import Emit

SKIP = Skip(types=frozenset({"ReplySent"}), unless={"StatusReceived": ("status", frozenset({b"failed"}))})


def test_types_are_skipped_always_and_unless_rules_keep_only_their_values() -> None:
    assert SKIP({"type": b"ReplySent"})
    assert SKIP({"type": b"StatusReceived", "status": b"read"})
    assert not SKIP({"type": b"StatusReceived", "status": b"failed"})
    assert not SKIP({"type": b"ReplyFailed"})


def test_without_the_header_it_rules_on_the_record_is_kept() -> None:
    assert not SKIP({})
    assert not SKIP({"type": b"StatusReceived"})
    assert not Skip()({"type": b"ReplySent"})


def test_the_producer_writes_type_tenant_and_only_a_real_status() -> None:
    event = ReplySent(event_id=derive_id("r"), tenant="100000000000001", conversation="100000000000001:57300",
                      correlation_id="wamid.A", payload=ReplySentPayload(reply_id="r", to=Recipient(wa_id="57300"),
                                                                         kind="text"))
    headers = dict(event_headers(Emit("wa.delivery.v1", event)))
    assert headers["type"] == b"ReplySent" and headers["tenant"] == b"100000000000001"
    assert "status" not in headers
