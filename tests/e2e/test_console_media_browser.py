"""Customers' media in the console, in a real browser (Playwright driving Debian's chromium, headless), against
the real broker, Redis and the Graph API simulator, with the media stage, guardrails and the console (worker and
pages) running in this process.

A customer sends a Spanish voice note (espeak-ng, OGG/Opus) and a photo: both are uploaded to the simulator and
arrive on wa.inbound.v1 as ingress would put them; the media stage downloads them into its object store (a folder)
and writes wa.inbound.understood.v1. In the conversation view the <audio> and <img> load from the console's own
route (status 200 and the right Content-Type), the transcript shows under the voice note, and an agent of
another shop gets 404 on the same media URL. The transcript comes from the simulator's OpenAI-compatible
transcription endpoint (the text registered with the upload): the embedded Whisper model is exercised by
tests/e2e/test_media_flow.py, and takes minutes on a shared machine.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas.envelope import conversation_key, derive_id
from schemas.events import Media, MessageReceived, MessageReceivedPayload, Recipient
from schemas.topics import INBOUND
from services.console.app import build_app as build_console
from services.console.app import service as console_service
from services.console.config import ConsoleSettings
from services.console.store_redis import ref_of
from services.guardrails.app import build_app as build_guardrails
from services.guardrails.config import GuardrailsSettings
from services.media import main as media_main
from services.media.config import MediaSettings
from tests.e2e.browser import CHROMIUM, launched, sign_in
from tests.media_support import receipt_png, voice_note
from wapipe.accounts import new_account
from wapipe.objectstore.folder import FolderObjectStore
from wapipe.runtime.producer import Producer
from wapipe.runtime.service import Resources, serve
from wapipe.runtime.types import Emit
from wapipe.store import Store, open_store
from wapipe.tenants import TenantRegistry
from wapipe_tools.local.servers import free_port
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is missing: `make sysdeps` (apt-get "
                                 "install chromium) installs it; the browser tests never download one")]

ROOT = Path(__file__).resolve().parents[2]
TENANTS_DIR = ROOT / "config" / "tenants"
TENANT = "100000000000001"
CUSTOMER = "573004447788"
CONV = conversation_key(TENANT, CUSTOMER)
PASSWORD = {"laura": "clave de laura 2026", "pedro": "clave de pedro 2026"}
DEADLINE_S = 90.0  # generous: a shared machine
SPOKEN = "Hola. Quiero saber si tienen las botas negras en talla cuarenta."


@dataclass
class Stack:
    sim: BackgroundSimulator
    url: str
    inbound: Producer

    async def upload(self, data: bytes, mime: str, **params: str) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as http:
            r = await http.post(f"{self.sim.url}/_sim/media", content=data, headers={"content-type": mime},
                                params={"phone_number_id": TENANT, **params})
        r.raise_for_status()
        return cast("dict[str, Any]", r.json())

    async def send(self, wamid: str, message_type: str, media: dict[str, Any], voice: bool = False) -> None:
        """The customer's media message as ingress puts it on wa.inbound.v1."""
        now = datetime.now(UTC)
        event = MessageReceived(
            event_id=derive_id(wamid, "ingress"), occurred_at=now, tenant=TENANT, conversation=CONV,
            correlation_id=wamid, payload=MessageReceivedPayload(
                message_id=wamid, sender=Recipient(wa_id=CUSTOMER), profile_name="Marta Gómez",
                timestamp=now - timedelta(seconds=1), message_type=message_type,
                media=Media(id=media["id"], mime_type=media["mime_type"], sha256=media.get("webhook_sha256"),
                            voice=voice)))
        await self.inbound.publish(Emit(INBOUND, event))


