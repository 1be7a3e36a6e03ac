"""The raw log's DLQ holds parts of bodies, not raw records: requeueing them onto the raw log is refused, with the
command that does the right thing."""

from __future__ import annotations

from typer.testing import CliRunner

from wapipe_tools.cli.main import app


def test_requeue_of_the_raw_logs_dlq_points_to_reprocess() -> None:
    result = CliRunner().invoke(app, ["dlq", "requeue", "wa.webhooks.raw.v1.dlq", "--bootstrap", "127.0.0.1:1"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "wapipe reprocess" in result.output
