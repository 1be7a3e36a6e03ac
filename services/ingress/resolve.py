"""Give every event of a webhook its customer's conversation key (`identity.py` decides), reading and writing the
links through the identity map (Redis over the store).

Links of ids seen for the first time are written before the events are published: the link that wins decides
the key. Replaced links (identity changes, merges) are written only once the broker confirmed the events
(`commit`), so a webhook Meta retries after a failure plans the same move again, and one whose events were
published already is planned as done (its ids resolve to where the conversation went).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from schemas.envelope import Envelope, conversation_key
from schemas.events import BusinessEchoReceived, ConsentChanged, IdentityMove, MessageReceived, StatusReceived
from services.ingress.identity import Id, Plan, ids_of, plan_change, plan_customer
from services.ingress.metrics import IngressMetrics
from wapipe.runtime.types import Emit
from wapipe.store.port import IdentityLink


class Identities(Protocol):
    """The identity map's port (`wapipe.state.identity.IdentityMap`)."""

    async def get_many(self, tenant: str, ids: Iterable[Id]) -> dict[Id, IdentityLink | None]: ...

    async def link(self, link: IdentityLink) -> IdentityLink: ...

    async def set(self, link: IdentityLink) -> None: ...

    async def of_user(self, tenant: str, user: str) -> list[IdentityLink]: ...


@dataclass
class Resolved:
    emits: list[Emit]
    replaced: list[IdentityLink] = field(default_factory=list)  # written by `commit`, after the publish


def _wanted(event: Envelope) -> list[Id]:
    if isinstance(event, MessageReceived) and event.payload.channel == "whatsapp":
        p = event.payload
        extra = ids_of(p.system.previous) + ids_of(p.system.current) if p.system else []
        return ids_of(p.sender) + extra
    if isinstance(event, StatusReceived):
        return ids_of(event.payload.recipient)
    if isinstance(event, ConsentChanged):  # Meta's user_preferences: keyed like the customer's messages
        return ids_of(event.payload.user)
    if isinstance(event, BusinessEchoReceived):  # the business writing to the customer from the app
        return ids_of(event.payload.to)
    return []


class IdentityResolver:
    def __init__(self, identities: Identities, metrics: IngressMetrics) -> None:
        self.ids, self.metrics = identities, metrics

    async def resolve(self, emits: list[Emit]) -> Resolved:
        wanted: dict[str, list[Id]] = {}
        for emit in emits:
            wanted.setdefault(emit.event.tenant, []).extend(_wanted(emit.event))
        held = {tenant: await self.ids.get_many(tenant, ids) for tenant, ids in wanted.items() if ids}
        out = Resolved([])
        for emit in emits:
            event = emit.event
            if not _wanted(event):
                out.emits.append(emit)
                continue
            plan = await self._plan(event, held[event.tenant])
            self.metrics.identity_links.labels(outcome=plan.outcome).inc()
            for link in plan.set:  # later events of this webhook see them already
                held[event.tenant][(link.kind, link.value)] = link
            out.replaced.extend(plan.set)
            out.emits.append(Emit(emit.topic, _rekeyed(event, plan)))
        return out

    async def commit(self, resolved: Resolved) -> None:
        for link in resolved.replaced:
            await self.ids.set(link)

    async def _plan(self, event: Envelope, held: dict[Id, IdentityLink | None]) -> Plan:
        if isinstance(event, StatusReceived | ConsentChanged | BusinessEchoReceived):  # never merge two keys
            return await self._customer(event.tenant, _wanted(event), held, event.payload.timestamp, merge=False)
        assert isinstance(event, MessageReceived)
        p = event.payload
        plan = await self._customer(event.tenant, ids_of(p.sender), held, p.timestamp, merge=True)
        if p.system is not None:
            plan = plan_change(event.tenant, plan, p.system, await self.ids.of_user(event.tenant, plan.user), held,
                               p.timestamp)
        return plan

    async def _customer(self, tenant: str, ids: list[Id], held: dict[Id, IdentityLink | None], at: datetime, *,
                        merge: bool) -> Plan:
        plan = plan_customer(tenant, ids, held, at, merge=merge)
        if plan.link:
            for link in plan.link:
                held[(link.kind, link.value)] = await self.ids.link(link)
            # Another webhook may have linked one of the ids meanwhile: decide again on what the store kept.
            again = plan_customer(tenant, ids, held, at, merge=merge)
            plan = again if again.outcome != "known" else replace(again, outcome=plan.outcome)
        if plan.relink_users:
            relinked = [replace(link, user=plan.user) for u in plan.relink_users
                        for link in await self.ids.of_user(tenant, u)]
            plan = replace(plan, set=plan.set + tuple(relinked))
        return plan


def _rekeyed(event: Envelope, plan: Plan) -> Envelope:
    conversation = conversation_key(event.tenant, plan.user)
    if isinstance(event, MessageReceived) and plan.move_from is not None:
        move = IdentityMove(from_conversation=conversation_key(event.tenant, plan.move_from),
                            reason=plan.reason or "merge")
        return event.model_copy(update={"conversation": conversation,
                                        "payload": event.payload.model_copy(update={"identity_move": move})})
    return event.model_copy(update={"conversation": conversation})
