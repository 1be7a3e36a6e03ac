"""`wapipe schemas export`: JSON Schemas per event and the AsyncAPI document, from the code."""

from __future__ import annotations

from pathlib import Path

import typer

from schemas.export import write
from wapipe_tools.cli.common import console

app = typer.Typer(help="Event contracts.", no_args_is_help=True)


@app.command()
def export(root: Path = typer.Option(Path("."), help="repository root to write into")) -> None:
    """Write schemas/json/<Event>.v<N>.json and docs/asyncapi.yaml."""
    for path in write(root):
        console.print(f"wrote {path}", highlight=False)
