"""Entry point of the `wapipe` console script; each command group lives in its own module."""

from __future__ import annotations

import typer

from wapipe_tools.cli import accounts as accounts_cli
from wapipe_tools.cli import catalog as catalog_cli
from wapipe_tools.cli import deploy as deploy_cli
from wapipe_tools.cli import dlq as dlq_cli
from wapipe_tools.cli import operators as operators_cli
from wapipe_tools.cli import privacy as privacy_cli
from wapipe_tools.cli import replay as replay_cli
from wapipe_tools.cli import schemas as schemas_cli
from wapipe_tools.cli import store as store_cli
from wapipe_tools.cli import topics
from wapipe_tools.cli.chat import chat
from wapipe_tools.cli.classify import classify as classify_cmd
from wapipe_tools.cli.down import down
from wapipe_tools.cli.gonogo import go_no_go
from wapipe_tools.cli.reprocess import reprocess
from wapipe_tools.cli.run import run as run_cmd
from wapipe_tools.cli.simulator import simulator
from wapipe_tools.cli.up import up

app = typer.Typer(
    help="wapipe: AI customer-service agents for the WhatsApp Business Cloud API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(topics.app, name="topics")
app.add_typer(schemas_cli.app, name="schemas")
app.add_typer(deploy_cli.app, name="deploy")
app.add_typer(store_cli.app, name="store")
accounts_cli.register(operators_cli.app)
app.add_typer(operators_cli.app, name="operators")
app.add_typer(privacy_cli.app, name="privacy")
app.add_typer(catalog_cli.app, name="catalog")
app.command("simulator")(simulator)
app.command("run")(run_cmd)
app.command("up")(up)
app.command("down")(down)
app.command("classify")(classify_cmd)
app.add_typer(replay_cli.app, name="replay")
app.add_typer(dlq_cli.app, name="dlq")
app.command("reprocess")(reprocess)
app.command("chat")(chat)
app.command("go-no-go")(go_no_go)


if __name__ == "__main__":
    app()
