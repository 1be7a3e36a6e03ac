"""The media stage's decision: every inbound message goes on to `wa.inbound.understood.v1`, in order.

A message without media passes through unchanged (same event), so a text that follows a voice note waits for
it on its key and never overtakes it. A media message is downloaded, stored under its content key and
understood; it goes on as a child event (deterministic id) whose payload carries `understanding` and, for a voice
note, the transcript as `text`, as if the customer had typed it. Media that cannot be had, a store that is down
or a model that fails never stop the message: it goes on marked with the reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from schemas.envelope import Envelope, Trace, derive_id, utcnow
from schemas.events import MessageReceived
from schemas.meta.media import MEDIA_KINDS, MediaKind
from schemas.topics import INBOUND_UNDERSTOOD
from schemas.understanding import MediaUnderstanding, ReceiptFields
from services.media.metrics import MediaMetrics
from services.media.ports import Downloader, Owners, Understander
from services.media.understand.types import Receipt
from services.media.understand.understand import Understood
from wapipe.media.download import Downloaded, MediaUnavailable
from wapipe.objectstore.owners import OwnerIndexUnavailable
from wapipe.objectstore.port import ObjectStore, ObjectStoreUnavailable, content_key
from wapipe.runtime.types import Emit, RecordMeta

log = logging.getLogger(__name__)


@dataclass
class Ports:
    downloader: Downloader
    store: ObjectStore
    understander: Understander
    owners: Owners | None = None  # whose media each key is, for privacy export and erasure


def _receipt(r: Receipt | None) -> ReceiptFields | None:
    if r is None:
        return None
    amount = None if r.amount is None else format(r.amount, "f")
    return ReceiptFields(wallet=r.wallet, amount=amount, currency=r.currency, reference=r.reference, date=r.date)


def understanding_of(download: Downloaded, key: str | None, understood: Understood,
                     failures: Sequence[str]) -> MediaUnderstanding:
    t = understood.transcript
    doc = understood.document
    return MediaUnderstanding(
        status="understood", object_key=key, sha256=download.sha256, size=download.size,
        transcript=t.text if t else None, language=t.language if t else None,
        confidence=t.confidence if t else None, duration_s=t.duration_s if t else None, model=t.model if t else None,
        ocr_text=understood.ocr_text, description=understood.description, receipt=_receipt(understood.receipt),
        document_text=doc.text if doc else None, document_pages=doc.pages if doc else None,
        failures=[*failures, *understood.failures])


class MediaHandler:
    def __init__(self, ports: Ports, metrics: MediaMetrics, clock: Callable[[], float] = time.monotonic) -> None:
        self.ports = ports
        self.metrics = metrics
        self._clock = clock

    async def __call__(self, event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
        if not isinstance(event, MessageReceived) or event.payload.message_type not in MEDIA_KINDS:
            kind = event.payload.message_type if isinstance(event, MessageReceived) else "other"
            self.metrics.messages.labels(event.tenant, kind, "passed").inc()
            return [Emit(INBOUND_UNDERSTOOD, event)]
        return [Emit(INBOUND_UNDERSTOOD, await self.understand(event))]

    async def understand(self, event: MessageReceived) -> MessageReceived:
        p = event.payload
        kind = cast(MediaKind, p.message_type)
        started_at, started = utcnow(), self._clock()
        trace = event.child_trace()
        text = p.text
        if p.media is None or not p.media.id:
            understanding = MediaUnderstanding(status="unavailable", reason="no_media_id")
        else:
            # Checked against the media object's sha256 only: Meta does not document the webhook's (base64)
            # digest as the hash of the downloaded bytes, and a wrong guess would refuse every download.
            result = await self.ports.downloader.download(p.media.id, phone_number_id=event.tenant)
            download_s = self._clock() - started
            self.metrics.duration.labels("download").observe(download_s)
            trace.attrs["media_download_s"] = round(download_s, 4)
            if isinstance(result, MediaUnavailable):
                understanding = MediaUnderstanding(status="unavailable", reason=result.reason)
            else:
                understanding, understood = await self._understand(event, kind, result, p.media.caption, trace)
                text = text or understood.text or None
        outcome = "understood" if understanding.status == "understood" else f"unavailable:{understanding.reason}"
        self.metrics.messages.labels(event.tenant, kind, outcome).inc()
        for failure in understanding.failures:
            self.metrics.failures.labels(failure.removesuffix("_failed")).inc()
        trace.step(f"media:{outcome}")
        trace.timed("media", started_at)
        return MessageReceived(
            event_id=derive_id(event.event_id, "media"), occurred_at=event.occurred_at, tenant=event.tenant,
            conversation=event.conversation, correlation_id=event.correlation_id, causation_id=event.event_id,
            trace=trace, payload=p.model_copy(update={"text": text, "understanding": understanding}))

    async def _understand(self, event: MessageReceived, kind: MediaKind, download: Downloaded,
                          caption: str | None, trace: Trace) -> tuple[MediaUnderstanding, Understood]:
        failures: list[str] = []
        key: str | None = content_key(event.tenant, download.data)
        try:
            await self.ports.store.put(content_key(event.tenant, download.data), download.data, download.mime_type)
        except ObjectStoreUnavailable as e:
            log.warning("media of %s not stored: %s", event.correlation_id, e)
            failures.append("store_failed")
            key = None  # the bytes are gone with this process; the message goes on with what they said
        if key is not None and self.ports.owners is not None:
            try:
                await self.ports.owners.add(event.conversation, key)
            except OwnerIndexUnavailable as e:  # the object still expires with the retention; the message goes on
                log.warning("media of %s stored but not indexed to its sender: %s", event.correlation_id, e)
                failures.append("owner_index_failed")
        understood = await self.ports.understander.understand(kind, download.data, download.mime_type,
                                                              caption=caption)
        for step, seconds in understood.timings.items():
            self.metrics.duration.labels(step).observe(seconds)
            trace.attrs[f"media_{step}_s"] = seconds
        t = understood.transcript
        if t is not None:
            trace.attrs.update(media_model=t.model, media_language=t.language, media_confidence=t.confidence)
        return understanding_of(download, key, understood, failures), understood

