"""Edits, deletions and identity moves of a conversation, run against every reachable backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.store.conftest import StoreFactory
from tests.support import unique
from wapipe.store import HandoffEntry, Store, Turn

NOW = datetime.now(UTC).replace(microsecond=250000)


def customer(tenant: str, user: str, i: int, wamid: str, text: str) -> Turn:
    return Turn(tenant, user, NOW + timedelta(seconds=i), "customer", text, (wamid,))


async def test_an_edit_replaces_the_text_and_the_newest_edit_wins(store: Store) -> None:
    tenant, user, wamid = unique("pn"), unique("u"), unique("wamid.")
    await store.append_turn(customer(tenant, user, 0, wamid, "talla 40 en negro"))
    await store.append_turn(Turn(tenant, user, NOW + timedelta(seconds=1), "assistant", "¡Sí la tenemos!",
                                 (wamid,)))  # an assistant turn carrying the id is never revised
    await store.revise_turn(tenant, user, wamid, "talla 41 en blanco", NOW + timedelta(seconds=30))
    await store.revise_turn(tenant, user, wamid, "talla 39", NOW + timedelta(seconds=10))  # older, arrives late

    first, reply = await store.last_turns(tenant, user)
    assert (first.text, first.edited, first.deleted) == ("talla 41 en blanco", True, False)
    assert (reply.text, reply.edited) == ("¡Sí la tenemos!", False)


async def test_a_deletion_removes_the_text_for_good(store: Store) -> None:
    tenant, user, wamid, other = unique("pn"), unique("u"), unique("wamid."), unique("wamid.")
    await store.append_turn(customer(tenant, user, 0, wamid, "mi cédula es 1020304050"))
    await store.append_turn(customer(tenant, user, 1, other, "y la dirección es calle 80"))
    await store.revise_turn(tenant, user, wamid, None, NOW + timedelta(seconds=5))
    await store.revise_turn(tenant, user, wamid, "otra cosa", NOW + timedelta(seconds=9))

    deleted, kept = await store.last_turns(tenant, user)
    assert (deleted.text, deleted.deleted, deleted.message_ids) == ("", True, (wamid,))
    assert (kept.text, kept.deleted) == ("y la dirección es calle 80", False)


async def test_a_person_of_the_business_edits_and_deletes_their_own_turns_too(store: Store) -> None:
    """Echoes from the WhatsApp Business app: its people's edits and deletions apply to their `human` turns."""
    tenant, user, edited, gone = unique("pn"), unique("u"), unique("wamid."), unique("wamid.")
    await store.append_turn(Turn(tenant, user, NOW, "human", "te separo las botas cafés", (edited,)))
    await store.append_turn(Turn(tenant, user, NOW + timedelta(seconds=1), "human", "llamo al 3001234567", (gone,)))
    await store.revise_turn(tenant, user, edited, "te separo las botas negras", NOW + timedelta(seconds=5))
    await store.revise_turn(tenant, user, gone, None, NOW + timedelta(seconds=6))

    first, second = await store.last_turns(tenant, user)
    assert (first.role, first.text, first.edited) == ("human", "te separo las botas negras", True)
    assert (second.text, second.deleted) == ("", True)


async def test_a_revision_written_before_its_turn_still_applies(store: Store) -> None:
    tenant, user, wamid = unique("pn"), unique("u"), unique("wamid.")
    await store.revise_turn(tenant, user, wamid, None, NOW)
    await store.append_turn(customer(tenant, user, 0, wamid, "borrado"))
    [t] = await store.last_turns(tenant, user)
    assert t.deleted and t.text == ""


async def test_a_move_takes_turns_revisions_and_audit_to_the_new_user(store: Store) -> None:
    tenant, old, new, wamid = unique("pn"), unique("u"), unique("u"), unique("wamid.")
    turns = [customer(tenant, old, 0, wamid, "hola"), Turn(tenant, old, NOW + timedelta(seconds=1), "assistant",
                                                           "¡Hola! ¿En qué te ayudo?", ("wamid.out1",))]
    for t in turns:
        await store.append_turn(t)
    await store.revise_turn(tenant, old, wamid, "hola, buenas", NOW + timedelta(seconds=2))
    audit = HandoffEntry(tenant, old, NOW, "requested", "guardrails", "humano")
    await store.append_handoff(audit)
    await store.append_turn(Turn(tenant, new, NOW + timedelta(seconds=3), "customer", "ya con el número nuevo",
                                 ("wamid.new",)))

    assert await store.move_conversation(tenant, old, new) == 4
    assert await store.move_conversation(tenant, old, new) == 0  # again: nothing left to move

    assert await store.last_turns(tenant, old) == [] and await store.handoffs(tenant, old) == []
    moved = await store.last_turns(tenant, new)
    assert [(t.role, t.text, t.user) for t in moved] == [
        ("customer", "hola, buenas", new), ("assistant", "¡Hola! ¿En qué te ayudo?", new),
        ("customer", "ya con el número nuevo", new)]
    assert moved[0].edited and moved[0].ts == turns[0].ts and moved[0].message_ids == (wamid,)
    assert [(h.user, h.action, h.reason) for h in await store.handoffs(tenant, new)] == [(new, "requested", "humano")]
    assert await store.move_conversation(tenant, new, new) == 0


async def test_moved_records_keep_their_expiry(make_store: StoreFactory) -> None:
    if make_store.backend != "sqlite":  # type: ignore[attr-defined]
        pytest.skip("drives the store's clock; Cassandra's TTLs follow the server's")
    now = [1_000_000.0]
    store: Store = await make_store(retention=timedelta(hours=1), clock=lambda: now[0])
    tenant, old, new = unique("pn"), unique("u"), unique("u")
    await store.append_turn(customer(tenant, old, 0, unique("wamid."), "hola"))
    now[0] += 50 * 60
    await store.move_conversation(tenant, old, new)
    assert len(await store.last_turns(tenant, new)) == 1
    now[0] += 11 * 60  # an hour after the original write, ten minutes after the move
    assert await store.last_turns(tenant, new) == []
