"""The console's web app on the real Redis and a SQLite store, driven through httpx in this process; replies land
in a capturing publisher (our own port) instead of the broker."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas.envelope import conversation_key
from services.console.app import console_deps
from services.console.config import ConsoleSettings
from services.console.inbox import InboxChange
from services.console.store_redis import ref_of
from services.console.web import ConsoleDeps, create_console
from wapipe.accounts import new_account
from wapipe.objectstore.folder import FolderObjectStore
from wapipe.runtime.types import Emit
from wapipe.state.shadow import ShadowMode
from wapipe.store import Store, Turn, open_store
from wapipe.tenants import TenantRegistry

TENANTS_DIR = Path(__file__).resolve().parents[3] / "config" / "tenants"
SHOP = "100000000000001"
OTHER_SHOP = "100000000000002"
CUSTOMER = "573009876543"
CONV = conversation_key(SHOP, CUSTOMER)
REF = ref_of(CONV)
PASSWORDS = {"ana": "clave de ana 2026", "luis": "clave de luis 2026", "otra": "clave de otra 2026"}


@dataclass
class Captured:
    emits: list[Emit] = field(default_factory=list)

    async def publish(self, emit: Emit) -> tuple[int, int]:
        self.emits.append(emit)
        return 0, len(self.emits)


@dataclass
class Console:
    deps: ConsoleDeps
    store: Store
    redis: aioredis.Redis
    published: Captured
    objects: FolderObjectStore
    base: str = "http://console.test"

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=self.base,
                                 follow_redirects=False)

    app: object = None

    async def sign_in(self, http: httpx.AsyncClient, name: str, password: str | None = None) -> httpx.Response:
        page = await http.get("/login")
        token = csrf_of(page.text)
        return await http.post("/login", data={"name": name, "password": password or PASSWORDS[name],
                                               "csrf": token, "next": "/queue"})

    async def customer_asks_for_a_person(self, text: str = "quiero hablar con un asesor") -> None:
        """What guardrails and the console's worker leave behind when a customer asks for a person."""
        now = datetime.now(UTC)
        await self.store.append_turn(Turn(SHOP, CUSTOMER, now, "customer", text, ("wamid.C1",)))
        await ShadowMode(self.redis).activate(CONV, "humano", "guardrails")
        await self.deps.inbox.apply(InboxChange(SHOP, CONV, "message", now.timestamp(), "customer", text,
                                                "Marta Gómez", "wamid.C1"))


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


@pytest.fixture
async def console(redis_client: aioredis.Redis, tmp_path: Path) -> AsyncIterator[Console]:
    store = open_store(f"sqlite:///{tmp_path}/console.db", purge_interval=0)
    await store.migrate()
    await store.put_operator_account(new_account("ana", "admin", [], PASSWORDS["ana"]))
    await store.put_operator_account(new_account("luis", "agent", [SHOP], PASSWORDS["luis"]))
    await store.put_operator_account(new_account("otra", "agent", [OTHER_SHOP], PASSWORDS["otra"]))
    s = ConsoleSettings(env="dev", console_login_max_failures=3, console_lockout_s=600)
    published = Captured()
    objects = FolderObjectStore(str(tmp_path / "media"))
    deps = console_deps(s, redis=redis_client, store=store, publisher=published,
                        tenants=TenantRegistry(TENANTS_DIR), registry=CollectorRegistry(), objects=objects)
    c = Console(deps, store, redis_client, published, objects)
    c.app = create_console(deps)
    try:
        yield c
    finally:
        await store.close()
