"""'Are you open now?' in the tenant's own time zone, holidays included, and the schedule as Spanish text."""

from __future__ import annotations

from datetime import datetime, timedelta

from wapipe.tenants.models import DIAS, Tenant, TimeRange


def _local(tenant: Tenant, now: datetime) -> datetime:
    return now.astimezone(tenant.zone)


def is_open(tenant: Tenant, now: datetime) -> bool:
    local = _local(tenant, now)
    t = local.time()
    return any(r.start <= t < r.end for r in tenant.hours.for_date(local.date()))


def next_opening(tenant: Tenant, now: datetime, horizon_days: int = 14) -> datetime | None:
    """The next moment the business opens (local time), or None when closed for the whole horizon."""
    local = _local(tenant, now)
    for offset in range(horizon_days + 1):
        day = (local + timedelta(days=offset)).date()
        for r in sorted(tenant.hours.for_date(day), key=lambda r: r.start):
            start = datetime.combine(day, r.start, tzinfo=tenant.zone)
            if start > local:
                return start
    return None


def _ranges(ranges: list[TimeRange]) -> str:
    return " y ".join(r.label() for r in ranges) if ranges else "cerrado"


def schedule_text(tenant: Tenant) -> str:
    """'lunes a viernes 09:00-19:00; sábado 09:00-17:00; domingo 10:00-16:00; festivos 10:00-15:00'."""
    days = [_ranges(tenant.hours.for_weekday(i)) for i in range(7)]
    parts: list[str] = []
    i = 0
    while i < 7:
        j = i
        while j + 1 < 7 and days[j + 1] == days[i]:
            j += 1
        label = DIAS[i] if i == j else f"{DIAS[i]} y {DIAS[j]}" if j == i + 1 else f"{DIAS[i]} a {DIAS[j]}"
        parts.append(f"{label} {days[i]}")
        i = j + 1
    parts.append(f"festivos {_ranges(tenant.hours.on_holidays)}")
    return "; ".join(parts)


def when_text(tenant: Tenant, moment: datetime, now: datetime) -> str:
    """'hoy a las 09:00', 'mañana a las 10:00', 'el lunes a las 09:00'."""
    local_now = _local(tenant, now)
    delta = (moment.date() - local_now.date()).days
    day = "hoy" if delta == 0 else "mañana" if delta == 1 else f"el {DIAS[moment.weekday()]}"
    return f"{day} a las {moment:%H:%M}"
