"""The shape of one tenant's knowledge file (`config/tenants/<name>.yaml`), as validated pydantic models.

Every service reads the same file: guardrails (deterministic answers, routing rules), ai (system prompt, limits),
sender (template fallback, read/typing flags), notifier (internal numbers, relay).
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator

from wapipe.tenants.patterns import PatternError, compile_pattern
from wapipe.tenants.tools import ToolsSettings

Route = Literal["reply", "refuse", "clarify", "ai", "handoff", "ignore"]
Intent = Literal["saludo", "despedida", "agradecimiento", "horarios", "direccion", "ubicacion", "envios", "pagos",
                 "humano", "queja", "otro"]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DIAS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeRange(_Model):
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        m = _RANGE.match(text.strip())
        if not m:
            raise ValueError(f"{text!r} is not a range like '09:00-19:00'")
        end = time(23, 59, 59) if m.group(3) == "24" else time(int(m.group(3)), int(m.group(4)))
        start = time(int(m.group(1)), int(m.group(2)))
        if end <= start:
            raise ValueError(f"{text!r} ends before it starts")
        return cls(start=start, end=end)

    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _ranges(cls: type, value: object) -> object:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [TimeRange.parse(v) if isinstance(v, str) else v for v in value]
    return value


def _compile_all(cls: type, value: list[str], info: ValidationInfo) -> list[str]:
    """Refuse, naming the rule and the pattern, what RE2 cannot run (see `wapipe.tenants.patterns`)."""
    for p in value:
        try:
            compile_pattern(p)
        except PatternError as exc:
            raise ValueError(f"{cls.__name__.lower()} {info.data.get('id')!r}: pattern {p!r} refused: {exc}") from exc
    return value


class _Rule(_Model):
    """A tenant rule: an id and its `patterns`, kept compiled (RE2) next to their text."""

    id: str
    patterns: list[str] = Field(min_length=1)
    _compiled: tuple[Any, ...] = PrivateAttr(default=())
    _compiles = field_validator("patterns")(_compile_all)

    def model_post_init(self, context: Any) -> None:
        self._compiled = tuple(compile_pattern(p) for p in self.patterns)

    @property
    def compiled(self) -> tuple[Any, ...]:
        """RE2 regexes, one per pattern, in order; each has `.search(text)`."""
        return self._compiled


class Hours(_Model):
    """Opening hours per weekday (empty list: closed), on public holidays, and the holiday calendar."""

    monday: list[TimeRange] = Field(default_factory=list)
    tuesday: list[TimeRange] = Field(default_factory=list)
    wednesday: list[TimeRange] = Field(default_factory=list)
    thursday: list[TimeRange] = Field(default_factory=list)
    friday: list[TimeRange] = Field(default_factory=list)
    saturday: list[TimeRange] = Field(default_factory=list)
    sunday: list[TimeRange] = Field(default_factory=list)
    on_holidays: list[TimeRange] = Field(default_factory=list)
    holidays: list[date] = Field(default_factory=list)
    closed_dates: list[date] = Field(default_factory=list, description="closed all day (Christmas, inventory...)")

    _split = field_validator("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                             "on_holidays", mode="before")(_ranges)

    def for_weekday(self, weekday: int) -> list[TimeRange]:
        ranges: list[TimeRange] = getattr(self, WEEKDAYS[weekday])
        return ranges

    def for_date(self, day: date) -> list[TimeRange]:
        if day in self.closed_dates:
            return []
        if day in self.holidays:
            return self.on_holidays
        return self.for_weekday(day.weekday())


class Address(_Model):
    street: str
    city: str
    neighborhood: str | None = None
    reference: str | None = None
    map_link: str | None = None


class Shipping(_Model):
    carriers: list[str] = Field(default_factory=list)
    local_city: str | None = None
    local_cost: int | None = None
    local_eta: str | None = None
    national_cost: int | None = None
    national_eta: str | None = None
    free_from: int | None = Field(default=None, description="order value from which shipping is free")
    notes: str | None = None


class PaymentMethod(_Model):
    name: str
    detail: str | None = None


class FAQ(_Rule):
    """A question the business answers the same way every time; `patterns` are RE2 regexes on normalised text."""

    question: str
    answer: str


class Trigger(_Rule):
    """Tenant-specific reasons to hand the conversation to a person (wholesale, invoices...)."""


class Wording(_Model):
    greeting: str
    farewell: str
    thanks: str
    refusal: str
    clarify: str
    handoff: str
    flood_notice: str
    open_now: str = "Ahora estamos abiertos (hoy {today})."
    closed_now: str = "En este momento estamos cerrados; abrimos {next_open}."


class ConsentSettings(_Model):
    """Opt-out / opt-in keywords beyond the built-in Spanish and English ones, and the one confirmation of each.

    A keyword of one word ("stop", "baja") counts only when it is the whole message (courtesies such as "por
    favor" or "gracias" around it aside); a phrase of several words ("no me escriban más") counts anywhere in the
    message unless a "no" stands just before it. Matching is on normalised text: case, accents and punctuation
    do not matter.
    """

    opt_out: list[str] = Field(default_factory=list, description="extra opt-out keywords or phrases")
    opt_in: list[str] = Field(default_factory=list, description="extra opt-in keywords or phrases")
    builtin: bool = Field(default=True, description="also use the built-in keywords (STOP, baja, START, alta...)")
    opted_out: str = ("Listo, no te enviaremos más mensajes. Si quieres volver a recibirlos, escríbenos ALTA. "
                      "Si nos escribes, te seguiremos respondiendo.")
    opted_in: str = "¡Listo! Volverás a recibir nuestros mensajes. Si quieres dejar de recibirlos, escríbenos BAJA."

    @field_validator("opt_out", "opt_in")
    @classmethod
    def _words(cls, v: list[str]) -> list[str]:
        for k in v:
            if not k.strip() or len(k) > 200:
                raise ValueError(f"consent keyword {k[:40]!r} must be 1 to 200 characters")
        return v


class AISettings(_Model):
    system_prompt: str
    model: str | None = None
    max_output_tokens: int = Field(default=180, ge=16, le=4096)
    temperature: float = Field(default=0.4, ge=0, le=2)
    timeout_s: float = Field(default=8.0, gt=0, le=60)
    daily_spend_cap_usd: float | None = Field(default=None, ge=0)
    knowledge: str = ""


_HOST = re.compile(r"^(?=.{1,253}$)[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+$")


class Links(_Model):
    """Where the AI's answers may link: exact host names (`la80.co`), each with its subdomains (`www.la80.co`).

    Empty (the default): the hosts named in the tenant's own knowledge (map link, FAQ answers, AI knowledge and
    system prompt). Any other link, a bare domain included, sends the customer the deterministic fallback.
    """

    allowed_hosts: list[str] = Field(default_factory=list)

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, v: list[str]) -> list[str]:
        out = [h.strip().lower().rstrip(".") for h in v]
        for h in out:
            if not _HOST.match(h):
                raise ValueError(f"{h!r} is not a host name like 'la80.co' (no scheme, path, port or user)")
        return out


class TemplateSpec(_Model):
    name: str
    language: str = "es"


class SenderFlags(_Model):
    mark_as_read: bool = True
    typing: bool = True


class NonTextRule(_Model):
    """What to do with a non-text message: a route, the intent it stands for, and optional fixed wording."""

    route: Route
    intent: Intent = "otro"
    text: str | None = None
    reason: str | None = None


class FlowRule(_Model):
    """What to do with a WhatsApp Flow's answer (`interactive.nfm_reply`): its fields go to the model (`ai`), to
    a person (`handoff`: the notifier tells the customer with `wording.handoff` and shows the people the
    fields), or the customer is thanked (`acknowledge`: `wording`, else `wording.thanks`). Never classified as
    text."""

    action: Literal["ai", "handoff", "acknowledge"] = "ai"
    wording: str | None = None


class Tenant(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    phone_number_id: str = Field(pattern=r"^\d{5,20}$")
    waba_id: str | None = Field(default=None, pattern=r"^\d{5,20}$", description="the WhatsApp Business Account "
                                "the number belongs to (the webhooks' entry.id): its template and account webhooks "
                                "reach this tenant (alerts, templates the sender stops using)")
    business_name: str
    language: str = "es"
    timezone: str = "America/Bogota"
    currency: str = "COP"
    hours: Hours
    address: Address
    shipping: Shipping = Field(default_factory=Shipping)
    payments: list[PaymentMethod] = Field(default_factory=list)
    faqs: list[FAQ] = Field(default_factory=list)
    synonyms: dict[str, list[str]] = Field(default_factory=dict, description="canonical word -> variants")
    wording: Wording
    consent: ConsentSettings = Field(default_factory=ConsentSettings)
    handoff_triggers: list[Trigger] = Field(default_factory=list)
    internal_numbers: list[str] = Field(default_factory=list)
    relay_to_internal: bool = True
    quick_replies: list[str] = Field(default_factory=list, max_length=30, description="ready answers the operator "
                                     "console offers beside its reply box")
    ai: AISettings
    links: Links = Field(default_factory=Links)
    tools: ToolsSettings = Field(default_factory=ToolsSettings, description="the AI tool calls (tenants/tools.py)")
    window_template: TemplateSpec | None = None
    sender: SenderFlags = Field(default_factory=SenderFlags)
    non_text: dict[str, NonTextRule] = Field(default_factory=dict, description="Meta type -> rule")
    interactive: dict[str, NonTextRule] = Field(default_factory=dict, description="button/list id -> rule")
    flows: dict[str, FlowRule] = Field(default_factory=dict, description="flow name -> rule; the name is the "
                                       "flow_token the Flow was sent with, or its part before the first ':', or "
                                       "nfm_reply.name; unlisted flows go to the model")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @field_validator("internal_numbers")
    @classmethod
    def _digits(cls, v: list[str]) -> list[str]:
        for n in v:
            if not re.fullmatch(r"\d{8,15}", n):
                raise ValueError("internal numbers are digits only, country code first (e.g. 573000000099)")
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
