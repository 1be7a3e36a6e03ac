"""`wapipe deploy render|topics-k8s`: files in deploy/ that are derived from code."""

from __future__ import annotations

from pathlib import Path

import typer

from wapipe_tools.cli.common import console, fail
from wapipe_tools.deploy import dump_all, kafka_topics, stale, write_all

app = typer.Typer(help="Deployment files derived from the code (k8s topics, alert rules, tenants).",
                  no_args_is_help=True)

RootOpt = typer.Option(Path("."), "--root", help="repository root")


@app.command()
def render(root: Path = RootOpt,
           check: bool = typer.Option(False, "--check", help="only report drift; exit 1 if a file is stale")) -> None:
    """Rewrite deploy/k8s/base/{kafka-topics.yaml, prometheusrule.yaml, tenants/} from their sources."""
    if check:
        drift = stale(root)
        if drift:
            fail("stale generated files (run `wapipe deploy render`): " + ", ".join(map(str, drift)), code=1)
        console.print("generated deploy files are up to date")
        return
    for path in write_all(root):
        console.print(f"wrote {path}", highlight=False)


@app.command("topics-k8s")
def topics_k8s(
    cluster: str = typer.Option("wapipe", help="Strimzi Kafka cluster name (strimzi.io/cluster label)"),
    replicas: int = typer.Option(3, min=1, help="replication factor"),
    min_insync: int = typer.Option(2, min=1, help="min.insync.replicas"),
) -> None:
    """Print Strimzi KafkaTopics for every registry topic and DLQ (YAML on stdout)."""
    if min_insync > replicas:
        fail("--min-insync cannot exceed --replicas")
    typer.echo(dump_all(kafka_topics(cluster, replicas, min_insync), "schemas/topics.py"), nl=False)
