"""Tenant HTTP tools over real HTTP: a local server plays the shop's API (and the simulator its orders API).

Success, a timeout, an error status, an answer over the size cap, a secret header, and the outbound guard's
refusals (production: https only, no loopback or private address, the tenant's hosts only).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from services.ai.http_tools import HttpTools
from services.ai.toolspec import ToolCall
from wapipe.tenants.tools import HttpTool, ToolHeader, ToolsSettings
from wapipe_tools.local.servers import free_port
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState


class ShopAPI:
    def __init__(self) -> None:
        self.port = free_port()
        self.seen: list[dict[str, Any]] = []
        app = FastAPI()

        @app.get("/orders/{oid}")
        async def order(oid: str, request: Request) -> JSONResponse:
            self.seen.append({"path": request.url.path, "query": dict(request.query_params),
                              "auth": request.headers.get("authorization")})
            return JSONResponse({"order_id": oid, "status": "enviado"})

        @app.post("/book")
        async def book(request: Request) -> JSONResponse:
            self.seen.append({"body": json.loads(await request.body())})
            return JSONResponse({"slots": ["10:00", "11:00"]})

        @app.get("/slow")
        async def slow() -> JSONResponse:
            await asyncio.sleep(30)
            return JSONResponse({})

        @app.get("/broken")
        async def broken() -> JSONResponse:
            return JSONResponse({"detail": "boom"}, status_code=500)

        @app.get("/huge")
        async def huge() -> PlainTextResponse:
            return PlainTextResponse("x" * 100_000)

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)


@pytest.fixture(scope="module")
def shop() -> Iterator[ShopAPI]:
    s = ShopAPI()
    s.thread.start()
    deadline = time.monotonic() + 30
    while not s.server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield s
    s.server.should_exit = True
    s.thread.join(5)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False) as c:
        yield c


def tool(url: str, **kw: Any) -> HttpTool:
    return HttpTool(name=kw.pop("name", "order_status"), description="estado de un pedido", url=url,
                    parameters={"type": "object", "properties": {"order_id": {"type": "string"}}}, **kw)


def settings(*tools: HttpTool, hosts: tuple[str, ...] = ("127.0.0.1",)) -> ToolsSettings:
    return ToolsSettings(allowed_hosts=list(hosts), http=list(tools))


def args(**kw: Any) -> ToolCall:
    return ToolCall("call_1", "order_status", json.dumps(kw))


async def test_a_get_tool_fills_the_path_sends_the_secret_header_and_returns_json(
        shop: ShopAPI, client: httpx.AsyncClient) -> None:
    t = tool("${shop}/orders/{order_id}",
             header=ToolHeader(name="Authorization", secret="shop_token", prefix="Bearer "))
    tools = HttpTools(client, dev=True, bases={"shop": f"http://127.0.0.1:{shop.port}"},
                      secrets={"shop_token": "tok-123"})
    res = await tools.run(t, settings(t), args(order_id="10 43", verbose="1"), 5.0)

    assert res.ok and res.count == 1
    assert json.loads(res.content) == {"order_id": "10 43", "status": "enviado"}
    assert shop.seen[-1] == {"path": "/orders/10 43", "query": {"verbose": "1"}, "auth": "Bearer tok-123"}


async def test_a_post_tool_sends_the_other_arguments_as_json(shop: ShopAPI, client: httpx.AsyncClient) -> None:
    t = tool(f"http://127.0.0.1:{shop.port}/book", name="book", method="POST")
    res = await HttpTools(client, dev=True).run(t, settings(t), args(day="lunes"), 5.0)
    assert res.ok and res.count == 2 and shop.seen[-1] == {"body": {"day": "lunes"}}


async def test_a_slow_tool_times_out_into_an_error_result(shop: ShopAPI, client: httpx.AsyncClient) -> None:
    t = tool(f"http://127.0.0.1:{shop.port}/slow")
    started = time.monotonic()
    res = await HttpTools(client, dev=True).run(t, settings(t), args(), 0.3)
    assert res.outcome == "timeout" and "error" in json.loads(res.content)
    assert time.monotonic() - started < 25  # ended by the timeout, not by the server's 30 s


async def test_an_error_status_and_an_oversized_answer_are_error_results(
        shop: ShopAPI, client: httpx.AsyncClient) -> None:
    tools = HttpTools(client, dev=True)
    broken = tool(f"http://127.0.0.1:{shop.port}/broken")
    huge = tool(f"http://127.0.0.1:{shop.port}/huge", max_response_bytes=4096)
    res = await tools.run(broken, settings(broken), args(), 5.0)
    assert (res.outcome, json.loads(res.content)) == ("error", {"error": "HTTP 500"})
    res = await tools.run(huge, settings(huge), args(), 5.0)
    assert res.outcome == "error" and "4096" in res.content


async def test_an_unset_secret_or_base_url_is_an_error_not_a_call(shop: ShopAPI, client: httpx.AsyncClient) -> None:
    with_header = tool(f"http://127.0.0.1:{shop.port}/orders/{{order_id}}",
                       header=ToolHeader(name="Authorization", secret="missing"))
    based = tool("${not_set}/orders/{order_id}")
    tools = HttpTools(client, dev=True)
    before = len(shop.seen)
    assert (await tools.run(with_header, settings(with_header), args(order_id="1"), 5.0)).outcome == "error"
    assert (await tools.run(based, settings(based), args(order_id="1"), 5.0)).outcome == "bad_arguments"
    assert (await tools.run(based, settings(based), args(), 5.0)).outcome == "bad_arguments"
    assert len(shop.seen) == before


async def _public(host: str, port: int) -> list[str]:
    return {"api.shop.co": ["93.184.215.14"], "evil.internal.co": ["10.0.0.7"],
            "metadata.shop.co": ["169.254.169.254"]}.get(host, ["127.0.0.1"])


@pytest.mark.parametrize(("url", "hosts", "reason"), [
    ("http://api.shop.co/orders/{order_id}", ("api.shop.co",), "scheme_not_allowed"),  # http outside dev
    ("https://127.0.0.1/orders/{order_id}", ("127.0.0.1",), "private_address"),  # loopback
    ("https://evil.internal.co/x", ("evil.internal.co",), "private_address"),  # resolves to a private address
    ("https://metadata.shop.co/latest", ("metadata.shop.co",), "private_address"),  # link-local metadata service
    ("https://[::1]/x", ("::1",), "private_address"),
    ("https://other.co/x", ("api.shop.co",), "host_not_allowed"),  # not the tenant's host
    ("https://api.shop.co.evil.co/x", ("api.shop.co",), "host_not_allowed"),
])
async def test_the_outbound_guard_refuses_a_tool_turned_against_the_network(
        client: httpx.AsyncClient, url: str, hosts: tuple[str, ...], reason: str) -> None:
    t = tool(url)
    res = await HttpTools(client, dev=False, resolver=_public).run(t, settings(t, hosts=hosts),
                                                                         args(order_id="1"), 5.0)
    assert res.outcome == "refused" and reason in res.content


async def test_the_simulators_orders_api_answers_the_demo_tool(client: httpx.AsyncClient) -> None:
    with BackgroundSimulator(SimState(ingress_url=None, status_webhooks=False)) as sim:
        t = tool("${orders_api}/orders/{order_id}",
                 header=ToolHeader(name="Authorization", secret="orders_api_token", prefix="Bearer "))
        tools = HttpTools(client, dev=True, bases={"orders_api": f"{sim.url}/_sim"},
                          secrets={"orders_api_token": "dev-orders-token"})
        found = await tools.run(t, settings(t), args(order_id="1043"), 5.0)
        missing = await tools.run(t, settings(t), args(order_id="99"), 5.0)
    assert found.ok and json.loads(found.content)["order_id"] == "1043" and found.count == 1
    assert missing.ok and missing.count == 0 and json.loads(missing.content) == {"found": False}
