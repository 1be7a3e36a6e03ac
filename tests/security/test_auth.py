"""Bearer tokens on the operator API (the admin token and operator tokens) and /api/chat: compared in constant time,
and no route answers without one.

Routes are enumerated from the apps, so a route added later is covered without touching this file.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import yaml
from fastapi import FastAPI
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry

from services.ingress.app import create_app
from services.ingress.config import IngressSettings
from services.notifier.api import create_api
from services.notifier.config import NotifierSettings
from services.notifier.operator import Operators
from tests.security.conftest import API_KEY, ingress_settings
from wapipe.access import new_token
from wapipe.privacy import Privacy
from wapipe.store import Store, open_store

ADMIN = "security-suite-admin-token-0c4d9e"
ROOT = Path(__file__).resolve().parents[2]
# Ingress routes that are reachable without a bearer token, and what guards them instead.
INGRESS_OPEN = {"/healthz": "nothing to protect", "/readyz": "nothing to protect",
                "/webhook": "Meta's signature (POST) / verify token (GET)"}


def wrong_credentials(token: str) -> list[dict[str, str]]:
    same_length = "".join("a" if c != "a" else "b" for c in token)
    return [{}, {"Authorization": ""}, {"Authorization": "Bearer"}, {"Authorization": "Bearer "},
            {"Authorization": token}, {"Authorization": f"Basic {token}"}, {"Authorization": f"Bearer {same_length}"},
            {"Authorization": f"Bearer {token[:-1]}"}, {"Authorization": f"Bearer {token}x"},
            {"Authorization": f"Bearer {token.upper()}"}, {"Authorization": f"Token {token}"}]


def _walk(routes: list[Any], prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for r in routes:
        included = getattr(r, "original_router", None)  # FastAPI keeps included routers as nested nodes
        if included is not None:
            ctx = getattr(r, "include_context", None)
            out += _walk(included.routes, prefix + (getattr(ctx, "prefix", "") or ""))
        elif isinstance(r, APIRoute):
            out += [(m, prefix + r.path) for m in sorted(r.methods or ())]
    return out


def concrete_paths(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app routes, path parameters filled in."""
    found = _walk(app.routes)
    documented = {p for p in (app.openapi().get("paths") or {})}
    assert documented <= {p for _, p in found}  # the walk sees at least what the OpenAPI document lists
    return [(m, re.sub(r"\{[^}]+\}", "100000000000001:573001112233", p)) for m, p in found]


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def token_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = open_store(f"sqlite:///{tmp_path}/auth.db", purge_interval=0)
    await store.migrate()
    yield store
    await store.close()


@pytest.fixture
def operator_api(token_store: Store) -> FastAPI:
    # Refusals happen in a middleware before any route runs, so no operator backend is needed to test them.
    return create_api(cast(Operators, object()), ADMIN, token_store,
                      privacy=(cast(Privacy, object()), cast(Any, object())))


