"""Which conversation a customer's message or status belongs to: one key per customer per tenant, for ever.

Pure decisions over the links already known (`wapipe.state.identity` holds them); `resolve.py` reads and writes.

- The conversation key's user is the first id ever seen for the customer (their business-scoped user id when
  that first webhook carried one, else their wa_id). Every later webhook carrying either id finds it through the
  links, and every webhook carrying both links the one not yet known: a customer whose webhooks alternate between
  wa_id only and wa_id + user_id stays on one key.
- Two ids found linked to two different users (each was first seen alone) are one customer: the older link wins,
  the other user's ids are relinked to it and that conversation's state moves over (`IdentityMove`, reason
  `merge`). Statuses never merge; they go to the older link's conversation.
- A `system` message that replaces ids (a number change, a new BSUID) retires the old ids at the message's time
  (what they sent before still belongs to this customer; after it, an id is nobody's: a recycled number is a new
  person) and links the new ones. The key stays when its id is not among the replaced ones; otherwise it becomes
  the new ids' (user_id first) and the conversation's state moves there.

Times are Meta's (the event's `timestamp`), not arrival times, so re-running normalisation over the same
webhooks (a replay) lands on the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from schemas.events import Recipient, SystemChange
from wapipe.store.port import IdentityLink, IdKind

Id = tuple[IdKind, str]


def ids_of(r: Recipient) -> list[Id]:
    """The ids a recipient carries, the preferred key first (business-scoped user id, then wa_id)."""
    out: list[Id] = []
    if r.user_id:
        out.append(("user_id", r.user_id))
    if r.wa_id:
        out.append(("wa_id", r.wa_id))
    return out


@dataclass(frozen=True)
class Plan:
    user: str  # the conversation key's user
    link: tuple[IdentityLink, ...] = ()  # links to add unless the id holds one (first wins)
    set: tuple[IdentityLink, ...] = ()  # links to replace, written once the events are confirmed
    move_from: str | None = None  # the user whose conversation state moves to `user`
    reason: str | None = None
    outcome: str = "known"  # known, new, merged, moved, conflict (a metric label)
    relink_users: tuple[str, ...] = field(default=())  # users whose every id must follow to `user`


def _holding(ids: list[Id], held: dict[Id, IdentityLink | None], at: datetime) -> dict[Id, IdentityLink]:
    return {i: link for i in ids if (link := held.get(i)) is not None and link.holds_at(at)}


def plan_customer(tenant: str, ids: list[Id], held: dict[Id, IdentityLink | None], at: datetime, *,
                  merge: bool) -> Plan:
    """The key of a customer carrying `ids` at `at`; `merge` joins two keys found to be one customer."""
    holding = _holding(ids, held, at)
    if not holding:
        retired = [link for i in ids if (link := held.get(i)) is not None]
        if retired and not merge:  # a late status for an id its owner gave up: where their conversation went
            return Plan(retired[0].user)
        user = ids[0][1]
        return Plan(user, tuple(IdentityLink(tenant, k, v, user, at) for k, v in ids), outcome="new")
    users = {link.user for link in holding.values()}
    if len(users) == 1:
        user = users.pop()
        new = tuple(IdentityLink(tenant, k, v, user, at) for k, v in ids if (k, v) not in holding)
        return Plan(user, new, outcome="new" if new else "known")
    survivor = min(holding.values(), key=lambda link: (link.since, link.kind != "user_id", link.value))
    if not merge:
        return Plan(survivor.user, outcome="conflict")
    loser = next(link.user for link in holding.values() if link.user != survivor.user)
    return Plan(survivor.user, move_from=loser, reason="merge", outcome="merged", relink_users=(loser,))


def plan_change(tenant: str, before: Plan, change: SystemChange, of_user: list[IdentityLink],
                held: dict[Id, IdentityLink | None], at: datetime) -> Plan:
    """`before` is the sender's key before the change; `of_user` the links of that key's user."""
    old_user = before.user
    replaced, new = ids_of(change.previous), ids_of(change.current)
    if not replaced and not new:  # customer_identity_changed: a new security key, the same ids
        return before
    gone = set(replaced)
    kept = [link for link in of_user if (link.kind, link.value) not in gone and (link.kind, link.value) not in new
            and link.retired_at is None]
    if old_user not in {v for _, v in replaced}:
        user = old_user
    else:
        candidates = new + [(link.kind, link.value) for link in kept]
        user = next((v for k, v in candidates if k == "user_id"), None) or \
            next((v for _, v in candidates), old_user)
    sets = [IdentityLink(tenant, k, v, user, old.since if (old := held.get((k, v))) else at, retired_at=at)
            for k, v in replaced]
    sets += [IdentityLink(tenant, k, v, user, at) for k, v in new]
    if user != old_user:
        sets += [replace(link, user=user) for link in kept]
    moved = user != old_user
    return Plan(user, before.link, tuple(sets), old_user if moved else None, change.type if moved else None,
                "moved" if moved else before.outcome)
