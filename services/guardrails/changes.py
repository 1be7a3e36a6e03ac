"""What changes after the customer wrote: their identity (a `system` message or a merge, carried as
`IdentityMove`), an edit of an earlier message, a deletion (revoke). Decisions over the guardrails ports; the
handler ends the journeys these do not continue.

- An identity move runs before anything else, so the message is decided on the moved state.
- A revoke is never answered: the store marks the message deleted (its text removed), and whatever answers it (or
  its edits) and has not begun to go out is cancelled (`wapipe.state.answers`; the sender and the AI stage check
  it) and taken off the AI stage's burst list.
- An edit of a message whose answer has not begun to go out cancels that answer and is decided as a new message
  with the new text (so it is answered once, with the new text); an edit of an answered message is recorded
  (the store keeps the new text) and not answered again.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.envelope import parse_conversation_key
from schemas.events import MessageReceived
from services.guardrails.metrics import GuardrailsMetrics
from services.guardrails.ports import Answers, Moves, Pending, TraceSink


@dataclass(frozen=True)
class ChangePorts:
    answers: Answers
    moves: Moves
    pending: Pending
    store: TraceSink


async def move_identity(p: ChangePorts, m: GuardrailsMetrics, ev: MessageReceived) -> None:
    move = ev.payload.identity_move
    assert move is not None
    moved = await p.moves.move(move.from_conversation, ev.conversation)
    ev.trace.step(f"identity:moved:{move.reason}")
    ev.trace.attrs["moved_records"] = moved
    m.identity_moves.labels(ev.tenant, move.reason).inc()


async def revoke(p: ChangePorts, m: GuardrailsMetrics, ev: MessageReceived) -> None:
    msg, tr = ev.payload, ev.trace
    original = msg.original_message_id
    if original is None:
        tr.step("revoke:no_original")
        return
    user = parse_conversation_key(ev.conversation).user
    await p.store.revise_turn(ev.tenant, user, original, None, msg.timestamp)
    for message_id in (original, *await p.answers.edits_of(ev.tenant, original)):
        state = await p.answers.cancel(ev.tenant, message_id, "revoked")
        await p.pending.cancel(ev.conversation, message_id)
        tr.step(f"revoke:{state}")
        m.cancels.labels(ev.tenant, "revoked", state).inc()
    tr.attrs["original_message_id"] = original


async def edit(p: ChangePorts, m: GuardrailsMetrics, ev: MessageReceived) -> bool:
    """True when the edit is to be decided as a new message; False when it is only recorded."""
    msg, tr = ev.payload, ev.trace
    original = msg.original_message_id
    if original is None:
        tr.step("edit:no_original")
        return True
    tr.attrs["original_message_id"] = original
    user = parse_conversation_key(ev.conversation).user
    await p.store.revise_turn(ev.tenant, user, original, msg.text or "", msg.timestamp)
    state = await p.answers.cancel(ev.tenant, original, "edited")
    m.cancels.labels(ev.tenant, "edited", state).inc()
    if state == "answered":
        tr.step("edit:already_answered")
        return False
    await p.pending.cancel(ev.conversation, original)
    await p.answers.record_edit(ev.tenant, original, msg.message_id)
    tr.step("edit:replaces_unanswered")
    return True
