"""What understanding a piece of media yields, and the ports of the models that do it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol


class UnderstandingFailed(Exception):
    """A model or tool could not do its work. `transient` failures are worth retrying (timeouts, 5xx, 429)."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str | None  # ISO 639-1 ("es")
    model: str
    confidence: float | None = None  # probability of the detected language, when the model reports it
    duration_s: float | None = None  # of the audio


@dataclass(frozen=True)
class Receipt:
    """A payment receipt read from an image: what a person checks before confirming a payment."""

    wallet: str | None  # Nequi, Daviplata, Bancolombia, ...
    amount: Decimal | None
    currency: str | None
    reference: str | None
    date: date | None


class Transcriber(Protocol):
    """Speech to text. Raises UnderstandingFailed."""

    name: str

    async def transcribe(self, data: bytes, mime_type: str) -> Transcript: ...


class TextReader(Protocol):
    """The text printed in an image (OCR). Raises UnderstandingFailed."""

    async def read_text(self, data: bytes, mime_type: str) -> str: ...


class Describer(Protocol):
    """A short description of an image from a vision-capable model. Raises UnderstandingFailed."""

    async def describe(self, data: bytes, mime_type: str) -> str: ...
