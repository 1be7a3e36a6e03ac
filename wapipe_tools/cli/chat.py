"""`wapipe chat`: talk to the local stack as a customer (signed webhooks through the simulator)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer

from wapipe.settings import CommonSettings
from wapipe_tools.cli.common import console, fail
from wapipe_tools.local.chat import ChatSession, Line, tenant_id
from wapipe_tools.local.ports import LOCAL_PORTS

REPLY_GRACE_S = 15.0
STYLE = {"typing": "[dim italic]escribiendo...[/]", "read": "[dim]✓✓ leído[/]"}


def render(line: Line) -> str:
    if line.kind in STYLE:
        return STYLE[line.kind]
    label = "bot" if line.kind == "text" else f"bot ({line.kind})"
    return f"[bold green]{label}:[/] {line.text}"


def _watch(session: ChatSession, stop: threading.Event, answered: list[int]) -> None:
    while not stop.wait(0.3):
        try:
            for line in session.poll():
                console.print(render(line), highlight=False)
                answered[0] += line.kind not in STYLE
        except httpx.HTTPError:
            console.print("[red]simulator unreachable[/]")
            stop.wait(2.0)


def chat(
    tenant: Annotated[str, typer.Option(help="tenant name (config/tenants/<name>.yaml) or phone_number_id")] = "demo",
    as_: Annotated[str, typer.Option("--as", help="the customer's WhatsApp number")] = "+573001234567",
    name: Annotated[str, typer.Option(help="the customer's profile name")] = "Cliente",
    sim_url: Annotated[str, typer.Option(help="the simulator")] = LOCAL_PORTS.url("simulator"),
) -> None:
    """Type as a customer; the bot's replies, typing indicators and handoff notices print as they arrive."""
    wa_id = as_.lstrip("+").replace(" ", "")
    if not wa_id.isdigit():
        fail(f"--as must be a phone number, got {as_!r}")
    try:
        pnid = tenant_id(tenant, Path(CommonSettings().tenants_dir))
    except ValueError as exc:
        fail(str(exc))
    client = httpx.Client(base_url=sim_url, timeout=10.0)
    session = ChatSession(client, wa_id, pnid, name)
    try:
        session.start()
    except httpx.HTTPError:
        fail(f"the simulator at {sim_url} is not answering; start the stack with `wapipe up`")
    console.print(f"chatting with tenant {pnid} as +{wa_id}; empty line or Ctrl-D to leave", highlight=False)
    stop = threading.Event()
    answered, sent = [0], 0
    watcher = threading.Thread(target=_watch, args=(session, stop, answered), daemon=True)
    watcher.start()
    try:
        while True:
            try:
                text = console.input("[bold cyan]tú>[/] ").strip()
            except EOFError:
                break
            if not text:
                break
            try:
                session.send(text)
                sent += 1
            except (httpx.HTTPError, RuntimeError) as exc:
                console.print(f"[red]not delivered:[/] {exc}")
        # Piped input ends at once: give the last message's answer a moment to arrive before leaving.
        deadline = time.monotonic() + REPLY_GRACE_S
        while answered[0] < sent and time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        watcher.join(2)
        client.close()
