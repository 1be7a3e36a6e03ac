"""Observability under load: every query of every Grafana panel and every rule expression, evaluated against the
Prometheus that scraped the benchmark's stack.

A panel query passes when it returns at least one sample that is a number (not NaN) over the run, as a panel
that draws something; a rule expression passes when Prometheus evaluates it without error (an alert that does
not fire is empty, and that is fine).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.common.prometheus import ROOT, Prometheus, QueryFailed

DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
RULES = ROOT / "deploy" / "prometheus" / "rules"


@dataclass(frozen=True)
class Query:
    source: str  # "wapipe-sender.json: Graph API latency by kind [B]" or "wapipe.rules.yml: WapipeX"
    expr: str
    panel: bool  # a dashboard query must return data; a rule expression must only evaluate


@dataclass
class Report:
    evaluated: int = 0
    panel_queries: int = 0
    rule_expressions: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (source, why)

    @property
    def ok(self) -> bool:
        return not self.failures


def grafana_expr(expr: str, rate_interval: str) -> str:
    """A panel's query as Grafana sends it: `$__rate_interval` and the other range variables become
    `rate_interval`, a template variable (`$tenant`, "All") matches everything."""
    expr = re.sub(r"\$\{?__(rate_interval|interval|range)\}?", rate_interval, expr)
    return re.sub(r"\$\{?\w+\}?", ".*", expr)


def dashboard_queries(rate_interval: str, folder: Path = DASHBOARDS) -> list[Query]:
    out: list[Query] = []
    for path in sorted(folder.glob("*.json")):
        for panel in json.loads(path.read_text()).get("panels", []):
            for i, target in enumerate(panel.get("targets", [])):
                if target.get("expr"):
                    ref = target.get("refId") or chr(ord("A") + i)
                    out.append(Query(f"{path.name}: {panel.get('title', '?')} [{ref}]",
                                     grafana_expr(target["expr"], rate_interval), True))
    return out


def rule_queries(folder: Path = RULES) -> list[Query]:
    out: list[Query] = []
    for path in sorted(folder.glob("*.yml")):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            for rule in group.get("rules", []):
                name = rule.get("alert") or rule.get("record") or "?"
                out.append(Query(f"{path.name}: {name}", str(rule["expr"]), False))
    return out


def has_number(result: list[dict[str, Any]]) -> bool:
    return any(not math.isnan(float(v)) for series in result for _, v in series.get("values", []))


def evaluate(prom: Prometheus, start: float, end: float, step_s: float = 5.0,
             rate_interval: str = "15s") -> Report:
    """Evaluate every dashboard query and rule expression over [start, end] (unix seconds)."""
    report = Report()
    for q in (*dashboard_queries(rate_interval), *rule_queries()):
        report.evaluated += 1
        if q.panel:
            report.panel_queries += 1
        else:
            report.rule_expressions += 1
        try:
            result = prom.query_range(q.expr, start, end, step_s)
        except QueryFailed as exc:
            report.failures.append((q.source, f"does not evaluate: {exc}"))
            continue
        if q.panel and not has_number(result):
            report.failures.append((q.source, f"no data over the run: {q.expr}"))
    return report