@pytest.fixture
def compare_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts calls of hmac.compare_digest (the real one still answers)."""
    calls: list[int] = []
    real: Callable[[Any, Any], bool] = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append(1)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    return calls


async def test_every_operator_route_refuses_every_wrong_credential(operator_api: FastAPI) -> None:
    routes = concrete_paths(operator_api)
    assert {p for _, p in routes} >= {"/handoffs", "/handoffs/100000000000001:573001112233/release",
                                      "/privacy/100000000000001:573001112233/100000000000001:573001112233"}
    async with client(operator_api) as c:
        for method, path in [*routes, ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/metrics"),
                             ("DELETE", "/handoffs"), ("GET", "/no-such-route")]:
            for headers in wrong_credentials(ADMIN):
                r = await c.request(method, path, headers=headers, json={"text": "hola"})
                assert r.status_code == 401, (method, path, headers, r.status_code)
                assert r.headers["www-authenticate"] == "Bearer" and ADMIN not in r.text
        # the right token gets past the check (an unknown route is then a plain 404)
        assert (await c.get("/no-such-route", headers={"Authorization": f"Bearer {ADMIN}"})).status_code == 404


async def test_every_operator_route_refuses_wrong_and_revoked_operator_tokens(operator_api: FastAPI,
                                                                            token_store: Store) -> None:
    token, record = new_token("ana", ["100000000000001"])
    revoked, revoked_record = new_token("luis", ["*"])
    for r in (record, revoked_record):
        await token_store.add_operator_token(r)
    await token_store.revoke_operator_token(revoked_record.token_id, datetime.now(UTC))
    async with client(operator_api) as c:
        for method, path in [*concrete_paths(operator_api), ("GET", "/no-such-route")]:
            for headers in [*wrong_credentials(token), {"Authorization": f"Bearer {record.token_hash}"},
                            {"Authorization": f"Bearer {revoked}"}]:
                r = await c.request(method, path, headers=headers, json={"text": "hola"})
                assert r.status_code == 401, (method, path, headers, r.status_code)
                assert token not in r.text and r.headers["www-authenticate"] == "Bearer"
        assert "revoked" in (await c.get("/handoffs", headers={"Authorization": f"Bearer {revoked}"})).text
        assert (await c.get("/no-such-route", headers={"Authorization": f"Bearer {token}"})).status_code == 404


async def test_operator_token_is_compared_in_constant_time(operator_api: FastAPI, compare_calls: list[int]) -> None:
    async with client(operator_api) as c:
        r = await c.get("/handoffs", headers={"Authorization": "Bearer " + "x" * len(ADMIN)})
    assert r.status_code == 401 and compare_calls  # equal length, wrong: decided by hmac.compare_digest


def test_operator_api_refuses_to_start_without_a_token() -> None:
    with pytest.raises(ValueError, match="WAPIPE_ADMIN_TOKEN"):
        create_api(cast(Operators, object()), "", cast(Store, object()))


class NoBroker:
    """Readiness for an app with no broker behind it: these checks never reach a route that publishes."""

    async def ready(self) -> bool:
        return False


@pytest.fixture
def ingress_app() -> FastAPI:
    # No Kafka client at all: a real probe would keep dialling the dead address and print its refusals on stderr.
    return create_app(ingress_settings("127.0.0.1:1", "sec."), registry=CollectorRegistry(), probe=NoBroker())


async def test_every_ingress_route_is_open_by_decision_or_needs_the_bearer_key(ingress_app: FastAPI) -> None:
    routes = concrete_paths(ingress_app)
    assert ("POST", "/api/chat") in routes and ("POST", "/webhook") in routes
    async with client(ingress_app) as c:
        for method, path in routes:
            if path in INGRESS_OPEN:
                continue
            for headers in wrong_credentials(API_KEY):
                r = await c.request(method, path, headers=headers, json={"conversation_id": "c1", "text": "hola"})
                assert r.status_code == 401, (method, path, headers, r.status_code)
                assert API_KEY not in r.text
        unsigned = await c.post("/webhook", content=b'{"object":"whatsapp_business_account","entry":[]}')
        no_token = await c.get("/webhook", params={"hub.mode": "subscribe", "hub.challenge": "42"})
    assert (unsigned.status_code, no_token.status_code) == (401, 403)


async def test_api_chat_key_is_compared_in_constant_time(ingress_app: FastAPI, compare_calls: list[int]) -> None:
    async with client(ingress_app) as c:
        r = await c.post("/api/chat", json={"conversation_id": "c1", "text": "hola"},
                         headers={"Authorization": "Bearer " + "y" * len(API_KEY)})
    assert r.status_code == 401 and compare_calls


def test_metrics_and_operator_api_are_not_on_the_webhook_port(ingress_app: FastAPI, operator_api: FastAPI) -> None:
    ingress_paths = {p for _, p in concrete_paths(ingress_app)}
    assert "/webhook" in ingress_paths and "/metrics" not in ingress_paths  # metrics: WAPIPE_INGRESS_METRICS_PORT
    assert not any(p.startswith("/handoffs") for p in ingress_paths)
    assert not {"/metrics", "/healthz", "/readyz"} & {p for _, p in concrete_paths(operator_api)}
    i = IngressSettings(_env_file=None)
    n = NotifierSettings(_env_file=None)
    ports = (i.ingress_port, i.ingress_metrics_port, n.notifier_port, n.notifier_metrics_port)
    assert ports == (8080, 9101, 8081, 9105) and len(set(ports)) == 4


def test_only_the_webhook_is_published_by_the_cluster_ingress() -> None:
    doc = yaml.safe_load((ROOT / "deploy" / "k8s" / "base" / "webhook-ingress.yaml").read_text())
    paths = [(p["path"], p["pathType"]) for rule in doc["spec"]["rules"] for p in rule["http"]["paths"]]
    assert paths == [("/webhook", "Exact")]
