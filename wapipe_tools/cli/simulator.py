"""`wapipe simulator`: Meta's Graph API and an OpenAI-compatible model on localhost (port 8090)."""

from __future__ import annotations

import typer

from wapipe.settings import CommonSettings, LLMSettings, MetaSettings, settings_or_exit
from wapipe_tools.cli.common import console, fail
from wapipe_tools.local.ports import LOCAL_PORTS


def simulator(
    port: int = typer.Option(LOCAL_PORTS.simulator, help="port to listen on"),
    host: str = typer.Option("127.0.0.1", help="interface to bind"),
    ingress_url: str = typer.Option(f"{LOCAL_PORTS.url('ingress')}/webhook",
                                    help="where inbound and status webhooks go (empty: none)"),
    enforce_window: bool = typer.Option(True, help="refuse free-form messages outside the 24 h window (131047)"),
    status_webhooks: bool = typer.Option(True, help="post sent/delivered/read statuses after each accepted send"),
) -> None:
    """Run the Graph API + OpenAI-compatible simulator (tokens and app secret from WAPIPE_* settings)."""
    from wapipe_tools.simulator.serve import NotDevMode, require_dev_mode, run
    from wapipe_tools.simulator.state import SimState

    try:
        require_dev_mode(settings_or_exit(CommonSettings, "the simulator"))
    except NotDevMode as exc:
        fail(str(exc))
    meta, llm = MetaSettings(), LLMSettings()
    state = SimState(access_token=meta.meta_access_token.get_secret_value(),
                     app_secret=meta.meta_app_secret.get_secret_value(),
                     llm_api_key=llm.openai_api_key.get_secret_value(), ingress_url=ingress_url or None,
                     enforce_window=enforce_window, status_webhooks=status_webhooks)
    console.print(f"simulator on http://{host}:{port} (Graph API, /v1/chat/completions, /_sim/*); "
                  f"webhooks -> {ingress_url or 'nowhere'}")
    run(state, host=host, port=port)
