"""Debian's `prometheus` server beside a benchmark stack: scrapes every process that serves /metrics, with the
repository's recording and alert rules loaded, and answers PromQL over its HTTP API."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules"


class PrometheusMissing(RuntimeError):
    """No `prometheus` binary on PATH (Debian's package `prometheus`; `make bench` installs it)."""


@dataclass
class Prometheus:
    """One server process; `targets` maps a service name to its host:port of /metrics."""

    state: Path
    port: int
    targets: dict[str, str]
    scrape_interval_s: float = 1.0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> dict[str, Any]:
        """The compose configuration's scrape job (same job name, labels and honor_labels), at bench pace."""
        every = f"{int(self.scrape_interval_s * 1000)}ms"
        return {
            "global": {"scrape_interval": every, "evaluation_interval": every,
                       "external_labels": {"cluster": "bench"}},
            "rule_files": [str(p) for p in sorted(RULES.glob("*.yml"))],
            "scrape_configs": [{
                "job_name": "wapipe", "metrics_path": "/metrics", "honor_labels": True,
                "static_configs": [{"targets": [t], "labels": {"service": name}} for name, t in self.targets.items()],
            }],
        }

    def start(self, timeout_s: float = 60.0) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            raise PrometheusMissing("prometheus not found: install Debian's package prometheus (make sysdeps)")
        self.state.mkdir(parents=True, exist_ok=True)
        conf = self.state / "prometheus.yml"
        conf.write_text(yaml.safe_dump(self.config(), sort_keys=False))
        log = (self.state / "prometheus.log").open("ab")
        self.process = subprocess.Popen(
            [binary, f"--config.file={conf}", f"--storage.tsdb.path={self.state / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=1d"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited ({self.process.returncode}); see {self.state}/prometheus.log")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"prometheus not ready in {timeout_s:.0f}s")

    def targets_up(self) -> dict[str, bool]:
        r = httpx.get(f"{self.url}/api/v1/targets", timeout=10)
        r.raise_for_status()
        return {t["labels"].get("service", t["scrapeUrl"]): t["health"] == "up"
                for t in r.json()["data"]["activeTargets"]}

    def query_range(self, expr: str, start: float, end: float, step_s: float) -> list[dict[str, Any]]:
        """The matrix of `expr` over [start, end]; raises QueryFailed with Prometheus's error text."""
        r = httpx.post(f"{self.url}/api/v1/query_range",
                       data={"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step_s:g}"},
                       timeout=60)
        body = r.json()
        if r.status_code != 200 or body.get("status") != "success":
            raise QueryFailed(f"{body.get('errorType', r.status_code)}: {body.get('error', r.text[:200])}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class QueryFailed(RuntimeError):
    """Prometheus refused or could not evaluate a query (bad syntax, unknown function, ...)."""
