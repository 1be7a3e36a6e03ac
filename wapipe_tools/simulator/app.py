"""The simulator's app factory: Meta's Graph API and an OpenAI-compatible model on one port (8090)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from wapipe_tools.simulator import control, embeddings, graph, llm, media_api, orders, speech
from wapipe_tools.simulator.state import SimState
from wapipe_tools.simulator.webhooks import StatusBatcher


def create_app(state: SimState | None = None) -> FastAPI:
    sim = state or SimState()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.http = httpx.AsyncClient(timeout=httpx.Timeout(5.0))
        app.state.statuses = StatusBatcher(app.state.http, sim)
        app.state.tasks = set()
        try:
            yield
        finally:
            for t in list(app.state.tasks):
                t.cancel()
            await asyncio.gather(*app.state.tasks, return_exceptions=True)
            await app.state.statuses.aclose()
            await app.state.http.aclose()

    app = FastAPI(title="wapipe simulator (Graph API + OpenAI-compatible)", lifespan=lifespan)
    app.state.sim = sim
    app.include_router(graph.router)
    app.include_router(control.router)
    app.include_router(llm.router)
    app.include_router(embeddings.router)
    app.include_router(speech.router)
    app.include_router(orders.router)
    app.include_router(media_api.router)  # last: its GET /{version}/{media_id} would shadow the fixed paths

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
