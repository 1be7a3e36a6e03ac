"""Operator tokens scoped to tenants, over HTTP against the real Redis, broker and a SQLite store, with two tenants:
a token of tenant A cannot list, take over, reply to or release tenant B's conversations; nobody can take over a
number that never wrote; lists never hold a full number; the admin token still reaches everything; a revoked token
is refused; the audit names the operator and the credential."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from schemas.envelope import conversation_key
from services.notifier.app import NotifierApp, build_app
from services.notifier.config import NotifierSettings
from services.notifier.texts import ref_of
from tests.integration.notifier.conftest import TENANTS_DIR, TOKEN
from wapipe.access import new_token
from wapipe.runtime.producer import Producer
from wapipe.state.shadow import ShadowMode
from wapipe.state.window import ServiceWindow
from wapipe.store import Store, Turn, open_store
from wapipe.tenants import TenantRegistry

A, B = "100000000000001", "100000000000002"
ALICE, BRUNO, NEVER = "573001110001", "573002220002", "573009990009"  # customers of A and B; one never wrote
CONV_A, CONV_B = conversation_key(A, ALICE), conversation_key(B, BRUNO)
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Api:
    app: NotifierApp
    store: Store
    redis: aioredis.Redis
    http: httpx.AsyncClient

    async def token(self, name: str, *tenants: str) -> dict[str, str]:
        plain, record = new_token(name, tenants)
        await self.store.add_operator_token(record)
        return {"Authorization": f"Bearer {plain}"}

    async def customer_wrote(self, conv: str) -> None:
        await ServiceWindow(self.redis).touch(conv, datetime.now(UTC))  # what guardrails does on each message


@pytest.fixture
async def api(kafka_bootstrap: str, topic_prefix: str, group_id: str, redis_client: aioredis.Redis,
              tmp_path: Path) -> AsyncIterator[Api]:
    tenants_dir = tmp_path / "tenants"
    tenants_dir.mkdir()
    demo = (TENANTS_DIR / "demo.yaml").read_text()
    (tenants_dir / "a.yaml").write_text(demo)
    (tenants_dir / "b.yaml").write_text(demo.replace(f'phone_number_id: "{A}"', f'phone_number_id: "{B}"'))
    s = NotifierSettings(_env_file=None, kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix,
                         admin_token=SecretStr(TOKEN), tenants_dir=str(tenants_dir))
    store = open_store(f"sqlite:///{tmp_path}/scope.db", purge_interval=0)
    await store.migrate()
    producer = Producer(kafka_bootstrap, topic_prefix=topic_prefix)
    registry = TenantRegistry(tenants_dir)
    assert registry.get(A) is not None and registry.get(B) is not None
    app = build_app(s, redis=redis_client, store=store, producer=producer, tenants=registry,
                    registry=CollectorRegistry(), group_id=group_id)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app.api), base_url="http://operator") as http:
        try:
            yield Api(app, store, redis_client, http)
        finally:
            await app.dlq.close()
            producer.close()
            await store.close()


async def _handed_off(api: Api, *convs: str) -> None:
    for conv in convs:
        await api.customer_wrote(conv)
        await ShadowMode(api.redis).activate(conv, "humano", "guardrails")


async def test_a_token_of_tenant_a_never_reaches_tenant_b(api: Api) -> None:
    await _handed_off(api, CONV_A, CONV_B)
    ana = await api.token("ana", A)
    http = api.http

    listed = (await http.get("/handoffs", headers=ana)).json()["handoffs"]
    assert [(h["tenant"], h["ref"]) for h in listed] == [(A, ref_of(CONV_A))]
    r = await http.get("/handoffs", params={"tenant": B}, headers=ana)
    assert r.status_code == 403 and B in r.json()["detail"] and "ana" in r.json()["detail"]

    for path, body in [(f"/handoffs/{CONV_B}", {}), (f"/handoffs/{CONV_B}/reply", {"text": "hola"}),
                       (f"/handoffs/{CONV_B}/release", {})]:
        r = await http.post(path, json=body, headers=ana)
        assert r.status_code == 403, (path, r.status_code, r.text)
        assert f"may not act on tenant {B}" in r.json()["detail"]
    # By ref too (the admin's list made B's ref resolvable): an out-of-scope ref is answered like an unknown one.
    assert (await http.get("/handoffs", headers=ADMIN)).status_code == 200
    r = await http.post(f"/handoffs/{ref_of(CONV_B)}/release", headers=ana)
    assert r.status_code == 404 and BRUNO not in r.text
    assert await ShadowMode(api.redis).is_active(CONV_B)  # untouched

    # Tenant A's own conversation: take over, reply and release, by ref, as "ana".
    assert (await http.post(f"/handoffs/{ref_of(CONV_A)}", headers=ana)).json()["actor"] == "operator:ana"
    r = await http.post(f"/handoffs/{CONV_A}/reply", json={"text": "Hola, soy Ana"}, headers=ana)
    assert r.status_code == 202
    assert (await http.post(f"/handoffs/{CONV_A}/release", headers=ana)).status_code == 200

    # A token for both tenants reaches both.
    both = await api.token("bea", A, B)
    assert {h["tenant"] for h in (await http.get("/handoffs", headers=both)).json()["handoffs"]} == {B}
    assert (await http.post(f"/handoffs/{CONV_B}", headers=both)).status_code == 200


async def test_a_token_acts_only_under_its_own_name(api: Api) -> None:
    await _handed_off(api, CONV_A)
    ana = await api.token("ana", A)
    r = await api.http.post(f"/handoffs/{CONV_A}", json={"operator": "laura"}, headers=ana)
    assert r.status_code == 403 and "acts as 'ana'" in r.json()["detail"]
    assert (await api.http.post(f"/handoffs/{CONV_A}", json={"operator": "ana"}, headers=ana)).status_code == 200


async def test_a_number_that_never_wrote_cannot_be_taken_over(api: Api) -> None:
    never = conversation_key(A, NEVER)
    ana = await api.token("ana", A)
    for who in (ana, ADMIN):
        r = await api.http.post(f"/handoffs/{never}", headers=who)
        assert r.status_code == 404 and "has not written" in r.json()["detail"] and NEVER not in r.text
        r = await api.http.post(f"/handoffs/{never}/reply", json={"text": "promo"}, headers=who)
        assert r.status_code == 409
    assert not await ShadowMode(api.redis).is_active(never)
    assert await api.store.handoffs(A, NEVER) == []

    # Evidence that the customer wrote: an open 24 h window, or a message of theirs in the store.
    await api.customer_wrote(never)
    assert (await api.http.post(f"/handoffs/{never}", headers=ana)).status_code == 200
    stored = conversation_key(A, "573008880008")
    await api.store.append_turn(Turn(A, "573008880008", datetime.now(UTC), "assistant", "hola"))
    assert (await api.http.post(f"/handoffs/{stored}", headers=ana)).status_code == 404  # the bot's turn is not
    await api.store.append_turn(Turn(A, "573008880008", datetime.now(UTC), "customer", "quiero hablar"))
    assert (await api.http.post(f"/handoffs/{stored}", headers=ana)).status_code == 200


async def test_no_response_carries_a_full_number(api: Api) -> None:
    await _handed_off(api, CONV_A, CONV_B)
    ana = await api.token("ana", A)
    bodies = [(await api.http.get("/handoffs", headers=who)).text for who in (ADMIN, ana)]
    bodies.append((await api.http.post(f"/handoffs/{ref_of(CONV_A)}", headers=ana)).text)
    bodies.append((await api.http.post(f"/handoffs/{ref_of(CONV_A)}/reply", json={"text": "hola"},
                                       headers=ana)).text)
    bodies.append((await api.http.post(f"/handoffs/{ref_of(CONV_A)}/release", headers=ana)).text)
    admin_list = json.loads(bodies[0])["handoffs"]
    assert {h["customer"] for h in admin_list} == {"…0001", "…0002"}
    for body in bodies:
        assert ALICE not in body and BRUNO not in body, body


async def test_the_admin_token_reaches_every_tenant_and_the_audit_names_who_acted(api: Api) -> None:
    await _handed_off(api, CONV_A, CONV_B)
    ana = await api.token("ana", A)
    listed = (await api.http.get("/handoffs", headers=ADMIN)).json()["handoffs"]
    assert {h["tenant"] for h in listed} == {A, B}
    assert (await api.http.post(f"/handoffs/{CONV_B}", json={"operator": "soporte"}, headers=ADMIN)).status_code == 200
    assert (await api.http.post(f"/handoffs/{CONV_B}/release", headers=ADMIN)).status_code == 200
    assert (await api.http.post(f"/handoffs/{CONV_A}/reply", json={"text": "hola"}, headers=ana)).status_code == 202

    token_id = (await api.store.operator_tokens())[0].token_id
    audit_b = [(e.action, e.actor, e.reason) for e in await api.store.handoffs(B, BRUNO)]
    assert audit_b == [("taken", "operator:soporte", "admin token"), ("released", "operator:admin", "admin token")]
    audit_a = [(e.action, e.actor, e.reason, e.detail) for e in await api.store.handoffs(A, ALICE)]
    assert audit_a == [("reply", "operator:ana", f"token {token_id}", "hola")]


async def test_a_revoked_token_is_refused(api: Api) -> None:
    await _handed_off(api, CONV_A)
    plain, record = new_token("ana", [A])
    await api.store.add_operator_token(record)
    ana = {"Authorization": f"Bearer {plain}"}
    assert (await api.http.get("/handoffs", headers=ana)).status_code == 200
    await api.store.revoke_operator_token(record.token_id, datetime.now(UTC))
    for method, path in [("GET", "/handoffs"), ("POST", f"/handoffs/{CONV_A}"),
                         ("POST", f"/handoffs/{CONV_A}/release")]:
        r = await api.http.request(method, path, headers=ana)
        assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert await ShadowMode(api.redis).is_active(CONV_A)
    assert (await api.http.get("/handoffs", headers=ADMIN)).status_code == 200
