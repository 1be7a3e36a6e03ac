"""The operator console in a real browser (Playwright driving Debian's chromium, headless) against the real broker,
Redis and the Graph API simulator, with the media stage, guardrails, sender and the console (worker and pages)
running in this process; customer messages are produced to wa.inbound.v1 as ingress would.

A customer asks for a person -> the row appears in the open queue page without a reload -> the operator takes the
conversation over and replies -> the customer receives the reply at the simulator -> release -> the bot answers
the customer's next message. Signed-out pages redirect to sign-in, a POST without its CSRF token is refused, an
agent of another shop cannot open the conversation by its URL, and a locked account stays locked.

`CONSOLE_SCREENSHOTS=docs` also writes the README's screenshots (docs/console-*.png).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from schemas.envelope import conversation_key, derive_id
from schemas.events import MessageReceived, MessageReceivedPayload, Recipient
from schemas.meta.signature import webhook_headers
from schemas.topics import INBOUND
from services.console.app import build_app as build_console
from services.console.app import service as console_service
from services.console.config import ConsoleSettings
from services.console.store_redis import ref_of
from services.guardrails.app import build_app as build_guardrails
from services.guardrails.config import GuardrailsSettings
from services.ingress.app import create_app as create_ingress
from services.ingress.config import IngressSettings
from services.media import main as media_main
from services.media.config import MediaSettings
from services.sender.app import build_app as build_sender
from services.sender.config import SenderSettings
from services.sender.ports import RegistryPolicies, SendPolicy
from tests.e2e.browser import CHROMIUM, launched, sign_in
from wapipe.accounts import new_account
from wapipe.runtime.producer import Producer
from wapipe.runtime.service import Resources, serve
from wapipe.runtime.types import Emit
from wapipe.runtime.worker import Worker
from wapipe.store import Store, open_store
from wapipe.tenants import TenantRegistry, load_tenant
from wapipe_tools.local.servers import free_port
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is missing: `make sysdeps` (apt-get "
                                 "install chromium) installs it; the browser tests never download one")]

ROOT = Path(__file__).resolve().parents[2]
TENANTS_DIR = ROOT / "config" / "tenants"
TENANT = "100000000000001"
CUSTOMER = "573004445566"
CONV = conversation_key(TENANT, CUSTOMER)
PASSWORD = {"laura": "clave de laura 2026", "pedro": "clave de pedro 2026", "sofia": "clave de sofia 2026"}
DEADLINE_S = 60.0  # generous: a shared machine; the latency seen is printed, not asserted


@dataclass
class Stack:
    sim: BackgroundSimulator
    url: str
    store: Store
    inbound: Producer
    ingress: httpx.AsyncClient

    async def echo(self, text: str) -> str:
        """A person of the shop writes `text` from the WhatsApp Business app: the simulator builds Meta's
        `smb_message_echoes` webhook, and it goes signed into ingress as Meta would post it; -> the echo's wamid."""
        async with httpx.AsyncClient(timeout=5) as http:
            r = await http.post(f"{self.sim.url}/_sim/echo",
                                json={"phone_number_id": TENANT, "to": CUSTOMER, "text": text})
        r.raise_for_status()
        body = r.json()
        raw = json.dumps(body["webhook"], ensure_ascii=False, separators=(",", ":")).encode()
        posted = await self.ingress.post("/webhook", content=raw,
                                         headers=webhook_headers(raw, self.sim.state.app_secret))
        assert posted.status_code == 200, posted.text
        return str(body["message_id"])

    async def say(self, wamid: str, text: str) -> float:
        now = datetime.now(UTC)
        event = MessageReceived(
            event_id=derive_id(wamid, "ingress"), occurred_at=now, tenant=TENANT, conversation=CONV,
            correlation_id=wamid, payload=MessageReceivedPayload(
                message_id=wamid, sender=Recipient(wa_id=CUSTOMER), profile_name="Marta Gómez",
                timestamp=now - timedelta(seconds=1), message_type="text", text=text))
        await self.inbound.publish(Emit(INBOUND, event))
        return time.monotonic()  # the broker confirmed the write

    async def sent_to_customer(self) -> list[str]:
        async with httpx.AsyncClient(timeout=5) as http:
            r = await http.get(f"{self.sim.url}/_sim/messages", params={"to": CUSTOMER})
            return [m["text"] or "" for m in r.json()["messages"]]

    async def wait_sent(self, count: int) -> list[str]:
        deadline = time.monotonic() + DEADLINE_S
        while True:
            got = await self.sent_to_customer()
            if len(got) >= count or time.monotonic() > deadline:
                return got
            await asyncio.sleep(0.1)


