"""A Graph API port that records instead of sending: what a replay sandbox's sender uses
(`WAPIPE_SENDER_DRY_RUN=true`), so replayed conversations reach no customer and cost nothing."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

log = logging.getLogger(__name__)


class RecordingGraph:
    """GraphPort: keeps every request body in memory and answers with a deterministic fake wamid."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def post(self, phone_number_id: str, body: dict[str, Any]) -> str | None:
        self.sent.append((phone_number_id, body))
        kind = body.get("type") or ("read" if body.get("status") == "read" else "?")
        log.info("dry run: %s for tenant %s recorded, not sent", kind, phone_number_id)
        if body.get("status") == "read":
            return None
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]
        return f"wamid.dryrun.{digest}"

    async def upload(self, phone_number_id: str, data: bytes, mime_type: str, filename: str | None) -> str:
        """UploadPort: nothing leaves; a fake media id per content."""
        log.info("dry run: upload of %d bytes (%s) for tenant %s recorded, not sent", len(data), mime_type,
                 phone_number_id)
        return f"dryrun.{hashlib.sha256(data).hexdigest()[:24]}"

    async def aclose(self) -> None:
        return None
