"""The operator API's privacy routes on the real Redis and a SQLite store: export, erase, audit, refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from schemas.envelope import conversation_key
from tests.integration.notifier.conftest import TOKEN, Running
from tests.unit.notifier.events import TENANT
from wapipe.access import new_token
from wapipe.state.consent import Consent
from wapipe.state.window import ServiceWindow
from wapipe.store import ConsentChange, Turn

AUTH = {"Authorization": f"Bearer {TOKEN}"}
USER = "573007770000"


def _client(running: Running) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=running.app.api), base_url="http://operator")


async def test_export_then_erase_through_the_operator_api(notifier: Running, redis_client) -> None:  # type: ignore[no-untyped-def]
    store, now, conv = notifier.store, datetime.now(UTC), conversation_key(TENANT, USER)
    await store.append_turn(Turn(TENANT, USER, now, "customer", "quiero darme de baja", ("wamid.API1",)))
    await Consent(redis_client, store).record(  # type: ignore[arg-type]
        ConsentChange(TENANT, USER, now, "opted_out", "keyword", "customer", "darme de baja", "wamid.API1"))
    await ServiceWindow(redis_client).touch(conv, now)

    async with _client(notifier) as http:
        exported = await http.get(f"/privacy/demo/{USER}", headers=AUTH, params={"operator": "laura"})
        assert exported.status_code == 200
        doc = exported.json()
        assert doc["turns"][0]["text"] == "quiero darme de baja" and doc["consent"]["status"] == "opted_out"
        assert {r["key"] for r in doc["redis"]} == {f"wapipe:window:{conv}", f"wapipe:consent:{conv}"}

        erased = await http.delete(f"/privacy/{TENANT}/{USER}", headers=AUTH, params={"operator": "laura"})
        assert erased.status_code == 200 and erased.json()["counts"]["turns"] == 1
        assert USER not in erased.text
        again = await http.delete(f"/privacy/{TENANT}/{USER}", headers=AUTH)
        assert again.status_code == 200 and set(again.json()["counts"].values()) == {0}
        assert (await http.get(f"/privacy/demo/{USER}", headers=AUTH)).json()["kept"]["redis_keys"] == 0

        assert (await http.get(f"/privacy/demo/{USER}")).status_code == 401
        assert (await http.get(f"/privacy/nope/{USER}", headers=AUTH)).status_code == 404
        bad = await http.delete("/privacy/demo/57300%2A", headers=AUTH)
        assert bad.status_code == 400 and "customer id" in bad.json()["detail"]
        assert (await http.get(f"/privacy/demo/{USER}", headers=AUTH, params={"operator": "a b"})).status_code == 422

    audit = await store.privacy_audit(TENANT)  # type: ignore[attr-defined]
    assert [(a.action, a.actor) for a in audit][:2] == [("export", "operator:laura"), ("erase", "operator:laura")]


async def test_only_a_token_for_every_tenant_may_export_or_erase(notifier: Running) -> None:
    store = notifier.store
    await store.append_turn(Turn(TENANT, USER, datetime.now(UTC), "customer", "hola", ("wamid.API2",)))
    (laura_token, laura_record), (dpo_token, dpo_record) = new_token("laura", [TENANT]), new_token("dpo", ["*"])
    for record in (laura_record, dpo_record):
        await store.add_operator_token(record)  # type: ignore[attr-defined]
    laura, dpo = {"Authorization": f"Bearer {laura_token}"}, {"Authorization": f"Bearer {dpo_token}"}

    async with _client(notifier) as http:
        for method in ("GET", "DELETE"):
            r = await http.request(method, f"/privacy/demo/{USER}", headers=laura)
            assert r.status_code == 403 and "every tenant" in r.json()["detail"]
        assert len(await store.last_turns(TENANT, USER)) == 1  # nothing was erased
        impostor = await http.delete(f"/privacy/demo/{USER}", headers=dpo, params={"operator": "someone"})
        assert impostor.status_code == 403  # an operator token acts under its own name only
        assert (await http.delete(f"/privacy/demo/{USER}", headers=dpo)).status_code == 200

    assert await store.last_turns(TENANT, USER) == []
    assert [(a.action, a.actor) for a in await store.privacy_audit(TENANT)] == [  # type: ignore[attr-defined]
        ("erase", "operator:dpo")]