@pytest.fixture
async def stack(kafka_bootstrap: str, topic_prefix: str, group_id: str, redis_url: str,
                redis_client: aioredis.Redis, tmp_path: Path) -> AsyncIterator[Stack]:
    sim = BackgroundSimulator(SimState(ingress_url=None)).start()
    sim.state.open_window(TENANT, CUSTOMER)
    common: dict[str, Any] = {"kafka_bootstrap_servers": kafka_bootstrap, "topic_prefix": topic_prefix,
                              "redis_url": redis_url, "tenants_dir": str(TENANTS_DIR), "env": "dev"}
    store = open_store(f"sqlite:///{tmp_path}/wapipe.db")
    await store.migrate()
    await store.put_operator_account(new_account("laura", "agent", [TENANT], PASSWORD["laura"]))
    await store.put_operator_account(new_account("pedro", "agent", ["100000000000002"], PASSWORD["pedro"]))
    await store.put_operator_account(new_account("sofia", "agent", [TENANT], PASSWORD["sofia"]))
    tenants = TenantRegistry(TENANTS_DIR)
    producers = [Producer(kafka_bootstrap, topic_prefix=topic_prefix) for _ in range(4)]
    guardrails = build_guardrails(GuardrailsSettings(**common), redis=redis_client, store=store,
                                  producer=producers[0], registry=CollectorRegistry(), tenants=tenants,
                                  group_id=f"{group_id}-guardrails")
    sender = build_sender(SenderSettings(**common, graph_api_url=sim.url), redis=redis_client, store=store,
                          producer=producers[1], registry=CollectorRegistry(), group_id=f"{group_id}-sender",
                          policies=RegistryPolicies(tenants, SendPolicy()))
    # guardrails reads wa.inbound.understood.v1: the media stage passes the customer's texts and echoes on to it
    media_registry = CollectorRegistry()
    media = await media_main.build(MediaSettings(**common, graph_api_url=sim.url, media_transcriber="none",
                                                 media_dir=str(tmp_path / "media"),
                                                 media_consumer_group=f"{group_id}-media"),
                                   Resources(media_registry, producers[2], redis_client, store))
    registry = CollectorRegistry()
    console = build_console(ConsoleSettings(**common, console_login_max_failures=3), redis=redis_client,
                            store=store, producer=producers[2], tenants=tenants, registry=registry,
                            group_id=f"{group_id}-console")
    port = free_port()
    stop = asyncio.Event()
    workers: list[Worker] = [guardrails.worker, sender.worker]
    tasks = [asyncio.create_task(w.run()) for w in workers]
    tasks.append(asyncio.create_task(serve(media, registry=media_registry, host="127.0.0.1", port=0, stop=stop,
                                           handle_signals=False)))
    tasks.append(asyncio.create_task(serve(console_service(console, host="127.0.0.1", port=port),
                                           registry=registry, host="127.0.0.1", port=0, stop=stop,
                                           handle_signals=False)))
    ingress = create_ingress(IngressSettings(_env_file=None, **common,  # type: ignore[call-arg]
                                             meta_app_secret=SecretStr(sim.state.app_secret),
                                             meta_verify_token="console-e2e-verify-token",
                                             api_chat_key="console-e2e-api-chat-key"),
                             producer=producers[3], redis=redis_client, store=store, registry=CollectorRegistry())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=ingress), base_url="http://ingress")
    try:
        for w in (*workers, *media.workers, console.worker):
            await w.wait_ready(60)
        yield Stack(sim, f"http://127.0.0.1:{port}", store, producers[3], client)
    finally:
        await client.aclose()
        stop.set()
        for w in workers:
            await w.stop()
        await asyncio.gather(*tasks)
        for p in producers:
            p.close()
        await sender.graph.aclose()
        await store.close()
        sim.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with launched(DEADLINE_S) as b:
        yield b


def shots(tmp_path: Path) -> Path:
    return ROOT / "docs" if os.environ.get("CONSOLE_SCREENSHOTS") == "docs" else tmp_path


