"""A transcriber that is down: bounded retries, then the voice note goes on marked, and guardrails answers the
customer with the tenant's fallback wording instead of dead-lettering it. The media endpoints and the
OpenAI-compatible transcription endpoint are the simulator's."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

from schemas.events import Media, MessageReceived
from services.guardrails.route import decide
from services.media.handlers import MediaHandler, Ports
from services.media.metrics import MediaMetrics
from services.media.understand.openai_transcriber import OpenAITranscriber
from services.media.understand.understand import MediaUnderstanding
from tests.integration.media.conftest import Sleeps, downloader, register
from tests.unit.guardrails.messages import OPEN_AT, inbound
from wapipe.objectstore.folder import FolderObjectStore
from wapipe.runtime.types import RecordMeta
from wapipe.tenants import TenantRegistry
from wapipe_tools.simulator.serve import BackgroundSimulator

TENANTS = Path(__file__).parents[3] / "config" / "tenants"
AUDIO = b"OggS\x00\x02" + bytes(range(256))


async def test_a_voice_note_with_the_transcriber_down_is_answered_with_the_fallback_wording(
        sim: BackgroundSimulator, http: httpx.AsyncClient, tmp_path: Path) -> None:
    info = register(sim, AUDIO, "audio/ogg", transcript="¿a qué hora abren?")
    transcriber = OpenAITranscriber(f"{sim.url}/v1", "dev-openai-key", timeout_s=5)
    sleeps = Sleeps()
    ports = Ports(downloader=downloader(sim, http), store=FolderObjectStore(tmp_path),
                  understander=MediaUnderstanding(transcriber=transcriber, attempts=2, sleep=sleeps))
    handler = MediaHandler(ports, MediaMetrics(CollectorRegistry()))
    note = inbound(None, wamid="wamid.DOWN1", message_type="audio",
                   media=Media(id=info["id"], mime_type="audio/ogg", voice=True))
    httpx.post(f"{sim.url}/_sim/llm", json={"fail_next": 10, "fail_status": 503}).raise_for_status()
    try:
        (out,) = await handler(note, RecordMeta("wa.inbound.v1", 0, 0, None, None))
    finally:
        httpx.post(f"{sim.url}/_sim/llm", json={"fail_next": 0}).raise_for_status()
        await transcriber.aclose()
    event = out.event
    assert isinstance(event, MessageReceived) and event.payload.understanding is not None
    u = event.payload.understanding
    assert u.status == "understood" and u.failures == ["transcription_failed"] and u.object_key  # stored anyway
    assert len(sleeps.delays) == 1  # two attempts, one backoff: bounded
    assert "media_transcription_s" in event.trace.attrs
    tenant = TenantRegistry(TENANTS).get(event.tenant)
    assert tenant is not None
    d = decide(event.payload, tenant, OPEN_AT)
    assert (d.route, d.text) == ("clarify", tenant.media.unavailable)
    assert d.rule == "media:audio:unavailable:transcription_failed"
