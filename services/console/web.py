"""The console's HTTP app: sign-in, the queue, conversations, one conversation and its actions, the operator's own
API tokens, the live stream and the static files (htmx vendored, nothing from a CDN). Every route but sign-in and
the static files needs a session (signed out: a redirect to /login); every POST needs the session's CSRF token (403
without it).

Actions go through `Operators` (the operator API's own rules: tenant scope, take over only what the customer
started, replies as ReplyRequested on wa.outbound.v1 with the operator's name, the handoff audit)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import FastAPI, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from services.console import live
from services.console.auth import Auth, Operator
from services.console.media import RedisMediaCards, media_response_headers, serve_type
from services.console.metrics import ConsoleMetrics
from services.console.notes import Notes
from services.console.session import COOKIE, CSRF_FIELD, CSRF_HEADER, csrf_ok
from services.console.store_redis import RedisInbox
from services.console.texts import Lang, language, words
from services.console.tokens import PersonalTokens
from services.console.views import Views
from services.notifier.operator import OperatorError, Operators, TenantLookup
from wapipe.objectstore.port import InvalidKey, ObjectStore, ObjectStoreUnavailable
from wapipe.runtime.http import NO_OTEL
from wapipe.runtime.producer import DeliveryFailed
from wapipe.tenants import Tenant

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
LOGIN_CSRF = "wapipe_console_login"
LANG_COOKIE = "wapipe_console_lang"
OPEN = ("/login", "/static/", "/favicon.ico")


class NotFoundPage(Exception):
    """An unknown conversation, or one of a tenant the operator may not see (the same answer for both)."""


@dataclass
class ConsoleDeps:
    auth: Auth
    views: Views
    inbox: RedisInbox
    operators: Operators
    notes: Notes
    tenants: TenantLookup
    metrics: ConsoleMetrics
    secure_cookies: bool
    tokens: PersonalTokens
    default_lang: Lang = "es"
    cards: RedisMediaCards | None = None
    objects: ObjectStore | None = None  # the media stage's object store, read only


def _safe_next(target: str | None) -> str:
    """Only a path of this site (never `//host` nor a URL) is followed after sign-in."""
    return target if target and target.startswith("/") and not target.startswith("//") else "/queue"


def create_console(d: ConsoleDeps) -> FastAPI:
    app = FastAPI(title="wapipe console", docs_url=None, redoc_url=None, openapi_url=None, telemetry=NO_OTEL)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def lang_of(request: Request) -> Lang:
        return language(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), d.default_lang)

    def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        lang = lang_of(request)
        op: Operator | None = getattr(request.state, "operator", None)
        response = templates.TemplateResponse(request, name, {
            "t": words(lang), "lang": lang, "op": op, "csrf": op.session.csrf if op else ctx.pop("csrf", ""),
            "path": request.url.path, **ctx}, status_code=status)
        if request.query_params.get("lang") in ("es", "en"):
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax",
                                secure=d.secure_cookies)
        return response

    @app.middleware("http")
    async def signed_in(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.operator = None
        if request.url.path.startswith(OPEN):
            return await call_next(request)
        op = await d.auth.operator(request.cookies.get(COOKIE))
        if op is None:
            target = "/login?next=" + quote(request.url.path, safe="/")
            if request.headers.get("hx-request"):
                return Response(status_code=401, headers={"HX-Redirect": target})
            return RedirectResponse(target, status_code=303)
        request.state.operator = op
        if request.method == "POST":
            presented = request.headers.get(CSRF_HEADER)
            if presented is None and request.headers.get("content-type", "").startswith(
                    "application/x-www-form-urlencoded"):
                # body(), not form(): the body is kept and handed on to the route, which parses its own fields.
                fields = parse_qs((await request.body()).decode(errors="replace"), max_num_fields=20)
                presented = (fields.get(CSRF_FIELD) or [""])[0]
            if not csrf_ok(op.session, presented):
                d.metrics.refused.labels("csrf").inc()
                return HTMLResponse(words(lang_of(request))["refused"], status_code=403)
        response = await call_next(request)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(OperatorError)
    async def refused(request: Request, exc: OperatorError) -> HTMLResponse:
        return render(request, "message.html", status=exc.status, message=str(exc))

    @app.exception_handler(DeliveryFailed)
    async def broker_down(request: Request, exc: DeliveryFailed) -> HTMLResponse:
        log.error("console: message not queued: %s", exc)
        return render(request, "message.html", status=503, message="the message could not be queued; try again")

    # -- sign-in -------------------------------------------------------------------------------------------------

    @app.get("/login")
    async def login_page(request: Request, next: str | None = None) -> HTMLResponse:
        # One token per browser: a second sign-in page (another tab, a favicon's redirect) keeps the first valid.
        token = request.cookies.get(LOGIN_CSRF) or secrets.token_urlsafe(24)
        if not 20 <= len(token) <= 64:
            token = secrets.token_urlsafe(24)
        response = render(request, "login.html", csrf=token, next=_safe_next(next), error=None)
        response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="lax", secure=d.secure_cookies, max_age=3600)
        return response

    @app.post("/login")
    async def login(request: Request, name: str = Form(max_length=200), password: str = Form(max_length=300),
                    csrf: str = Form(default="", max_length=200), next: str = Form(default="/queue")) -> Response:
        expected = request.cookies.get(LOGIN_CSRF, "")
        if not expected or not secrets.compare_digest(expected.encode(), csrf.encode()):
            d.metrics.refused.labels("csrf").inc()
            return HTMLResponse(words(lang_of(request))["refused"], status_code=403)
        address = request.client.host if request.client else "?"
        outcome, session = await d.auth.sign_in(name, password, address)
        if session is None:
            t = words(lang_of(request))
            status = 429 if outcome == "locked" else 401
            return render(request, "login.html", status=status, csrf=expected, next=_safe_next(next),
                          error=t["locked"] if outcome == "locked" else t["bad_login"])
        signed = RedirectResponse(_safe_next(next), status_code=303)
        signed.set_cookie(COOKIE, d.auth.sessions.encode(session), max_age=d.auth.sessions.ttl_s, httponly=True,
                          samesite="lax", secure=d.secure_cookies)
        signed.delete_cookie(LOGIN_CSRF)
        return signed

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await d.auth.sign_out(request.state.operator)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    # -- pages ---------------------------------------------------------------------------------------------------

    @app.get("/favicon.ico")
    async def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/")
    async def home() -> Response:
        return RedirectResponse("/queue", status_code=303)

    @app.get("/queue")
    async def queue(request: Request) -> HTMLResponse:
        rows = await d.views.queue(request.state.operator.scope)
        return render(request, "queue.html", rows=rows)

    @app.get("/queue/rows")
    async def queue_rows(request: Request) -> HTMLResponse:
        rows = await d.views.queue(request.state.operator.scope)
        return render(request, "_queue_rows.html", rows=rows)

    @app.get("/conversations")
    async def conversations(request: Request, state: str | None = None, q: str | None = None) -> HTMLResponse:
        rows = await d.views.conversations(request.state.operator.scope, state, q)
        return render(request, "conversations.html", rows=rows, state=state or "", q=q or "")

    @app.get("/conversations/rows")
    async def conversation_rows(request: Request, state: str | None = None, q: str | None = None) -> HTMLResponse:
        rows = await d.views.conversations(request.state.operator.scope, state, q)
        return render(request, "_conversation_rows.html", rows=rows)

    async def resolve(request: Request, ref: str) -> tuple[str, Tenant]:
        """The conversation of `ref` within the operator's scope; another tenant's answers like an unknown one."""
        conv = await d.inbox.resolve(ref) if len(ref) == 8 and ref.isalnum() else None
        op: Operator = request.state.operator
        if conv is None or not op.scope.allows(conv.split(":", 1)[0]):
            if conv is not None:
                d.metrics.refused.labels("scope").inc()
                log.warning("console: %s refused a conversation of another tenant", op.name)
            raise NotFoundPage()
        return await d.operators.resolve(conv, op.scope)

    @app.exception_handler(NotFoundPage)
    async def not_found(request: Request, exc: NotFoundPage) -> HTMLResponse:
        return render(request, "message.html", status=404, message=words(lang_of(request))["not_found"])

    @app.get("/c/{ref}")
    async def conversation(request: Request, ref: str) -> HTMLResponse:
        conv, tenant = await resolve(request, ref)
        view = await d.views.conversation(conv)
        await d.inbox.mark_read(conv)
        return render(request, "conversation.html", c=view, ref=ref, quick_replies=tenant.quick_replies,
                      business=tenant.business_name)

    @app.get("/c/{ref}/history")
    async def history(request: Request, ref: str) -> HTMLResponse:
        conv, tenant = await resolve(request, ref)
        view = await d.views.conversation(conv)
        return render(request, "_conversation_body.html", c=view, ref=ref, quick_replies=tenant.quick_replies)

    @app.get("/c/{ref}/media/{message_id:path}")  # a wamid is base64: it may hold "/" and "+"
    async def media(request: Request, ref: str, message_id: str) -> Response:
        """A customer's media bytes, for the conversation view's <img>/<audio> and download links: only within
        the operator's scope (another tenant's answers 404 like an unknown one), only the object the media stage
        stored for this message of this conversation."""
        conv, _ = await resolve(request, ref)
        card = await d.cards.get(conv, message_id[:200]) if d.cards is not None else None
        tenant = conv.split(":", 1)[0]
        if card is None or not card.servable or d.objects is None or not str(card.object_key).startswith(
                f"{tenant}/"):
            raise NotFoundPage()
        try:
            stored = await d.objects.get(str(card.object_key))
        except InvalidKey:
            raise NotFoundPage() from None
        except ObjectStoreUnavailable as e:
            log.error("console: object store unavailable: %s", e)
            return render(request, "message.html", status=503, message=words(lang_of(request))["media_down"])
        if stored is None:  # expired (30 days) or erased
            raise NotFoundPage()
        mime = serve_type(card, stored.content_type)
        return Response(stored.data, media_type=mime, headers=media_response_headers(card, mime))

    def back(ref: str) -> RedirectResponse:
        return RedirectResponse(f"/c/{ref}", status_code=303)

    @app.post("/c/{ref}/take")
    async def take(request: Request, ref: str) -> Response:
        conv, _ = await resolve(request, ref)
        await d.operators.take(conv, request.state.operator.scope)
        return back(ref)

    @app.post("/c/{ref}/reply")
    async def reply(request: Request, ref: str, text: str = Form(min_length=1, max_length=4096),
                    key: str = Form(default="", max_length=64)) -> Response:
        conv, _ = await resolve(request, ref)
        await d.operators.reply(conv, request.state.operator.scope, text, key or None)
        return back(ref)

    @app.post("/c/{ref}/release")
    async def release(request: Request, ref: str) -> Response:
        conv, _ = await resolve(request, ref)
        await d.operators.release(conv, request.state.operator.scope, None)
        return back(ref)

    @app.post("/c/{ref}/note")
    async def note(request: Request, ref: str, text: str = Form(min_length=1, max_length=2000)) -> Response:
        conv, _ = await resolve(request, ref)
        await d.notes.add(conv, request.state.operator.scope, text)
        return back(ref)

    # -- personal API tokens -------------------------------------------------------------------------------------

    @app.get("/tokens")
    async def tokens(request: Request) -> HTMLResponse:
        op: Operator = request.state.operator
        return render(request, "tokens.html", tokens=await d.tokens.mine(op.account), minted=None)

    @app.post("/tokens")
    async def mint_token(request: Request) -> HTMLResponse:
        op: Operator = request.state.operator
        plain, record = await d.tokens.mint(op.account)
        log.info("console: %s minted API token %s", op.name, record.token_id)
        return render(request, "tokens.html", status=201, tokens=await d.tokens.mine(op.account), minted=plain)

    @app.post("/tokens/{token_id}/revoke")
    async def revoke_token(request: Request, token_id: str) -> Response:
        op: Operator = request.state.operator
        if not await d.tokens.revoke(op.account, token_id[:64]):
            raise NotFoundPage()  # another operator's token answers like an unknown one
        return RedirectResponse("/tokens", status_code=303)

    @app.get("/events")
    async def events(request: Request) -> StreamingResponse:
        op: Operator = request.state.operator
        return StreamingResponse(live.stream(d.inbox.redis, op.scope, d.metrics, request.is_disconnected),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    return app