async def test_queue_live_take_over_reply_and_release(stack: Stack, browser: Any, tmp_path: Path) -> None:
    from playwright.async_api import expect

    shop = load_tenant(TENANTS_DIR / "demo.yaml")
    page = await (await browser.new_context(viewport={"width": 1100, "height": 800})).new_page()
    await sign_in(page, stack.url, "laura", PASSWORD["laura"])
    await page.wait_for_url("**/queue")
    await expect(page).to_have_title("(0) En espera · Consola wapipe")
    await page.wait_for_selector("body[data-live-ready='1']", timeout=DEADLINE_S * 1000)
    await page.evaluate("window.__notReloaded = true")

    written = await stack.say("wamid.CB1", "quiero hablar con un asesor")
    row = page.locator("#queue .row", has_text="Marta Gómez")
    await expect(row).to_be_visible(timeout=DEADLINE_S * 1000)
    print(f"queue row shown {time.monotonic() - written:.2f} s after the broker confirmed the message")
    assert await page.evaluate("window.__notReloaded === true")  # live, not a reload
    await expect(page).to_have_title("(1) En espera · Consola wapipe")
    await expect(row).to_contain_text("quiero hablar con un asesor")
    await expect(row).to_contain_text("…5566")
    assert CUSTOMER not in await page.content()
    await page.screenshot(path=str(shots(tmp_path) / "console-queue.png"))

    await row.locator("a").click()
    await page.wait_for_url(f"**/c/{ref_of(CONV)}")
    await page.get_by_role("button", name="Tomar la conversación").click()
    await expect(page.locator("#conv-state")).to_contain_text("Atendida por laura")
    await page.get_by_role("button", name="¿Me compartes tu número de pedido?").click()  # a quick reply
    await expect(page.locator("#reply-text")).to_have_value("¿Me compartes tu número de pedido?")
    await page.fill("#reply-text", "Hola Marta, soy Laura. ¿Me compartes tu número de pedido?")
    await page.get_by_role("button", name="Enviar").click()
    got = await stack.wait_sent(1)  # (the handoff wording is the notifier's, not running here)
    assert got == ["Hola Marta, soy Laura. ¿Me compartes tu número de pedido?"]
    human = page.locator("#history .line.human", has_text="soy Laura")
    await expect(human).to_be_visible(timeout=DEADLINE_S * 1000)  # the sender's stored turn, shown live

    await page.fill("#note-text", "pedido 1234 por revisar")
    await page.get_by_role("button", name="Añadir nota").click()
    await expect(page.locator("#history .line.note")).to_contain_text("pedido 1234 por revisar")
    await page.screenshot(path=str(shots(tmp_path) / "console-conversation.png"), full_page=True)

    await page.get_by_role("button", name="Devolver al bot").click()
    await expect(page.locator("#conv-state")).to_have_attribute("data-state", "bot")
    await stack.say("wamid.CB2", "buenas tardes")
    after = await stack.wait_sent(2)
    assert after[1:] == [shop.wording.greeting]  # the bot answers again
    bot_line = page.locator("#history .line.assistant", has_text=shop.wording.greeting[:20])
    await expect(bot_line).to_be_visible(timeout=DEADLINE_S * 1000)
    await bot_line.locator("summary").click()  # its decision trace
    await expect(bot_line.locator("dl")).to_contain_text("reply")
    audit = {(h.action, h.actor) for h in await stack.store.handoffs(TENANT, CUSTOMER)}
    assert {("taken", "operator:laura"), ("reply", "operator:laura"), ("released", "operator:laura")} <= audit


async def test_csrf_other_tenant_and_lockout(stack: Stack, browser: Any) -> None:
    from playwright.async_api import expect

    await stack.say("wamid.CB3", "quiero hablar con un asesor")
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, stack.url, "laura", PASSWORD["laura"])
    await page.wait_for_url("**/queue")
    await expect_row(page)
    ref = ref_of(CONV)
    refused = await page.request.post(f"{stack.url}/c/{ref}/take", form={"x": "1"})  # the session, no token
    assert refused.status == 403
    assert "taken" not in [h.action for h in await stack.store.handoffs(TENANT, CUSTOMER)]

    other = await (await browser.new_context()).new_page()  # an agent of another shop, by URL
    await sign_in(other, stack.url, "pedro", PASSWORD["pedro"])
    await other.wait_for_url("**/queue")
    response = await other.goto(f"{stack.url}/c/{ref}")
    assert response is not None and response.status == 404
    assert "Marta" not in await other.content()
    await other.goto(f"{stack.url}/queue")
    assert "Marta" not in await other.content()

    locked = await (await browser.new_context()).new_page()
    for attempt in ("mala 1", "mala 2", "mala 3"):
        await sign_in(locked, stack.url, "sofia", attempt)
    await sign_in(locked, stack.url, "sofia", PASSWORD["sofia"])  # right password, locked account
    await expect(locked.locator(".error")).to_contain_text("bloqueada")
    assert "/login" in locked.url


