"""`wapipe go-no-go`: the release checklist against a running stack; exit 0 only on GO."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from wapipe.settings import AdminSettings, LLMSettings, MetaSettings
from wapipe_tools.cli.common import console
from wapipe_tools.local.checks import Target, run
from wapipe_tools.local.ports import LOCAL_PORTS

EXIT_NO_GO = 1


def _stack_state(state_dir: Path) -> dict[str, str]:
    path = state_dir / "stack.json"
    if not path.is_file():
        return {}
    doc = json.loads(path.read_text())
    return {"store_url": str(doc.get("store_url", "")), "logs": str(doc.get("logs", ""))}


def go_no_go(
    url: Annotated[str, typer.Option(help="ingress")] = LOCAL_PORTS.url("ingress"),
    sim_url: Annotated[str, typer.Option(help="simulator")] = LOCAL_PORTS.url("simulator"),
    admin_url: Annotated[str, typer.Option(help="notifier operator API")] = LOCAL_PORTS.url("notifier"),
    state_dir: Annotated[Path, typer.Option(help="the stack's state folder (store, logs)")] = Path(".wapipe"),
    store_url: Annotated[str | None, typer.Option(help="store to find traces in (default: the stack's)")] = None,
) -> None:
    """Health, webhook security, chat scenarios, rate limit, shadow mode, model fallback, traces, masked logs."""
    # A client of a dev stack (it drives the simulator): it signs with whatever secrets that stack was given and
    # protects nothing itself, so its settings are read as dev settings whatever WAPIPE_ENV says.
    meta, llm, admin = MetaSettings(env="dev"), LLMSettings(env="dev"), AdminSettings(env="dev")
    state = _stack_state(state_dir)
    target = Target(
        url=url.rstrip("/"), sim_url=sim_url.rstrip("/"), admin_url=admin_url.rstrip("/"),
        app_secret=meta.meta_app_secret.get_secret_value(), verify_token=meta.meta_verify_token.get_secret_value(),
        api_chat_key=os.environ.get("WAPIPE_API_CHAT_KEY", "dev-api-chat-key"),
        admin_token=admin.admin_token.get_secret_value(),
        store_url=store_url or state.get("store_url") or meta.store_url,
        logs=Path(state.get("logs") or state_dir / "logs"), model_configured=llm.llm_provider != "none")

    with console.status("running the checklist (about 30 s)"):
        results = run(target)
    table = Table("check", "result", "detail", "s", title="GO / NO-GO")
    for r in results:
        table.add_row(r.name, "[green]GO[/]" if r.ok else "[bold red]NO-GO[/]", r.detail, f"{r.seconds:.1f}")
    console.print(table)
    failed = [r.name for r in results if not r.ok]
    if failed:
        console.print(f"[bold red]NO-GO[/]: {', '.join(failed)}", highlight=False)
        raise typer.Exit(EXIT_NO_GO)
    console.print("[bold green]GO[/]")
