"""The sender's decision for one ReplyRequested, with no I/O: what goes to the Graph API, in which order.

    plan = plan_reply(event.payload, policies.policy(tenant), window_open, opted_out)

Inputs are the request, the tenant's policy, the 24 h window (None when the reply does not depend on it, see
`needs_window`) and whether the customer opted out (`consent.py`; None: they did not). The result is one of:
- `ToApi`: an `/api/chat` reply, handed back to the waiting request instead of the Graph API;
- `Receipt`: a bare read receipt / typing indicator (kind read or typing): best effort, no delivery event;
- `Refuse`: nothing can be sent (an unsendable body, the window is closed and no template is configured, a
  business-initiated message to a customer who opted out: `reason` "opted_out", or the template Meta has paused,
  disabled or rejected: `blocked` says which templates Meta would refuse now);
- `Deliver`: the message parts in order, each under the send id it is claimed by, with the mark-as-read (+ typing)
  body to send first, and the template to fall back to if Meta answers 131047 (window closed) to a free-form part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from schemas.events import ReplyRequestedPayload, TemplateRef
from services.sender.bodies import FREE_FORM, message_bodies, read_body, template_body
from services.sender.consent import OPTED_OUT, OptedOut, applies, refusal
from services.sender.graph import WINDOW_CLOSED
from services.sender.ports import SendPolicy
from wapipe.state.templates import TemplateState, template_key

STEP_WINDOW_CLOSED = "sender:window_closed_template"
UNSENDABLE = "unsendable"  # the ReplyFailed's reason for a body Meta would refuse (a limit, a missing field)
STEP_TEMPLATE_BLOCKED = "sender:template_blocked"
# Meta's own codes for sending such a template, so the ReplyFailed reads as if Meta had answered
TEMPLATE_PAUSED, TEMPLATE_DISABLED, TEMPLATE_UNAVAILABLE = 132015, 132016, 132001
Blocked = Mapping[tuple[str, str], TemplateState]


@dataclass(frozen=True)
class Part:
    """One Graph API message body, sent at most once under `send_id` (which statuses bring back)."""

    send_id: str
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body["type"])


@dataclass(frozen=True)
class ToApi:
    pass


@dataclass(frozen=True)
class Receipt:
    body: dict[str, Any] | None  # None: no message to mark read, nothing to send


@dataclass(frozen=True)
class Refuse:
    code: int | None  # the Meta code the ReplyFailed carries (131047), None for an unsendable reply
    title: str
    reason: str | None = None  # our own refusal (`opted_out`), carried by the ReplyFailed
    step: str | None = None  # the decision for the trace, when it says more than the failure


@dataclass(frozen=True)
class Deliver:
    parts: tuple[Part, ...]
    read: dict[str, Any] | None = None  # mark-as-read (+ typing) before the first part, best effort
    template_fallback: bool = False  # our clock says the window is closed: `parts` is the tenant's template
    window_template: TemplateRef | None = None  # Meta says 131047 to a part: send this template instead, once
    no_template_reason: str | None = None  # why no template may follow a 131047 (`opted_out`)
    steps: tuple[str, ...] = ()  # decisions for the trace


Plan = ToApi | Receipt | Refuse | Deliver


def needs_window(p: ReplyRequestedPayload) -> bool:
    """Free-form messages to a customer may only go out within 24 h of the customer's last message."""
    return p.channel != "api" and p.kind in FREE_FORM and p.audience == "customer"


def template_part(p: ReplyRequestedPayload, template: TemplateRef) -> Part:
    send_id = f"{p.reply_id}:tpl"
    return Part(send_id, {**template_body(p, template), "biz_opaque_callback_data": send_id})


def template_refusal(template: TemplateRef, blocked: Blocked) -> Refuse | None:
    """Why Meta would refuse `template` now, None when nothing says so."""
    state = blocked.get(template_key(template.name, template.language))
    if state is None:
        return None
    code = {"PAUSED": TEMPLATE_PAUSED, "DISABLED": TEMPLATE_DISABLED}.get(state.status or "", TEMPLATE_UNAVAILABLE)
    why = state.title or (state.reason if state.reason not in (None, "NONE") else None)
    return Refuse(code, f"template {template.name} ({template.language}) is {(state.status or '').lower()} at Meta"
                        f"{f' ({why})' if why else ''}; not sent", step=STEP_TEMPLATE_BLOCKED)


def _why(e: ValueError) -> str:
    """The first broken rule, in a line (pydantic's errors name the field and Meta's limit)."""
    if isinstance(e, ValidationError):
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        return f"{where}: {first['msg'].replace('Value error, ', '')}"[:200]
    return str(e)[:200]


def plan_reply(p: ReplyRequestedPayload, policy: SendPolicy, window_open: bool | None,
               opted_out: OptedOut | None = None, blocked: Blocked | None = None) -> Plan:
    """Raises ValueError only when the tenant's template itself is not a valid body. `blocked`: the templates
    Meta would refuse now (the request's own template, and the window template when the window is closed)."""
    blocked = blocked or {}
    if p.channel == "api":
        return ToApi()
    if not applies(p):
        opted_out = None  # staff messages and receipts are not the customer's to refuse
    refused = refusal(p, opted_out, window_open)
    if refused is not None:
        return Refuse(None, refused, OPTED_OUT)
    if p.kind in ("read", "typing"):
        return Receipt(read_body(p.in_reply_to, typing=p.kind == "typing") if p.in_reply_to else None)
    if p.kind == "template" and p.template is not None and (blocked_by := template_refusal(p.template, blocked)):
        return blocked_by
    try:
        bodies = message_bodies(p)
    except ValueError as e:
        return Refuse(None, f"unsendable reply: {_why(e)}", UNSENDABLE)
    if needs_window(p) and not window_open:
        if policy.window_template is None:
            return Refuse(WINDOW_CLOSED, "24 h window closed and no template configured")
        if blocked_by := template_refusal(policy.window_template, blocked):
            return Refuse(blocked_by.code, f"24 h window closed and the {blocked_by.title}", step=blocked_by.step)
        return Deliver((template_part(p, policy.window_template),), template_fallback=True,
                       steps=(STEP_WINDOW_CLOSED,))
    read = None
    if p.audience == "customer" and p.in_reply_to and p.kind != "reaction" and policy.mark_as_read:
        read = read_body(p.in_reply_to, typing=policy.typing)
    # Each part's own id travels in biz_opaque_callback_data, so Meta's statuses map back to that part.
    parts = tuple(Part(f"{p.reply_id}:{i}", {**b, "biz_opaque_callback_data": f"{p.reply_id}:{i}"})
                  for i, b in enumerate(bodies))
    if opted_out is not None:  # an answer, yet never a template after Meta's 131047
        return Deliver(parts, read=read, no_template_reason=OPTED_OUT, steps=("sender:opted_out_answer",))
    return Deliver(parts, read=read, window_template=policy.window_template)
