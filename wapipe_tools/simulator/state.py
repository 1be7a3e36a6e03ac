"""Everything the simulator remembers: its settings, what the business sent, windows, buckets and faults.

One `SimState` per app; tests build their own and read it directly or through `/_sim/*`. The rate buckets read
`clock` (monotonic seconds), so a test can pass a clock it moves by hand and check a bucket's exact behaviour.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from wapipe_tools.simulator.media import MediaStore

FaultKind = Literal["5xx", "timeout", "slow", "code"]


@dataclass
class Fault:
    """One injected failure: applies to the next `count` calls, or to a `fraction` of calls, or both."""

    kind: FaultKind
    status: int = 503
    code: int = 131000
    delay_s: float = 10.0
    count: int | None = None
    fraction: float | None = None
    to: str | None = None
    applies_to: Literal["messages", "status", "all", "upload"] = "messages"


@dataclass
class LLMConfig:
    latency_s: float = 0.0
    fail_rate: float = 0.0
    fail_status: int = 500
    fail_next: int = 0
    timeout: bool = False
    model: str = "gpt-4o-mini"


@dataclass
class Bucket:
    """A token bucket: `capacity` burst, refilled at `rate` tokens per second."""

    capacity: float
    rate: float
    tokens: float
    at: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class SentMessage:
    id: str
    phone_number_id: str
    to: str
    kind: str
    text: str | None
    body: dict[str, Any]
    at: float
    callback_data: str | None = None

    @property
    def media(self) -> dict[str, Any] | None:
        """What a media message sent: its kind, the uploaded `id` or the `link`, caption and file name."""
        obj = self.body.get(self.kind)
        if self.kind not in ("image", "document", "audio", "video", "sticker") or not isinstance(obj, dict):
            return None
        return {"kind": self.kind, "id": obj.get("id"), "link": obj.get("link"), "caption": obj.get("caption"),
                "filename": obj.get("filename")}

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "phone_number_id": self.phone_number_id, "to": self.to, "kind": self.kind,
                "text": self.text, "timestamp": self.at, "biz_opaque_callback_data": self.callback_data,
                "media": self.media, "context": self.body.get("context"), "body": self.body}


@dataclass
class SimState:
    access_token: str = "dev-access-token"
    app_secret: str = "dev-app-secret-not-for-production"
    llm_api_key: str | None = "dev-openai-key"
    ingress_url: str | None = "http://127.0.0.1:8080/webhook"
    waba_id: str = "100000000000000"
    display_phone_number: str = "15550000001"
    status_webhooks: bool = True
    status_delay_s: float = 0.05
    enforce_window: bool = True
    number_rate: float = 80.0  # msg/s per phone number (130429 beyond)
    number_burst: float = 80.0
    pair_interval_s: float = 6.0  # 1 msg per 6 s per customer (131056 beyond) ...
    pair_burst: float = 10.0  # ... after a small burst
    seed: int = 7
    llm: LLMConfig = field(default_factory=LLMConfig)
    media: MediaStore = field(default_factory=MediaStore)
    faults: list[Fault] = field(default_factory=list)
    sent: list[SentMessage] = field(default_factory=list)
    reads: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)  # what `POST /{phone_number_id}/media` took
    windows: dict[tuple[str, str], float] = field(default_factory=dict)
    number_buckets: dict[str, Bucket] = field(default_factory=dict)
    pair_buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    webhook_log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=1000))
    calls: int = 0
    rng: random.Random = field(default_factory=random.Random)
    clock: Callable[[], float] = time.monotonic  # what the rate buckets read: seconds, only differences matter

    def __post_init__(self) -> None:
        self.rng.seed(self.seed)

    def reset(self) -> None:
        self.faults.clear()
        self.sent.clear()
        self.reads.clear()
        self.uploads.clear()
        self.windows.clear()
        self.number_buckets.clear()
        self.pair_buckets.clear()
        self.webhook_log.clear()
        self.llm = LLMConfig()
        self.media.clear()
        self.calls = 0
        self.rng.seed(self.seed)

    def open_window(self, phone_number_id: str, user: str, at: float | None = None) -> None:
        self.windows[(phone_number_id, user)] = time.time() if at is None else at

    def window_open(self, phone_number_id: str, user: str) -> bool:
        at = self.windows.get((phone_number_id, user))
        return at is not None and time.time() - at < 24 * 3600

    def take_number(self, phone_number_id: str, now: float | None = None) -> bool:
        """One send from this number: False when its throughput bucket is empty (Meta's 130429)."""
        now = self.clock() if now is None else now
        b = self.number_buckets.get(phone_number_id)
        if b is None:
            b = self.number_buckets[phone_number_id] = Bucket(self.number_burst, self.number_rate,
                                                              self.number_burst, now)
        return b.take(now)

    def take_pair(self, phone_number_id: str, user: str, now: float | None = None) -> bool:
        """One send from this number to this customer: False when their pair bucket is empty (Meta's 131056)."""
        now = self.clock() if now is None else now
        key = (phone_number_id, user)
        b = self.pair_buckets.get(key)
        if b is None:
            b = self.pair_buckets[key] = Bucket(self.pair_burst, 1.0 / self.pair_interval_s, self.pair_burst, now)
        return b.take(now)

    def next_fault(self, to: str | None, is_status: bool, upload: bool = False) -> Fault | None:
        """The fault that hits this call, if any; consumes one use of a counted fault. Uploads meet only the
        faults meant for them (`applies_to="upload"`), and those hit nothing else."""
        for f in list(self.faults):
            if (f.applies_to == "upload") != upload:
                continue
            if f.applies_to == "messages" and is_status or f.applies_to == "status" and not is_status:
                continue
            if f.to and f.to != to:
                continue
            if f.fraction is not None and self.rng.random() >= f.fraction:
                continue
            if f.count is not None:
                f.count -= 1
                if f.count <= 0:
                    self.faults.remove(f)
            return f
        return None

    def messages_to(self, to: str | None = None) -> list[SentMessage]:
        return [m for m in self.sent if to is None or m.to == to]
