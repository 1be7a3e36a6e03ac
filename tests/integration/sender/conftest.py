"""The sender against the simulator over HTTP, real Redis and a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas.envelope import conversation_key, derive_id
from schemas.events import Recipient, ReplyRequested, ReplyRequestedPayload, TemplateRef
from services.sender.app import build_media, build_sender
from services.sender.config import SenderSettings
from services.sender.graph import HttpGraph
from services.sender.handlers import Sender
from services.sender.ports import SendPolicy, StaticPolicies
from wapipe.media.download import new_client
from wapipe.objectstore.folder import FolderObjectStore
from wapipe.state.window import ServiceWindow
from wapipe.store import ConversationStore, open_store
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

PNID = "100000000000001"


@pytest.fixture
def sim() -> Iterator[BackgroundSimulator]:
    with BackgroundSimulator(SimState(ingress_url=None)) as s:
        yield s


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ConversationStore]:
    st = open_store(f"sqlite:///{tmp_path}/wapipe.db")
    await st.migrate()
    yield st
    await st.close()


def settings(sim: BackgroundSimulator, **over: Any) -> SenderSettings:
    base: dict[str, Any] = {"graph_api_url": sim.url, "backoff_base_s": 0.05, "backoff_max_s": 0.3,
                            "graph_timeout_s": 1.0, "pair_backoff_base_s": 1.1}
    return SenderSettings(**{**base, **over})


@pytest.fixture
async def make_sender(sim: BackgroundSimulator, redis_client: aioredis.Redis,
                      store: ConversationStore) -> AsyncIterator[Callable[..., Sender]]:
    graphs: list[HttpGraph] = []

    def make(template: bool = True, **over: Any) -> Sender:
        s = settings(sim, **over)
        graph = HttpGraph(s.graph_api_url, s.graph_api_version, s.meta_access_token.get_secret_value(), 1.0)
        graphs.append(graph)
        tpl = TemplateRef(name="seguimiento", language="es") if template else None
        policies = StaticPolicies(SendPolicy(window_template=tpl))
        return build_sender(s, redis=redis_client, store=store, graph=graph, registry=CollectorRegistry(),
                            policies=policies)

    yield make
    for g in graphs:
        await g.aclose()


def reply(user: str, text: str | None = "Hola, con gusto te ayudo.", *, n: int = 0, channel: str = "whatsapp",
          kind: str = "text", origin: str = "ai", **extra: Any) -> ReplyRequested:
    cid = f"wamid.in.{user}.{n}"
    return ReplyRequested(
        event_id=derive_id(cid, "test"), tenant=PNID, conversation=conversation_key(PNID, user), correlation_id=cid,
        payload=ReplyRequestedPayload(reply_id=derive_id(cid, "reply"), channel=channel,  # type: ignore[arg-type]
                                      to=Recipient(user_id=user) if channel == "api" else Recipient(wa_id=user),
                                      kind=kind, text=text,  # type: ignore[arg-type]
                                      in_reply_to=cid, origin=origin, **extra))


async def open_window(redis_client: aioredis.Redis, sim: BackgroundSimulator, user: str) -> None:
    await ServiceWindow(redis_client).touch(conversation_key(PNID, user), datetime.now(UTC))
    async with httpx.AsyncClient() as c:
        (await c.post(f"{sim.url}/_sim/window", json={"to": user})).raise_for_status()


async def sim_post(sim: BackgroundSimulator, path: str, body: dict[str, Any]) -> None:
    async with httpx.AsyncClient() as c:
        (await c.post(f"{sim.url}{path}", json=body)).raise_for_status()


@pytest.fixture
def objects(tmp_path: Path) -> FolderObjectStore:
    return FolderObjectStore(tmp_path / "media")


@pytest.fixture
async def media_sender(sim: BackgroundSimulator, redis_client: aioredis.Redis, store: ConversationStore,
                       objects: FolderObjectStore) -> AsyncIterator[Callable[[], Sender]]:
    s = settings(sim)
    graph = HttpGraph(s.graph_api_url, s.graph_api_version, s.meta_access_token.get_secret_value(), 5.0)
    downloads = new_client(10.0)

    def make() -> Sender:
        media = build_media(s, redis=redis_client, graph=graph, objects=objects, http=downloads)
        return build_sender(s, redis=redis_client, store=store, graph=graph, registry=CollectorRegistry(),
                            policies=StaticPolicies(SendPolicy()), media=media)

    yield make
    await graph.aclose()
    await downloads.aclose()


def sent(sim: BackgroundSimulator, user: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{sim.url}/_sim/messages", params={"to": user}).json()["messages"])