async def expect_row(page: Any) -> None:
    from playwright.async_api import expect

    await expect(page.locator("#queue .row", has_text="Marta Gómez")).to_be_visible(timeout=DEADLINE_S * 1000)


async def test_an_echo_from_the_business_app_silences_the_bot(stack: Stack, browser: Any) -> None:
    """A person answers from the WhatsApp Business app: the console shows the conversation as a person's, with the
    echo as a human line by the app; the customer's next message (seen in the console first, so the silence that
    follows is not a pipeline that never ran) gets no bot reply; released in the console, the bot answers again."""
    from playwright.async_api import expect

    shop = load_tenant(TENANTS_DIR / "demo.yaml")
    await stack.say("wamid.CE1", "hola")
    assert await stack.wait_sent(1) == [shop.wording.greeting]  # the bot has the conversation
    page = await (await browser.new_context()).new_page()
    await sign_in(page, stack.url, "laura", PASSWORD["laura"])
    await page.wait_for_url("**/queue")
    await page.goto(f"{stack.url}/c/{ref_of(CONV)}")
    await page.wait_for_selector("body[data-live-ready='1']", timeout=DEADLINE_S * 1000)
    await expect(page.locator("#conv-state")).to_have_attribute("data-state", "bot")

    await stack.echo("Sí Marta, te la aparto. Soy Ana de la tienda.")
    echoed = page.locator("#history .line.human", has_text="te la aparto")
    await expect(echoed).to_be_visible(timeout=DEADLINE_S * 1000)  # live
    await expect(echoed).to_contain_text("WhatsApp Business app")  # its author
    await reload_until(page, "human")
    await expect(page.locator("#conv-state")).to_contain_text("Atendida por WhatsApp Business app")
    await expect(page.locator("#history .line.event", has_text="WhatsApp Business app")).to_contain_text(
        "Tomó la conversación")

    await stack.say("wamid.CE2", "perfecto, paso a las 5")
    await expect(page.locator("#history .line.customer", has_text="paso a las 5")).to_be_visible(
        timeout=DEADLINE_S * 1000)  # the customer's message reached the console: the pipeline ran
    stored = await poll(lambda: stack.store.last_turns(TENANT, CUSTOMER, 10),
                        lambda turns: any(t.text == "perfecto, paso a las 5" for t in turns))
    assert any(t.text == "perfecto, paso a las 5" for t in stored)  # guardrails decided it
    outcomes = await poll(lambda: stack.store.traces_by_correlation("wamid.CE2"), bool)
    assert outcomes and all(t.outcome != "replied" for t in outcomes)
    assert await stack.sent_to_customer() == [shop.wording.greeting]  # no bot reply over the person

    await page.get_by_role("button", name="Devolver al bot").click()
    await expect(page.locator("#conv-state")).to_have_attribute("data-state", "bot")
    await stack.say("wamid.CE3", "buenas tardes")
    after = await stack.wait_sent(2)
    assert after[1:] == [shop.wording.greeting]  # the bot answers again
    audit = [(h.action, h.actor) for h in await stack.store.handoffs(TENANT, CUSTOMER)]
    assert ("taken", "operator:WhatsApp Business app") in audit
    assert ("released", "operator:laura") in audit


async def reload_until(page: Any, state: str) -> None:
    """The state is guardrails' (HUMAN_ACTIVE), set after the console heard the echo: reload until it shows."""
    deadline = time.monotonic() + DEADLINE_S
    while await page.locator("#conv-state").get_attribute("data-state") != state:
        assert time.monotonic() < deadline, f"the conversation never showed as {state}"
        await asyncio.sleep(0.2)
        await page.reload()


async def poll(read: Any, ok: Any) -> Any:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        value = await read()
        if ok(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)
