"""An ingress app wired to the session's real broker and Redis, driven in-process over ASGI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from schemas.meta.signature import webhook_headers
from services.ingress.app import create_app
from services.ingress.config import IngressSettings
from wapipe.runtime.producer import Producer
from wapipe.store import Store, open_store

SECRET = "integration-app-secret-0f9a"
VERIFY = "integration-verify-token-77"
API_KEY = "integration-api-chat-key-31"
DATA = Path(__file__).parents[2] / "data" / "meta" / "v25.0"
TENANTS_DIR = Path(__file__).parents[3] / "config" / "tenants"
SECOND_TENANT = "100000000000002"


def two_tenants(directory: Path) -> Path:
    """A tenants directory with the demo shop and a second one (phone_number_id SECOND_TENANT)."""
    demo = (TENANTS_DIR / "demo.yaml").read_text(encoding="utf-8")
    (directory / "demo.yaml").write_text(demo, encoding="utf-8")
    (directory / "second.yaml").write_text(demo.replace('phone_number_id: "100000000000001"',
                                                        f'phone_number_id: "{SECOND_TENANT}"'), encoding="utf-8")
    return directory


def settings_for(bootstrap: str, prefix: str, redis_url: str = "redis://127.0.0.1:1/0",
                 **overrides: Any) -> IngressSettings:
    return IngressSettings(_env_file=None, kafka_bootstrap_servers=bootstrap, topic_prefix=prefix,  # type: ignore[call-arg]
                           redis_url=redis_url, meta_app_secret=SECRET, meta_verify_token=VERIFY,
                           api_chat_key=API_KEY, **overrides)


def sample(name: str) -> bytes:
    """A sample as Meta serialises it: compact, `\\/` escaped, non-ASCII as \\u escapes."""
    doc = json.loads((DATA / f"{name}.json").read_text())
    return json.dumps(doc, separators=(",", ":")).replace("/", "\\/").encode()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return webhook_headers(body, secret)


@dataclass
class Ingress:
    client: httpx.AsyncClient
    settings: IngressSettings
    registry: CollectorRegistry
    bootstrap: str
    prefix: str
    store: Store

    async def post_webhook(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.post("/webhook", content=body, headers=signed(body) if headers is None else headers)

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float:
        return self.registry.get_sample_value(name, labels or {}) or 0.0


MakeIngress = Callable[..., Any]


@pytest.fixture
async def make_ingress(kafka_bootstrap: str, topic_prefix: str, redis_url: str, redis_client: Any,
                       tmp_path: Path) -> AsyncIterator[MakeIngress]:
    """An ingress on the session's broker and Redis, with its identity map's store in a fresh SQLite file."""
    producers: list[Producer] = []
    clients: list[httpx.AsyncClient] = []
    store = open_store(f"sqlite:///{tmp_path}/ingress.db")
    await store.migrate()

    async def make(app_options: dict[str, Any] | None = None, **overrides: Any) -> Ingress:
        app_options = app_options or {}
        s = settings_for(kafka_bootstrap, topic_prefix, redis_url, **overrides)
        producer = Producer(kafka_bootstrap, topic_prefix=topic_prefix, delivery_timeout_s=5)
        producers.append(producer)
        registry = CollectorRegistry()
        app = create_app(s, producer=producer, redis=redis_client, store=store, registry=registry, **app_options)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingress")
        clients.append(client)
        return Ingress(client, s, registry, kafka_bootstrap, topic_prefix, store)

    yield make
    for c in clients:
        await c.aclose()
    for p in producers:
        p.close(2)
    await store.close()


@pytest.fixture
async def ingress(make_ingress: MakeIngress) -> Ingress:
    made: Ingress = await make_ingress()
    return made
