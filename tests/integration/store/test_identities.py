"""The IdentityStore contract (wa_id <-> user_id mapping), run against every reachable backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.support import unique
from wapipe.store import IdentityLink, Store

NOW = datetime.now(UTC).replace(microsecond=654321)


def link(tenant: str, kind: str, value: str, user: str, at: datetime = NOW,
         retired_at: datetime | None = None) -> IdentityLink:
    return IdentityLink(tenant, kind, value, user, at, retired_at)  # type: ignore[arg-type]


async def test_the_first_link_of_an_id_wins(store: Store) -> None:
    tenant, phone, bsuid = unique("pn"), unique("57"), unique("CO.")
    first = link(tenant, "wa_id", phone, phone)
    assert await store.link_identity(first) == first
    later = link(tenant, "wa_id", phone, bsuid, NOW + timedelta(seconds=5))
    assert await store.link_identity(later) == first  # the key never changes once assigned
    assert await store.identity(tenant, "wa_id", phone) == first
    assert await store.identity(tenant, "user_id", bsuid) is None
    assert await store.identity(unique("pn"), "wa_id", phone) is None  # per tenant


async def test_racing_writers_agree_on_one_link(store: Store) -> None:
    tenant, phone = unique("pn"), unique("57")
    candidates = [link(tenant, "wa_id", phone, f"user-{i}") for i in range(8)]
    held = await asyncio.gather(*(store.link_identity(c) for c in candidates))
    assert len({h.user for h in held}) == 1
    assert await store.identity(tenant, "wa_id", phone) == held[0]


async def test_a_customers_ids_are_listed_by_their_user(store: Store) -> None:
    tenant, phone, bsuid = unique("pn"), unique("57"), unique("CO.")
    a = link(tenant, "user_id", bsuid, bsuid)
    b = link(tenant, "wa_id", phone, bsuid, NOW + timedelta(seconds=1))
    await store.link_identity(b)
    await store.link_identity(a)
    await store.link_identity(link(tenant, "wa_id", unique("57"), unique("other")))
    assert await store.identities_of(tenant, bsuid) == [a, b]
    assert await store.identities_of(tenant, unique("nobody")) == []


async def test_set_replaces_a_link_and_moves_it_to_the_new_user(store: Store) -> None:
    tenant, old_phone, old_user, new_user = unique("pn"), unique("57"), unique("CO."), unique("CO.")
    await store.link_identity(link(tenant, "wa_id", old_phone, old_user))
    retired = link(tenant, "wa_id", old_phone, new_user, NOW, retired_at=NOW + timedelta(minutes=1))
    await store.set_identity(retired)
    assert await store.identity(tenant, "wa_id", old_phone) == retired
    assert await store.identities_of(tenant, old_user) == []
    assert await store.identities_of(tenant, new_user) == [retired]
    fresh = link(tenant, "user_id", unique("CO."), new_user)
    await store.set_identity(fresh)  # also for an id never linked before
    assert await store.identity(tenant, "user_id", fresh.value) == fresh


async def test_a_retired_id_can_be_linked_again_after_it_was_retired(store: Store) -> None:
    """A recycled phone number is a new person: their first message links it anew; what the old owner sent
    before the retirement still resolves to where their conversation moved."""
    tenant, phone, moved_to = unique("pn"), unique("57"), unique("CO.")
    retired_at = NOW + timedelta(minutes=1)
    retired = link(tenant, "wa_id", phone, moved_to, NOW, retired_at=retired_at)
    await store.set_identity(retired)
    assert retired.holds_at(NOW) and retired.holds_at(retired_at)
    assert not retired.holds_at(retired_at + timedelta(microseconds=1))

    early = link(tenant, "wa_id", phone, phone, retired_at)
    assert await store.link_identity(early) == retired  # still the old owner's at that time
    newcomer = link(tenant, "wa_id", phone, phone, retired_at + timedelta(days=90))
    assert await store.link_identity(newcomer) == newcomer
    assert await store.identity(tenant, "wa_id", phone) == newcomer
    assert await store.identities_of(tenant, moved_to) == []
    assert await store.identities_of(tenant, phone) == [newcomer]
