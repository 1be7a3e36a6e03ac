"""Media messages once the media stage has read them, decided by the tenant's `media` policy. Pure, no I/O.

A voice note's transcript is classified as if the customer had typed it (an hours question gets the hours
answer). A photo, sticker, video or document goes to the model with what the customer wrote and what the stage
read in it (caption, description, printed text, document text). A recognised payment receipt follows the
tenant's `media.payment_receipt` (a person checks it, with the extracted fields; or an acknowledgement). Media that
could not be had, or that said nothing, gets the tenant's fallback wording, never an error. A media type the
tenant's `media` section does not list follows its `non_text` rule, as before the media stage existed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from schemas.events import MessageReceivedPayload
from schemas.meta.media import MEDIA_KINDS
from schemas.understanding import MediaUnderstanding, ReceiptFields
from services.guardrails.budget import ClassifyLimits
from services.guardrails.decision import Decision, decide_text
from wapipe.tenants import Tenant

RECEIPT_REASON = "payment_receipt"
LABELS = {"audio": "nota de voz", "image": "imagen", "sticker": "sticker", "video": "video", "document": "documento"}
OCR_CHARS = 600  # what of an image's printed text the model sees: a receipt or a label, not a whole page
DOCUMENT_CHARS = 1500


def is_media(p: MessageReceivedPayload) -> bool:
    return p.message_type in MEDIA_KINDS


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def receipt_of(u: MediaUnderstanding | None) -> ReceiptFields | None:
    """The receipt the stage recognised, when it has what a person checks (an amount or a reference)."""
    r = u.receipt if u is not None and u.status == "understood" else None
    return r if r is not None and (r.amount or r.reference) else None


def receipt_note(r: ReceiptFields) -> str:
    """'[comprobante de pago] Nequi · 150000 COP · ref M12345 · 2026-11-30': what the people see in the handoff."""
    amount = " ".join(x for x in (r.amount, r.currency) if x) or None
    parts = [r.wallet, amount, f"ref {r.reference}" if r.reference else None, r.date.isoformat() if r.date else None]
    return "[comprobante de pago] " + " · ".join(p for p in parts if p)


def said(p: MessageReceivedPayload) -> str | None:
    """What a media message says, as text: the customer's words (transcript or caption) and what the stage read
    in it. This is the conversation's turn and what the model answers; None when nothing was read."""
    u = p.understanding
    if u is None or u.status != "understood":
        return p.text
    if p.message_type == "audio":
        return (u.transcript or "").strip() or p.text
    if (r := receipt_of(u)) is not None:
        return " ".join(x for x in (receipt_note(r), p.text) if x)
    pieces = [x for x in (
        p.text,
        f"Descripción: {_clip(u.description, OCR_CHARS)}" if u.description else None,
        f"Texto en la {LABELS[p.message_type]}: {_clip(u.ocr_text, OCR_CHARS)}" if u.ocr_text else None,
        f"Texto del documento: {_clip(u.document_text, DOCUMENT_CHARS)}" if u.document_text else None,
    ) if x]
    if not pieces:
        return None
    return f"[{LABELS.get(p.message_type, p.message_type)}] " + " ".join(pieces)


def decide_media(p: MessageReceivedPayload, t: Tenant, now: datetime,
                 limits: ClassifyLimits | None = None) -> Decision | None:
    """The decision for a media message under the tenant's `media` policy; None when the policy does not list its
    type or the media said nothing it could act on (the caller falls back to the type's `non_text` rule)."""
    rule = t.media.rule(p.message_type)
    if rule is None:
        return None
    name = f"media:{p.message_type}"
    if rule.action == "refuse":
        legacy = t.non_text.get(p.message_type)
        refusal = rule.wording or (legacy.text if legacy else None) or t.wording.refusal
        return Decision("NON_BUSINESS", "otro", "refuse", f"{name}:refuse", refusal)
    if rule.action == "handoff":
        return Decision("BUSINESS_CONSULT", "otro", "handoff", f"{name}:handoff", t.wording.handoff,
                        rule.reason or LABELS.get(p.message_type, p.message_type))
    u = p.understanding
    if u is None:  # not through the media stage (a topic replayed from before it, say): as before it existed
        return None
    if u.status != "understood":
        return _unavailable(p, t, name, u.reason or "unavailable")
    if receipt_of(u) is not None:  # its fields travel in the handoff's text (`said`)
        r = t.media.payment_receipt
        if r.action == "acknowledge":
            return Decision("BUSINESS_FAQ", "pagos", "reply", "media:payment_receipt:acknowledge",
                            r.wording or t.wording.thanks)
        return Decision("BUSINESS_CONSULT", "pagos", "handoff", "media:payment_receipt:handoff", t.wording.handoff,
                        RECEIPT_REASON)
    text = said(p)
    if not text:  # a model failed: the fallback wording; nothing to read (a plain photo): the type's non_text rule
        return _unavailable(p, t, name, u.failures[0]) if u.failures else None
    if p.message_type == "audio":
        d = decide_text(text, t, now, limits)
        return replace(d, rule=f"{name}:{d.rule}")
    return Decision("BUSINESS_CONSULT", "otro", "ai", f"{name}:understood", None)


def _unavailable(p: MessageReceivedPayload, t: Tenant, name: str, reason: str) -> Decision | None:
    """`media.unavailable`, else None: the type's `non_text` rule then answers, as before the media stage."""
    if t.media.unavailable is None:
        return None
    return Decision("EMPTY_OR_GIBBERISH", "otro", "clarify", f"{name}:unavailable:{reason}", t.media.unavailable)