@pytest.fixture
async def stack(kafka_bootstrap: str, topic_prefix: str, group_id: str, redis_url: str,
                redis_client: aioredis.Redis, tmp_path: Path) -> AsyncIterator[Stack]:
    sim = BackgroundSimulator(SimState(ingress_url=None)).start()
    sim.state.open_window(TENANT, CUSTOMER)
    common: dict[str, Any] = {"kafka_bootstrap_servers": kafka_bootstrap, "topic_prefix": topic_prefix,
                              "redis_url": redis_url, "tenants_dir": str(TENANTS_DIR), "env": "dev",
                              "media_store": "folder", "media_dir": str(tmp_path / "media")}
    store: Store = open_store(f"sqlite:///{tmp_path}/wapipe.db")
    await store.migrate()
    await store.put_operator_account(new_account("laura", "agent", [TENANT], PASSWORD["laura"]))
    await store.put_operator_account(new_account("pedro", "agent", ["100000000000002"], PASSWORD["pedro"]))
    tenants = TenantRegistry(TENANTS_DIR)
    producers = [Producer(kafka_bootstrap, topic_prefix=topic_prefix) for _ in range(4)]
    media_settings = MediaSettings(**common, graph_api_url=sim.url, media_transcriber="openai",
                                   media_transcription_base_url=f"{sim.url}/v1", media_whisper_preload=False,
                                   media_consumer_group=f"{group_id}-media")
    media_registry = CollectorRegistry()
    media = await media_main.build(media_settings, Resources(media_registry, producers[0], redis_client, store))
    guardrails = build_guardrails(GuardrailsSettings(**common), redis=redis_client, store=store,
                                  producer=producers[1], registry=CollectorRegistry(), tenants=tenants,
                                  group_id=f"{group_id}-guardrails")
    registry = CollectorRegistry()
    console = build_console(ConsoleSettings(**common), redis=redis_client, store=store, producer=producers[2],
                            tenants=tenants, registry=registry, group_id=f"{group_id}-console")
    assert isinstance(console.deps.objects, FolderObjectStore)  # the media stage's folder, read by the console
    port = free_port()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(guardrails.worker.run()),
             asyncio.create_task(serve(media, registry=media_registry, host="127.0.0.1", port=0, stop=stop,
                                       handle_signals=False)),
             asyncio.create_task(serve(console_service(console, host="127.0.0.1", port=port),
                                       registry=registry, host="127.0.0.1", port=0, stop=stop,
                                       handle_signals=False))]
    try:
        for w in (guardrails.worker, *media.workers, console.worker):
            await w.wait_ready(60)
        yield Stack(sim, f"http://127.0.0.1:{port}", producers[3])
    finally:
        stop.set()
        await guardrails.worker.stop()
        await asyncio.gather(*tasks)
        for p in producers:
            p.close()
        await store.close()
        sim.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with launched(DEADLINE_S) as b:
        yield b


async def signed_in(page: Any, url: str, name: str) -> None:
    await sign_in(page, url, name, PASSWORD[name])
    await page.wait_for_url("**/queue")


async def test_a_voice_note_and_a_photo_show_inline_only_to_the_shops_agents(stack: Stack, browser: Any,
                                                                            tmp_path: Path) -> None:
    from playwright.async_api import expect

    note = await stack.upload(voice_note(SPOKEN, tmp_path), "audio/ogg", transcript=SPOKEN)
    photo = await stack.upload(receipt_png(["Botas negras", "Talla 40"]), "image/png")
    await stack.send("wamid.CM1", "audio", note, voice=True)
    await stack.send("wamid.CM2", "image", photo)

    page = await (await browser.new_context(viewport={"width": 1100, "height": 900})).new_page()
    await signed_in(page, stack.url, "laura")
    media_responses: dict[str, Any] = {}
    page.on("response", lambda r: media_responses.__setitem__(r.url.rsplit("/", 1)[-1], r)
            if "/media/" in r.url else None)
    ref = ref_of(CONV)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    audio, img = page.locator("#history audio"), page.locator("#history img")
    while True:  # the media stage's understanding may reach the console after the page was opened
        await page.goto(f"{stack.url}/c/{ref}")
        if await audio.count() and await img.count() or loop.time() > deadline:
            break
        await asyncio.sleep(0.5)
    await expect(audio).to_have_count(1)
    await expect(img).to_have_count(1)
    await expect(page.locator("#history .transcript")).to_contain_text(SPOKEN)

    # the elements loaded: the browser fetched both from the console, with their types
    await page.wait_for_function("() => document.querySelector('#history img').complete && "
                                 "document.querySelector('#history img').naturalWidth > 0",
                                 timeout=DEADLINE_S * 1000)
    await page.wait_for_function("() => document.querySelector('#history audio').readyState >= 1 || "
                                 "document.querySelector('#history audio').error !== null",
                                 timeout=DEADLINE_S * 1000)
    assert await page.evaluate("document.querySelector('#history audio').error") is None
    for wamid, mime in (("wamid.CM1", "audio/ogg"), ("wamid.CM2", "image/png")):
        r = media_responses[wamid]
        assert r.status in (200, 206) and r.headers["content-type"] == mime, (wamid, r.status, r.headers)
        assert r.headers["x-content-type-options"] == "nosniff"
    src = await audio.get_attribute("src")
    assert src and re.fullmatch(rf"/c/{ref}/media/wamid\.CM1", src)
    assert CUSTOMER not in await page.content()
    await page.screenshot(path=str(tmp_path / "console-media.png"), full_page=True)

    other = await (await browser.new_context()).new_page()
    await signed_in(other, stack.url, "pedro")  # an agent of another shop
    for path in (src, f"/c/{ref}/media/wamid.CM2"):
        r = await other.request.get(f"{stack.url}{path}")
        assert r.status == 404 and "audio" not in r.headers.get("content-type", "")
