"""A customer's side of a conversation, through the simulator: send as a signed webhook, see what the bot sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

DEMO_TENANT_ID = "100000000000001"


def tenant_id(tenant: str, tenants_dir: Path) -> str:
    """A tenant's phone_number_id from its name (config/tenants/<name>.yaml) or the id itself."""
    if tenant.isdigit():
        return tenant
    path = tenants_dir / f"{tenant}.yaml"
    if not path.is_file():
        raise ValueError(f"unknown tenant {tenant!r}: no {path}")
    doc = yaml.safe_load(path.read_text()) or {}
    return str(doc.get("phone_number_id") or DEMO_TENANT_ID)


@dataclass(frozen=True)
class Line:
    kind: str  # text, interactive, template, typing, read, ...
    text: str


@dataclass
class ChatSession:
    """Sends customer messages through POST /_sim/inbound and turns GET /_sim/messages into new lines."""

    client: httpx.Client
    wa_id: str
    phone_number_id: str = DEMO_TENANT_ID
    profile_name: str = "Cliente"
    mine: set[str] = field(default_factory=set)  # wamids of what the customer sent
    seen: set[str] = field(default_factory=set)
    reads_seen: int = 0

    def start(self) -> None:
        """Ignore what the bot sent before this session started."""
        doc = self._messages()
        self.seen = {str(m["id"]) for m in doc["messages"]}
        self.reads_seen = len(doc["reads"])

    def send(self, text: str) -> str:
        r = self.client.post("/_sim/inbound", json={"from": self.wa_id, "text": text, "profile_name":
                                                    self.profile_name, "phone_number_id": self.phone_number_id})
        r.raise_for_status()
        doc = r.json()
        if doc.get("ingress_status") != 200:
            raise RuntimeError(f"ingress answered {doc.get('ingress_status')} to the webhook")
        wamid = str(doc["message_id"])
        self.mine.add(wamid)
        return wamid

    def _messages(self) -> dict[str, list[dict[str, object]]]:
        r = self.client.get("/_sim/messages", params={"to": self.wa_id})
        r.raise_for_status()
        doc: dict[str, list[dict[str, object]]] = r.json()
        return doc

    def poll(self) -> list[Line]:
        doc = self._messages()
        lines: list[Line] = []
        reads = doc["reads"]
        for read in reads[self.reads_seen:]:
            if read.get("message_id") in self.mine:
                lines.append(Line("typing" if read.get("typing") else "read", ""))
        self.reads_seen = len(reads)
        for m in doc["messages"]:
            mid = str(m["id"])
            if mid in self.seen or m.get("phone_number_id") != self.phone_number_id:
                continue
            self.seen.add(mid)
            lines.append(Line(str(m.get("kind") or "text"), str(m.get("text") or _describe(m))))
        return lines


def _describe(message: dict[str, object]) -> str:
    body = message.get("body")
    if isinstance(body, dict) and isinstance(body.get("template"), dict):
        return f"[template {body['template'].get('name')}]"
    return f"[{message.get('kind')}]"
