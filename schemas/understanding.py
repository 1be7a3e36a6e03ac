"""What the media stage adds to a customer's media message: where the bytes are and what they say.

`MessageReceived.payload.understanding` carries it on `wa.inbound.understood.v1`; on `wa.inbound.v1` it is
absent. `status` is `understood` when the bytes were downloaded (parts that failed are in `failures`) and
`unavailable` when they could not be had (`reason` says why); the message goes on either way.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReceiptFields(_Model):
    wallet: str | None = None
    amount: str | None = Field(default=None, description="decimal number as text, e.g. 150000 or 48500.00")
    currency: str | None = None
    reference: str | None = None
    date: dt.date | None = None


class MediaUnderstanding(_Model):
    status: Literal["understood", "unavailable"]
    reason: str | None = Field(default=None, description="why the media is unavailable: expired, too_large, ...")
    object_key: str | None = Field(default=None, description="object store key {tenant}/{sha256}")
    sha256: str | None = None
    size: int | None = None
    transcript: str | None = None
    language: str | None = None
    confidence: float | None = None
    duration_s: float | None = None
    model: str | None = None
    ocr_text: str | None = None
    description: str | None = None
    receipt: ReceiptFields | None = None
    document_text: str | None = None
    document_pages: int | None = None
    failures: list[str] = Field(default_factory=list)
