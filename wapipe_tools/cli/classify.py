"""`wapipe classify --tenant demo "texto"`: the guardrails decision as JSON, without the stack running."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer

from services.guardrails.classify import classify as classify_text
from services.guardrails.consent import match_consent
from services.guardrails.route import decide_text
from wapipe.settings import CommonSettings
from wapipe.tenants import TenantConfigError, TenantRegistry
from wapipe_tools.cli.common import console, fail

AtOpt = typer.Option(None, "--at", help="pretend it is this time (ISO, default now) for the opening hours")


def classify(
    text: str = typer.Argument(..., help="the customer's message"),
    tenant: str = typer.Option("demo", "--tenant", "-t", help="tenant name (file stem) or phone_number_id"),
    tenants_dir: str | None = typer.Option(None, "--tenants-dir", help="default: WAPIPE_TENANTS_DIR"),
    at: datetime | None = AtOpt,
) -> None:
    """Print message_type, intent, route, the matched rule and the answer guardrails would give; `consent` is the
    opt-out / opt-in the message asks for (guardrails decides that first), or null."""
    directory = tenants_dir or CommonSettings().tenants_dir
    try:
        registry = TenantRegistry(directory, check_interval_s=3600)
    except TenantConfigError as exc:
        fail(str(exc))
    t = registry.by_name(tenant) or registry.get(tenant)
    if t is None:
        known = ", ".join(x.name for x in registry.all()) or "none"
        fail(f"unknown tenant {tenant!r} in {directory} (known: {known})")
    now = (at if at and at.tzinfo else (at.replace(tzinfo=t.zone) if at else datetime.now(UTC)))
    d = decide_text(text, t, now)
    consent = match_consent(text, t.consent)
    doc = {"tenant": t.name, "text": text, "normalized": classify_text(text, t).normalized, **d.as_dict(),
           "consent": {"status": consent.status, "keyword": consent.keyword} if consent else None}
    console.print(json.dumps(doc, ensure_ascii=False, indent=2), highlight=False, soft_wrap=True)
