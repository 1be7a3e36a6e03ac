"""What each event changes in the console's inbox, and the bot's text read back from the store for a ReplySent."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.envelope import derive_id
from schemas.events import (
    BusinessEchoReceived,
    BusinessEchoReceivedPayload,
    Recipient,
    ReplySent,
    ReplySentPayload,
)
from services.console.inbox import Inbox, InboxChange, change_of
from tests.fakes.store import MemoryStore
from tests.unit.notifier.events import CUSTOMER, TENANT, conv, handoff, message, reply_failed
from wapipe.runtime.types import RecordMeta
from wapipe.store import Turn

META = RecordMeta(topic="wa.delivery.v1", partition=0, offset=1, key=None, timestamp_ms=None)


def sent(audience: str = "customer") -> ReplySent:
    return ReplySent(event_id=derive_id("r1", "sender"), tenant=TENANT, conversation=conv(), correlation_id="w1",
                     payload=ReplySentPayload(reply_id="r1", audience=audience,  # type: ignore[arg-type]
                                              to=Recipient(wa_id=CUSTOMER),
                                              kind="text", wamids=["wamid.B1"]))


def test_customer_messages_handoffs_sends_and_failures_change_the_inbox() -> None:
    m = change_of(message("wamid.M1", "¿tienen botas?"))
    assert m is not None and (m.kind, m.role, m.text, m.message_id) == ("message", "customer", "¿tienen botas?",
                                                                         "wamid.M1")
    photo = change_of(message("wamid.M2", None, message_type="image"))
    assert photo is not None and photo.text == "[image]"
    h = change_of(handoff())
    assert h is not None and (h.kind, h.text) == ("handoff", "humano")
    assert (change_of(sent()) or InboxChange("", "", "message", 0)).kind == "reply"
    failed = change_of(reply_failed())
    assert failed is not None and failed.kind == "failed"


def echo(wamid: str, text: str | None, message_type: str = "text") -> BusinessEchoReceived:
    now = datetime.now(UTC)
    return BusinessEchoReceived(event_id=derive_id(wamid, "ingress"), tenant=TENANT, conversation=conv(),
                                correlation_id=wamid, payload=BusinessEchoReceivedPayload(
                                    message_id=wamid, to=Recipient(wa_id=CUSTOMER), timestamp=now,
                                    message_type=message_type, text=text))


def test_an_echo_from_the_business_app_is_a_human_line_by_the_app() -> None:
    e = change_of(echo("wamid.E1", "Te la aparto"))
    assert e is not None
    assert (e.kind, e.role, e.text, e.who, e.message_id) == ("echo", "human", "Te la aparto",
                                                             "WhatsApp Business app", "wamid.E1")
    assert e.profile_name is None  # the customer's name is theirs, never the app's
    assert (change_of(echo("wamid.E2", None, "image")) or e).text == "[image]"
    assert change_of(echo("wamid.E3", "x", "revoke")) is None


def test_what_is_not_a_line_of_the_conversation_changes_nothing() -> None:
    assert change_of(sent("internal")) is None  # a notification to the shop's staff
    assert change_of(reply_failed(audience="internal")) is None
    for kind in ("system", "edit", "revoke"):
        assert change_of(message("wamid.X", "x", message_type=kind)) is None


class Port:
    def __init__(self) -> None:
        self.applied: list[InboxChange] = []
        self.announced: list[InboxChange] = []

    async def apply(self, change: InboxChange) -> None:
        self.applied.append(change)

    async def announce(self, change: InboxChange) -> None:
        self.announced.append(change)


async def test_a_sent_reply_is_shown_with_the_text_the_sender_stored() -> None:
    store = MemoryStore([Turn(TENANT, CUSTOMER, datetime.now(UTC), "assistant", "Abrimos a las 9.", ("wamid.B1",))])
    port = Port()
    assert await Inbox(port, store).handle(sent(), META) == []
    [change] = port.applied
    assert (change.role, change.text) == ("assistant", "Abrimos a las 9.") and port.announced == []
    assert await Inbox(port, store).handle(sent("internal"), META) == [] and len(port.applied) == 1
