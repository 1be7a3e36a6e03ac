"""The console's pages and actions as an operator's browser drives them (httpx, cookies kept by the client):
signed-out requests go to sign-in, a POST needs its CSRF token, an agent sees only their own tenants, a locked
account stays locked, and take over / reply / note / release act through the operator rules with the operator's
name on the audit and on the reply (a ReplyRequested on wa.outbound.v1)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from schemas.envelope import conversation_key
from schemas.events import ReplyRequested
from schemas.topics import OUTBOUND
from services.console.inbox import InboxChange
from services.console.session import COOKIE
from services.console.store_redis import LISTED
from tests.integration.console.conftest import (
    CONV,
    CUSTOMER,
    OTHER_SHOP,
    PASSWORDS,
    REF,
    SHOP,
    Console,
    csrf_of,
)
from wapipe.access import Scope
from wapipe.accounts import with_password
from wapipe.state.shadow import ShadowMode


@pytest.mark.parametrize("method, path", [("GET", "/queue"), ("GET", "/conversations"), ("GET", f"/c/{REF}"),
                                          ("GET", "/events"), ("POST", f"/c/{REF}/take"),
                                          ("POST", f"/c/{REF}/reply"), ("GET", "/")])
async def test_signed_out_requests_go_to_the_sign_in_page(console: Console, method: str, path: str) -> None:
    async with console.client() as http:
        r = await http.request(method, path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/"), r.text
        http.cookies.set(COOKIE, "eyJuIjoiYW5hIn0.bm90LXNpZ25lZA")  # {"n":"ana"}, not signed by the console
        assert (await http.request(method, path)).status_code == 303
        login = await http.get("/login")
        assert login.status_code == 200 and 'name="password"' in login.text and "Iniciar sesión" in login.text


async def test_sign_in_queue_take_over_reply_note_and_release(console: Console) -> None:
    await console.customer_asks_for_a_person()
    async with console.client() as http:
        signed = await console.sign_in(http, "luis")
        assert signed.status_code == 303 and signed.headers["location"] == "/queue"
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # dev: plain http

        queue = await http.get("/queue")
        assert queue.status_code == 200
        assert "<title>(1) En espera" in queue.text and "Marta Gómez" in queue.text and "…6543" in queue.text
        assert "quiero hablar con un asesor" in queue.text and "humano" in queue.text
        assert CUSTOMER not in queue.text  # never the whole number

        page = await http.get(f"/c/{REF}")
        assert page.status_code == 200 and "quiero hablar con un asesor" in page.text
        token = csrf_of(page.text)
        assert (await http.post(f"/c/{REF}/take", data={"csrf": token})).status_code == 303
        assert "(0) En espera" in (await http.get("/queue")).text
        page = await http.get(f"/c/{REF}")
        assert "Atendida por luis" in page.text and "¡Hola! Soy del equipo" in page.text  # a quick reply

        r = await http.post(f"/c/{REF}/reply", data={"csrf": token, "text": "Hola Marta, soy Luis."})
        assert r.status_code == 303
        [emit] = console.published.emits
        assert emit.topic == OUTBOUND and isinstance(emit.event, ReplyRequested)
        assert emit.event.conversation == CONV and emit.event.payload.text == "Hola Marta, soy Luis."
        assert emit.event.payload.origin == "operator:luis" and emit.event.payload.to.wa_id == CUSTOMER

        assert (await http.post(f"/c/{REF}/note", data={"csrf": token, "text": "cliente VIP"})).status_code == 303
        assert "cliente VIP" in (await http.get(f"/c/{REF}")).text
        assert (await http.post(f"/c/{REF}/release", data={"csrf": token})).status_code == 303
        assert not await ShadowMode(console.redis).is_active(CONV)

        out = await http.post("/logout", data={"csrf": token})
        assert out.status_code == 303
        assert (await http.get("/queue")).status_code == 303

    audit = {(h.action, h.actor) for h in await console.store.handoffs(SHOP, CUSTOMER)}
    assert {("taken", "operator:luis"), ("reply", "operator:luis"), ("note", "operator:luis"),
            ("released", "operator:luis")} <= audit
    events = [(e.name, e.action) for e in await console.store.operator_events()]
    assert ("luis", "signed_in") in events and ("luis", "signed_out") in events


async def test_a_post_without_its_csrf_token_is_refused_and_does_nothing(console: Console) -> None:
    await console.customer_asks_for_a_person()
    async with console.client() as http:
        await console.sign_in(http, "luis")
        for data in ({}, {"csrf": "not-the-token"}):
            r = await http.post(f"/c/{REF}/take", data=data)
            assert r.status_code == 403
        assert (await http.post(f"/c/{REF}/take", headers={"X-CSRF-Token": "wrong"})).status_code == 403
        r = await http.post(f"/c/{REF}/reply", data={"text": "hola"})
        assert r.status_code == 403
    assert console.published.emits == []
    assert [h.actor for h in await ShadowMode(console.redis).active()] == ["guardrails"]  # still waiting
    async with console.client() as http:  # the sign-in form has its own token
        r = await http.post("/login", data={"name": "luis", "password": PASSWORDS["luis"]})
        assert r.status_code == 403 and COOKIE not in r.headers.get("set-cookie", "")


async def test_an_agent_cannot_see_or_act_on_another_tenants_conversation(console: Console) -> None:
    await console.customer_asks_for_a_person()
    async with console.client() as http:
        await console.sign_in(http, "otra")  # an agent of another shop
        assert "Marta" not in (await http.get("/queue")).text
        assert "Marta" not in (await http.get("/conversations")).text
        page = await http.get(f"/c/{REF}")
        assert page.status_code == 404 and "Marta" not in page.text
        assert (await http.get(f"/c/{REF}/history")).status_code == 404
        token = csrf_of((await http.get("/queue")).text)
        assert (await http.post(f"/c/{REF}/take", data={"csrf": token})).status_code == 404
        assert (await http.post(f"/c/{REF}/reply", data={"csrf": token, "text": "x"})).status_code == 404
    assert console.published.emits == []
    assert [a.actor for a in await ShadowMode(console.redis).active()] == ["guardrails"]
    async with console.client() as http:  # the admin sees every tenant
        await console.sign_in(http, "ana")
        assert "Marta" in (await http.get("/conversations")).text
        assert (await http.get(f"/c/{REF}")).status_code == 200


async def test_a_locked_account_stays_locked_even_with_the_right_password(console: Console) -> None:
    async with console.client() as http:
        for _ in range(2):
            r = await console.sign_in(http, "luis", "no es la clave")
            assert r.status_code == 401 and "incorrectos" in r.text
        r = await console.sign_in(http, "luis", "tampoco es la clave")
        assert r.status_code == 429 and "bloqueada" in r.text
        for _ in range(2):
            r = await console.sign_in(http, "luis")  # the right password: still refused
            assert r.status_code == 429 and COOKIE not in r.headers.get("set-cookie", "")
        assert (await http.get("/queue")).status_code == 303
    ttl = await console.redis.ttl("wapipe:console:login:locked:name:luis")
    assert 0 < ttl <= 600
    actions = [e.action for e in await console.store.operator_events() if e.name == "luis"]
    assert actions.count("sign_in_refused") == 5 and actions.count("locked") == 1 and "signed_in" not in actions


async def test_a_password_reset_or_a_disabled_account_ends_its_sessions(console: Console) -> None:
    async with console.client() as http:
        await console.sign_in(http, "luis")
        assert (await http.get("/queue")).status_code == 200
        account = await console.store.operator_account("luis")
        assert account is not None
        await console.store.put_operator_account(with_password(account, "una clave nueva 2026"))
        assert (await http.get("/queue")).status_code == 303
        assert (await console.sign_in(http, "luis", "una clave nueva 2026")).status_code == 303
        assert (await http.get("/queue")).status_code == 200
        account = await console.store.operator_account("luis")
        assert account is not None
        await console.store.put_operator_account(replace(account, disabled_at=account.password_set_at))
        assert (await http.get("/queue")).status_code == 303
        assert (await console.sign_in(http, "luis", "una clave nueva 2026")).status_code == 401


async def test_conversations_filter_by_state_and_search_by_name_or_last_digits(console: Console) -> None:
    await console.customer_asks_for_a_person()
    async with console.client() as http:
        await console.sign_in(http, "luis")
        assert "Marta" in (await http.get("/conversations", params={"state": "waiting"})).text
        assert "Marta" not in (await http.get("/conversations", params={"state": "bot"})).text
        assert "Marta" in (await http.get("/conversations", params={"q": "6543"})).text
        assert "Marta" in (await http.get("/conversations", params={"q": "marta"})).text
        assert "Marta" not in (await http.get("/conversations", params={"q": "1111"})).text
        english = await http.get("/conversations", params={"lang": "en"})
        assert "Conversations" in english.text and "Sign out" in english.text
        assert "Sign out" in (await http.get("/queue")).text  # the choice is kept


async def test_a_small_shops_conversation_is_listed_however_busy_the_other_shops_are(console: Console) -> None:
    """The busy shop's conversations are all newer than the small shop's one and more than a page holds: the
    small shop's agent still sees theirs (their list reads their own tenant's index), and the admin's list, of
    every tenant, is the newest ones."""
    await console.customer_asks_for_a_person()  # the small shop's one conversation, the oldest
    later = datetime.now(UTC).timestamp() + 60
    for i in range(LISTED + 5):
        conv = conversation_key(OTHER_SHOP, f"5730{i:08d}")
        await console.deps.inbox.apply(InboxChange(OTHER_SHOP, conv, "message", later + i, "customer", "hola",
                                                   f"Cliente {i}", f"wamid.BUSY{i}"))
    async with console.client() as http:
        await console.sign_in(http, "luis")
        page = (await http.get("/conversations")).text
        assert "Marta" in page and "Cliente" not in page
        await console.sign_in(http, "otra")
        page = (await http.get("/conversations")).text
        assert "Marta" not in page and f"Cliente {LISTED + 4}<" in page
    rows = await console.deps.views.conversations(Scope.admin())
    assert len(rows) == LISTED and REF not in {r.ref for r in rows}
    assert rows[0].profile_name == f"Cliente {LISTED + 4}"
