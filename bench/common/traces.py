"""Per-stage latency from the traces the pipeline persists in the (SQLite) conversation store."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from pathlib import Path


def stage_durations(db: Path, correlation_ids: set[str]) -> dict[str, list[float]]:
    """stage -> durations (s) over the traces of these journeys (one trace per journey end)."""
    out: dict[str, list[float]] = defaultdict(list)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        for cid, body in con.execute("SELECT correlation_id, body FROM traces"):
            if cid not in correlation_ids:
                continue
            for stage, secs in (json.loads(body).get("stages") or {}).items():
                out[stage].append(float(secs))
    finally:
        con.close()
    return out


def outcomes(db: Path, correlation_ids: set[str]) -> dict[str, list[str]]:
    """correlation id -> the outcomes of its traces (sent, coalesced, duplicate, flood, ...)."""
    out: dict[str, list[str]] = defaultdict(list)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        for cid, outcome in con.execute("SELECT correlation_id, outcome FROM traces"):
            if cid in correlation_ids:
                out[cid].append(outcome)
    finally:
        con.close()
    return out
