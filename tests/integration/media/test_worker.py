"""The media stage on the runtime, against the real broker and the simulated Graph API and transcriber: every
message comes out on wa.inbound.understood.v1, each conversation in its order, voice notes as their transcript."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from schemas import topics
from schemas.events import Media, MessageReceived
from services.media.app import build_app
from services.media.config import MediaSettings
from services.media.handlers import Ports
from services.media.understand.openai_transcriber import OpenAITranscriber
from services.media.understand.types import Transcriber
from services.media.understand.understand import MediaUnderstanding
from tests.integration.media.conftest import Sleeps, downloader, register
from tests.media_support import plain_words, voice_note
from tests.support import read_topic
from tests.unit.media.fakes import message
from wapipe.media.download import new_client
from wapipe.objectstore.folder import FolderObjectStore
from wapipe.runtime.producer import Producer
from wapipe.runtime.types import Emit
from wapipe_tools.simulator.serve import BackgroundSimulator


@asynccontextmanager
async def running_media(bootstrap: str, prefix: str, group: str, sim: BackgroundSimulator, folder: Path,
                        transcriber: Transcriber | None = None) -> AsyncIterator[Producer]:
    s = MediaSettings(_env_file=None, kafka_bootstrap_servers=bootstrap, topic_prefix=prefix,  # type: ignore[call-arg]
                      kafka_batch_wait_ms=0)
    http = new_client(5.0)
    remote = OpenAITranscriber(f"{sim.url}/v1", "dev-openai-key", timeout_s=5)
    ports = Ports(downloader=downloader(sim, http), store=FolderObjectStore(folder),
                  understander=MediaUnderstanding(transcriber=transcriber or remote, sleep=Sleeps()))
    producer = Producer(bootstrap, topic_prefix=prefix)
    app = build_app(s, ports, producer=producer, registry=CollectorRegistry(), group_id=group)
    assert app.worker.cfg.batch_wait_s == 0  # WAPIPE_KAFKA_BATCH_WAIT_MS reaches the worker
    task = asyncio.create_task(app.worker.run())
    try:
        await app.worker.wait_ready(30)
        yield producer
    finally:
        await app.worker.stop()
        await task
        producer.close()
        await http.aclose()
        await remote.aclose()


def _voice(sim: BackgroundSimulator, data: bytes, transcript: str, **fault: object) -> Media:
    info = register(sim, data, "audio/ogg; codecs=opus", transcript=transcript, **fault)
    return Media(id=info["id"], mime_type="audio/ogg; codecs=opus", sha256=info["webhook_sha256"], voice=True)


async def test_a_voice_note_and_the_text_after_it_come_out_in_order(
        kafka_bootstrap: str, topic_prefix: str, group_id: str, sim: BackgroundSimulator, tmp_path: Path) -> None:
    slow_voice = _voice(sim, b"OggS one", "¿A qué hora abren el sábado?")
    httpx.post(f"{sim.url}/_sim/llm", json={"latency_s": 1.0}).raise_for_status()  # the transcriber is slow
    ana = [message("audio", text=None, media=slow_voice, wamid="wamid.A1", wa_id="573000000001"),
           message(text="y el domingo?", wamid="wamid.A2", wa_id="573000000001")]
    expired = _voice(sim, b"OggS two", "no se oye", fault="expired")
    beto = [message("audio", text=None, media=expired, wamid="wamid.B1", wa_id="573000000002"),
            message(text="hola?", wamid="wamid.B2", wa_id="573000000002")]
    async with running_media(kafka_bootstrap, topic_prefix, group_id, sim, tmp_path) as producer:
        for e in (ana[0], beto[0], ana[1], beto[1]):
            await producer.publish(Emit(topics.INBOUND, e))
        out = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + topics.INBOUND_UNDERSTOOD,
                                      expect=4, timeout=60)

    events = [r.event() for r in out]
    assert sorted(e.correlation_id for e in events) == ["wamid.A1", "wamid.A2", "wamid.B1", "wamid.B2"]
    for conversation in ({"wamid.A1", "wamid.A2"}, {"wamid.B1", "wamid.B2"}):
        assert [e.correlation_id for e in events if e.correlation_id in conversation] == sorted(conversation)
    by_id = {e.correlation_id: e for e in events}
    voice = by_id["wamid.A1"]
    assert isinstance(voice, MessageReceived) and voice.payload.text == "¿A qué hora abren el sábado?"
    u = voice.payload.understanding
    assert u is not None and u.status == "understood" and u.object_key is not None
    assert (tmp_path / u.object_key).is_file()
    assert by_id["wamid.A2"] == ana[1]  # a text goes on unchanged
    lost = by_id["wamid.B1"]
    assert isinstance(lost, MessageReceived) and lost.payload.understanding is not None
    assert (lost.payload.understanding.status, lost.payload.understanding.reason) == ("unavailable", "expired")
    assert all(r.key == e.conversation for r, e in zip(out, events, strict=True))


async def test_a_real_voice_note_reaches_the_next_stage_as_its_transcript(
        kafka_bootstrap: str, topic_prefix: str, group_id: str, sim: BackgroundSimulator, tmp_path: Path,
        whisper: Any) -> None:
    ogg = voice_note("Hola. Necesito saber a qué hora cierran la tienda hoy.", tmp_path)
    info = register(sim, ogg, "audio/ogg; codecs=opus")  # no registered transcript: the real model hears it
    media = Media(id=info["id"], mime_type="audio/ogg; codecs=opus", sha256=info["webhook_sha256"], voice=True)
    note = message("audio", text=None, media=media, wamid="wamid.V1", wa_id="573000000009")
    async with running_media(kafka_bootstrap, topic_prefix, group_id, sim, tmp_path / "media", whisper) as producer:
        await producer.publish(Emit(topics.INBOUND, note))
        [record] = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + topics.INBOUND_UNDERSTOOD,
                                           expect=1, timeout=120)
    out = record.event()
    assert isinstance(out, MessageReceived) and out.payload.understanding is not None
    assert {"hora", "tienda"} <= plain_words(out.payload.text or ""), out.payload.text
    u = out.payload.understanding
    assert (u.status, u.language, u.model) == ("understood", "es", "faster-whisper/whisper-base")
    assert out.trace.attrs["media_model"] == "faster-whisper/whisper-base"
    assert float(out.trace.attrs["media_transcription_s"] or 0) > 0
    assert u.object_key is not None
    stored = await FolderObjectStore(tmp_path / "media").get(u.object_key)
    assert stored is not None and stored.data == ogg
